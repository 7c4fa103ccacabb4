package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/scaffold"
	"github.com/vowprivacy/vow/scan"
)

func (a *app) initCommand() *cobra.Command {
	var from, out, system, envVar, org string
	var force, noScan bool
	var sample int
	cmd := &cobra.Command{
		Use:   "init --from DSN",
		Short: "Write a starter vow.yaml from an existing database",
		Long: `Init reads the structure of a database (tables, columns, types, keys, indexes
and delete rules) and writes a starter policy with a data category guessed for
every column. Each guess is marked "review".

It also reads a sample of each table (--sample rows; --no-scan to skip) and
looks at the values: a column whose values are mostly emails is an email
column whatever it is called, one named email_template that holds no email
is not, and the keys of a JSON column that hold personal data are declared
under its json:. Each guess says what it rests on (the name, the values, or
both) and whether it is likely or uncertain.

Requests follow ownership, so the starter only says what the schema shows:
which reference owns a table's rows (relation: owner, the others mentions),
staff tables as subject employee, identities only on the table of the people
themselves, composite foreign keys as one relation, and a unique key for a
table without a primary key. Where the schema cannot tell, a "# review:"
comment says what to decide. The file says starter: true: vow check reports
the decisions left (retention periods, erasure strategies) as warnings, and no
command acts on the policy until that line is deleted. The DSN is used once to read the schema; the
policy refers to it through an environment variable instead.`,
		Example: `  vow init --from "postgres://app@localhost/app" --env APP_DATABASE_URL
  vow init --from "mysql://root@127.0.0.1:3306/shop" -o shop.yaml
  vow init --from ./app.db            # a SQLite file
  vow init --from "$DATABASE_URL" -o -  # print to stdout`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return errors.New("--from is required: the DSN of the database to read")
			}
			if out != "-" && !force {
				if _, err := os.Stat(out); err == nil {
					return fmt.Errorf("%s exists; pass --force to overwrite it or -o to write elsewhere", out)
				}
			}
			kind := datastore.KindOf(from)
			ctx, cancel := contextTimeout(cmd, 30*time.Second)
			defer cancel()
			c, err := datastore.OpenDSN(ctx, kind, from)
			if err != nil {
				return err
			}
			defer c.Close()
			schema, err := c.Introspect(ctx)
			if err != nil {
				return err
			}
			opts := scaffold.Options{System: system, Kind: kind, Organization: org, ConnectionKey: "env", ConnectionValue: envVar}
			if !noScan {
				content, err := a.sampleTables(cmd.Context(), c, schema, sample)
				if err != nil {
					return err
				}
				opts.Content = func(table, column string) scan.Column { return content[table+"."+column] }
			}
			if kind == "sqlite" {
				opts.ConnectionKey, opts.ConnectionValue = "path", sqlitePath(from, out)
			}
			src, err := scaffold.Policy(schema, opts)
			if err != nil {
				return err
			}
			if out == "-" {
				_, err = a.stdout.Write(src)
				return err
			}
			if err := os.WriteFile(out, src, 0o644); err != nil {
				return fmt.Errorf("write policy: %w", err)
			}
			fmt.Fprintf(a.stdout, "wrote %s: %d tables from the %s database, %d points marked review. Review them; vow check --live %s lists the decisions left (retention, erasure), and no command acts on the file until you delete its line starter: true\n",
				out, len(schema.Tables), kind, bytes.Count(src, []byte("# review")), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "DSN of the database to read (postgres://…, mysql://… or a SQLite file)")
	cmd.Flags().StringVarP(&out, "output", "o", "vow.yaml", "where to write the policy; - for stdout")
	cmd.Flags().StringVar(&system, "system", "app", "name of the system in the policy")
	cmd.Flags().StringVar(&envVar, "env", "APP_DATABASE_URL", "environment variable the policy will read the DSN from")
	cmd.Flags().StringVar(&org, "org", "", "your company's name")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	cmd.Flags().BoolVar(&noScan, "no-scan", false, "guess from names and types only; read no values")
	cmd.Flags().IntVar(&sample, "sample", 2_000, "rows read from each table to look at the values")
	return cmd
}

// sampleTables scans a sample of every table, by "table.column".
func (a *app) sampleTables(ctx context.Context, c connector.SQL, schema *connector.Schema, sample int) (map[string]scan.Column, error) {
	out := map[string]scan.Column{}
	for i := range schema.Tables {
		rt, err := scan.ScanTable(ctx, c, &schema.Tables[i], scan.Options{Sample: max(1, sample)})
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			// That table's guesses rest on names alone; the others still
			// get their values looked at.
			a.logger.Warn("init: could not read a sample; guessing its columns from their names", "table", schema.Tables[i].Name, "err", err)
			continue
		}
		for _, col := range rt.Columns {
			out[rt.Name+"."+col.Name] = col
		}
	}
	return out, nil
}

// sqlitePath makes a SQLite path relative to the policy file's directory,
// since that is how the policy resolves it.
func sqlitePath(dsn, out string) string {
	p := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	abs, err := filepath.Abs(p)
	if err != nil || out == "-" {
		return p
	}
	dir, err := filepath.Abs(filepath.Dir(out))
	if err != nil {
		return abs
	}
	if rel, err := filepath.Rel(dir, abs); err == nil {
		return rel
	}
	return abs
}

func contextTimeout(cmd *cobra.Command, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(cmd.Context(), d)
}
