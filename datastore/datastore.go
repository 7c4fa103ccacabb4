// Package datastore opens the connector for a system a policy declares. It
// resolves the system's connection reference (an environment variable, a
// secret file, or for SQLite a path next to the policy file) into a DSN, so
// secrets never appear in the policy, and picks the connector by kind.
package datastore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/connector/mysql"
	"github.com/vowprivacy/vow/connector/postgres"
	"github.com/vowprivacy/vow/connector/sqlite"
	"github.com/vowprivacy/vow/policy"
)

// ErrNoDSN is returned when a system's connection reference resolves to
// nothing: the variable is unset or the file is missing or empty.
var ErrNoDSN = errors.New("no DSN")

// Resolver turns connection references into DSNs. The zero value reads the
// process environment and resolves relative paths against the working
// directory.
type Resolver struct {
	// BaseDir is where relative paths (connection.path, connection.file)
	// are resolved; the policy file's directory.
	BaseDir string
	// LookupEnv reads an environment variable; os.LookupEnv when nil.
	// Tests set it to avoid touching the process environment.
	LookupEnv func(string) (string, bool)
}

// DSN returns the DSN of a system.
func (r Resolver) DSN(sys *policy.System) (string, error) {
	return r.resolve("system "+sys.Name, sys.Connection)
}

// ReplicaDSNs returns the DSNs of a system's replicas, in policy order.
func (r Resolver) ReplicaDSNs(sys *policy.System) ([]string, error) {
	var out []string
	for i, c := range sys.Replicas {
		if c.Path != "" {
			return nil, fmt.Errorf("system %s: replica %d: a replica is found by env or file, not path: %w", sys.Name, i+1, ErrNoDSN)
		}
		dsn, err := r.resolve(fmt.Sprintf("system %s: replica %d", sys.Name, i+1), c)
		if err != nil {
			return nil, err
		}
		out = append(out, dsn)
	}
	return out, nil
}

// resolve reads a connection reference; what names it in errors.
func (r Resolver) resolve(what string, c policy.Connection) (string, error) {
	switch {
	case c.Env != "":
		lookup := r.LookupEnv
		if lookup == nil {
			lookup = os.LookupEnv
		}
		v, ok := lookup(c.Env)
		if !ok || strings.TrimSpace(v) == "" {
			return "", fmt.Errorf("%s: environment variable %s is not set (export it with the database's DSN): %w", what, c.Env, ErrNoDSN)
		}
		return strings.TrimSpace(v), nil
	case c.File != "":
		b, err := os.ReadFile(r.path(c.File))
		if err != nil {
			return "", fmt.Errorf("%s: read DSN file %s: %v: %w", what, r.path(c.File), errors.Unwrap(err), ErrNoDSN)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("%s: DSN file %s is empty: %w", what, r.path(c.File), ErrNoDSN)
		}
		return v, nil
	case c.Path != "":
		return r.path(c.Path), nil
	}
	return "", fmt.Errorf("%s: connection names no env, file or path: %w", what, ErrNoDSN)
}

func (r Resolver) path(p string) string {
	if filepath.IsAbs(p) || r.BaseDir == "" {
		return p
	}
	return filepath.Join(r.BaseDir, p)
}

// Open resolves the system's DSN and opens its connector.
func (r Resolver) Open(ctx context.Context, sys *policy.System) (connector.SQL, error) {
	dsn, err := r.DSN(sys)
	if err != nil {
		return nil, err
	}
	return OpenDSN(ctx, sys.Kind, dsn)
}

// OpenReplicas opens a connector to each of the system's replicas; on an
// error it closes those it opened.
func (r Resolver) OpenReplicas(ctx context.Context, sys *policy.System) ([]connector.SQL, error) {
	if len(sys.Replicas) > 0 && sys.Kind != "mysql" && sys.Kind != "mariadb" {
		return nil, fmt.Errorf("system %s: replicas are watched only on mysql systems (a PostgreSQL primary reports its standbys itself)", sys.Name)
	}
	dsns, err := r.ReplicaDSNs(sys)
	if err != nil {
		return nil, err
	}
	var out []connector.SQL
	for i, dsn := range dsns {
		c, err := OpenDSN(ctx, sys.Kind, dsn)
		if err != nil {
			for _, o := range out {
				_ = o.Close()
			}
			return nil, fmt.Errorf("system %s: replica %d: %w", sys.Name, i+1, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// OpenDSN opens a connector of the given kind. An empty kind is inferred
// from the DSN.
func OpenDSN(ctx context.Context, kind, dsn string) (connector.SQL, error) {
	if kind == "" {
		kind = KindOf(dsn)
	}
	var (
		c   connector.SQL
		err error
	)
	switch kind {
	case "postgres":
		c, err = postgres.Open(ctx, dsn)
	case "mysql", "mariadb":
		c, err = mysql.Open(ctx, dsn)
	case "sqlite":
		c, err = sqlite.Open(ctx, dsn)
	default:
		return nil, fmt.Errorf("unknown datastore kind %q (use postgres, mysql or sqlite)", kind)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// KindOf infers a datastore kind from a DSN: postgres:// and postgresql://
// URLs, mysql:// URLs or driver-form DSNs (user@tcp(host)/db), and anything
// else is taken for a SQLite file.
func KindOf(dsn string) string {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return "postgres"
	case strings.HasPrefix(dsn, "mysql://"), strings.HasPrefix(dsn, "mariadb://"), strings.Contains(dsn, "@tcp("), strings.Contains(dsn, "@unix("):
		return "mysql"
	case strings.Contains(dsn, "host=") && strings.Contains(dsn, "dbname="):
		return "postgres"
	}
	return "sqlite"
}
