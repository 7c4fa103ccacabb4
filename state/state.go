// Package state is Vow's own state store: the durable record of what Vow
// itself did and knows, kept apart from the databases Vow inspects.
//
// A Store sits on either PostgreSQL (for shared, multi-instance deployments)
// or a local SQLite file (for a single instance and for development). Both
// dialects carry the same schema, evolved by versioned SQL migrations that
// are embedded in the binary (migrations/sqlite, migrations/postgres) and
// applied by [Open]. On PostgreSQL the migrations run under a session-level
// advisory lock, so several Vow instances may start at once against the same
// database.
//
// The first schema version holds store metadata (a stable store ID) and an
// append-only event log ([Event]). Requests, consent, audit and jobs are
// added by later migrations.
package state

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" database/sql driver
)

// Dialect names returned by [Store.Dialect].
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

// ErrInvalid is wrapped by every error caused by invalid input, such as an
// event without a kind or an unusable store URL. Test for it with errors.Is.
var ErrInvalid = errors.New("invalid input")

// ErrNotFound is wrapped by lookups of something the store does not hold.
var ErrNotFound = errors.New("not found")

// defaultConnectTimeout bounds each attempt to connect to PostgreSQL when the
// URL sets no connect_timeout of its own, so that an unreachable host gives
// an error instead of hanging.
const defaultConnectTimeout = 10 * time.Second

// migrationLockID is the PostgreSQL advisory lock key held while migrations
// run; it differs from goose's default so that other goose users of the same
// database do not wait on Vow, nor Vow on them.
const migrationLockID int64 = 0x766f775f6d696772 // "vow_migr"

// appendLockID is the PostgreSQL advisory lock key that serialises appends
// to the event log, so that sequence order equals commit order.
const appendLockID int64 = 0x766f775f6576656e // "vow_even"

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Store is an open connection to Vow's state database. It is safe for
// concurrent use by multiple goroutines.
type Store struct {
	db       *sql.DB
	dialect  string
	provider *goose.Provider
	logger   *slog.Logger
	secret   string // password to scrub from error messages, if any

	mu          sync.Mutex
	beforeClose []func(context.Context)
	appends     appender
	appendStmt  *sql.Stmt // SQLite's append statement, prepared on first use
}

// Open connects to the state database named by url, applies any pending
// migrations and returns the ready Store.
//
// url is either a PostgreSQL URL (postgres://… or postgresql://…) or a
// SQLite database: a file path, sqlite:PATH or file:PATH. For SQLite the
// parent directory is created if missing, and every connection uses
// journal_mode=WAL, busy_timeout=5000 and foreign_keys=ON.
//
// logger receives migration progress; nil discards it. Errors never contain
// the password of the URL.
func Open(ctx context.Context, url string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	target, err := parseURL(url)
	if err != nil {
		return nil, err
	}
	var s *Store
	switch target.dialect {
	case DialectPostgres:
		s, err = openPostgres(ctx, target.dsn, logger)
	default:
		s, err = openSQLite(ctx, target.dsn, logger)
	}
	if err != nil {
		return nil, err
	}
	if err := s.init(ctx, target); err != nil {
		_ = s.db.Close()
		return nil, err
	}
	if s.dialect == DialectSQLite {
		// Prepared now, on the one connection open. Prepared first inside
		// a transaction it took a second connection (its own schema parse
		// and pragmas: 2 ms of a CLI process) and was prepared again on the
		// transaction's.
		if _, err := s.sqliteAppendStmt(ctx); err != nil {
			_ = s.db.Close()
			return nil, fmt.Errorf("state: open %s: prepare the audit log's append: %w", target.display, err)
		}
	}
	return s, nil
}

// target is a parsed store URL.
type target struct {
	dialect string
	dsn     string // postgres URL, or SQLite file path
	display string // what errors may show: the URL with its password masked
}

var (
	schemeRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)
	kvDSNRE  = regexp.MustCompile(`^\s*(host|hostaddr|port|user|password|dbname|sslmode)\s*=`)
)

// parseURL decides the dialect of a store URL.
func parseURL(raw string) (target, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return target{}, fmt.Errorf("state: open: empty store URL: %w", ErrInvalid)
	}
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		return target{dialect: DialectPostgres, dsn: s, display: maskURL(s)}, nil
	case strings.HasPrefix(lower, "sqlite://"):
		s = s[len("sqlite://"):]
	case strings.HasPrefix(lower, "sqlite:"):
		s = s[len("sqlite:"):]
	case strings.HasPrefix(lower, "file://"):
		s = s[len("file://"):]
	case strings.HasPrefix(lower, "file:"):
		s = s[len("file:"):]
	case schemeRE.MatchString(s):
		scheme := schemeRE.FindStringSubmatch(s)[1]
		return target{}, fmt.Errorf("state: open %s: unsupported scheme %q (want postgres://, postgresql://, sqlite:PATH or a file path): %w",
			maskURL(s), scheme, ErrInvalid)
	case kvDSNRE.MatchString(s):
		return target{}, fmt.Errorf("state: open: key=value connection strings are not supported, use a postgres:// URL: %w", ErrInvalid)
	}
	if s == "" {
		return target{}, fmt.Errorf("state: open %q: empty SQLite path: %w", raw, ErrInvalid)
	}
	if strings.ContainsAny(s, "?\x00") {
		return target{}, fmt.Errorf("state: open %q: SQLite path must not contain '?' or NUL: %w", s, ErrInvalid)
	}
	return target{dialect: DialectSQLite, dsn: s, display: s}, nil
}

// maskURL replaces the password of a URL, if any, with "xxxxx". Strings that
// do not parse as URLs are reduced to their scheme so that nothing secret
// can leak through them.
func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return maskUserinfo(raw)
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

var (
	userinfoRE = regexp.MustCompile(`(://[^/?#@:\s]*:)[^/?#\s]*@`)
	passwordRE = regexp.MustCompile(`(?i)(password=)[^&\s]*`)
)

// maskUserinfo masks "user:password@" and "password=…" in a string that is
// not a well-formed URL, such as an error message quoting one.
func maskUserinfo(s string) string {
	s = userinfoRE.ReplaceAllString(s, "${1}xxxxx@")
	return passwordRE.ReplaceAllString(s, "${1}xxxxx")
}

func openPostgres(ctx context.Context, dsn string, logger *slog.Logger) (*Store, error) {
	display := maskURL(dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx redacts passwords in parse errors on a best-effort basis only:
		// show its reason only when the password is known and scrubbed.
		reason := maskUserinfo(err.Error())
		if u, uerr := url.Parse(dsn); uerr == nil {
			pw, _ := u.User.Password()
			reason = scrub(reason, pw)
		}
		return nil, fmt.Errorf("state: open %s: invalid PostgreSQL URL: %s: %w", display, scrub(reason, ""), ErrInvalid)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	// The audit log's append reads the head of the chain after taking the
	// append lock, which sees what committed meanwhile only under READ
	// COMMITTED: a database or role defaulting to REPEATABLE READ would
	// chain two entries to one head. Vow's sessions use READ COMMITTED
	// whatever the server's default.
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["default_transaction_isolation"] = "read committed"
	s := &Store{
		db:      stdlib.OpenDB(*cfg),
		dialect: DialectPostgres,
		logger:  logger,
		secret:  cfg.Password,
	}
	if err := s.db.PingContext(ctx); err != nil {
		_ = s.db.Close()
		return nil, s.wrap(err, "open %s: connect", display)
	}
	return s, nil
}

func openSQLite(ctx context.Context, path string, logger *slog.Logger) (*Store, error) {
	memory := path == ":memory:"
	if !memory {
		// Vow's state holds who asked for what: only its owner reads it.
		// SQLite gives the -wal and -shm files the database file's mode.
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("state: open %s: create directory: %w", path, err)
			}
		}
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("state: open %s: %w", path, err)
		}
		err = f.Chmod(0o600)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("state: open %s: %w", path, err)
		}
	}
	// _txlock=immediate makes every transaction take the write lock at
	// BEGIN, so concurrent writers wait (busy_timeout) instead of failing
	// when a read transaction later tries to write. secure_delete zeroes
	// what a delete or update frees, so an erased person's identity is
	// not left in the file's free space.
	if err := registerFunctions(); err != nil {
		return nil, fmt.Errorf("state: open %s: %w", path, err)
	}
	dsn := path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(ON)&_pragma=secure_delete(ON)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("state: open %s: %w", path, err)
	}
	if memory {
		// Every connection to ":memory:" is a separate, empty database.
		db.SetMaxOpenConns(1)
		db.SetConnMaxIdleTime(0)
		db.SetConnMaxLifetime(0)
	}
	// The first connection to a new file switches it to WAL, which needs
	// the file to itself and does not wait for a busy one: several opening
	// it at once (instances starting together) take turns, as migrations
	// do.
	unlock := func() {}
	if !memory {
		if unlock, err = flock(ctx, path+".lock"); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("state: open %s: lock: %w", path, err)
		}
	}
	err = db.PingContext(ctx)
	unlock()
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("state: open %s: %w", path, err)
	}
	return &Store{db: db, dialect: DialectSQLite, logger: logger}, nil
}

// init runs the migrations and seeds the store metadata.
func (s *Store) init(ctx context.Context, t target) error {
	dir := "migrations/" + s.dialect
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return fmt.Errorf("state: open: migrations: %w", err)
	}
	opts := []goose.ProviderOption{
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(slog.New(debugHandler{s.logger.Handler()})),
	}
	gooseDialect := goose.DialectSQLite3
	if s.dialect == DialectPostgres {
		gooseDialect = goose.DialectPostgres
		// Retry every second for up to five minutes while another instance
		// migrates the same database.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 300))
		if err != nil {
			return fmt.Errorf("state: open: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gooseDialect, s.db, fsys, opts...)
	if err != nil {
		return fmt.Errorf("state: open: migrations: %w", err)
	}
	s.provider = p

	unlock, err := lockFile(ctx, t)
	if err != nil {
		return err
	}
	results, err := p.Up(ctx)
	unlock()
	if err != nil {
		return s.wrap(err, "open %s: migrate", t.display)
	}
	if len(results) > 0 {
		last := results[len(results)-1].Source.Version
		s.logger.InfoContext(ctx, "state: migrated", "dialect", s.dialect, "applied", len(results), "version", last)
	}

	id, err := newID()
	if err != nil {
		return fmt.Errorf("state: open: generate store id: %w", err)
	}
	// ON CONFLICT DO NOTHING keeps the first instance's ID when several
	// open a new store at once.
	if _, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO meta (key, value) VALUES ('store_id', ?) ON CONFLICT (key) DO NOTHING`), id); err != nil {
		return s.wrap(err, "open %s: seed store id", t.display)
	}
	return s.chainLegacy(ctx)
}

// lockFile serialises migrations of one SQLite file across goroutines and
// processes; PostgreSQL uses goose's advisory session lock instead.
func lockFile(ctx context.Context, t target) (unlock func(), err error) {
	if t.dialect != DialectSQLite || t.dsn == ":memory:" {
		return func() {}, nil
	}
	unlock, err = flock(ctx, t.dsn+".lock")
	if err != nil {
		return nil, fmt.Errorf("state: open %s: migration lock: %w", t.display, err)
	}
	return unlock, nil
}

// newID returns 32 random hex digits.
func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// BeforeClose registers fn to run when Close is called, while the store is
// still open, such as sealing the audit log a command appended to.
func (s *Store) BeforeClose(fn func(context.Context)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beforeClose = append(s.beforeClose, fn)
}

// Close runs the functions registered with BeforeClose (each given ten
// seconds), then closes the database connections. The Store must not be
// used after.
func (s *Store) Close() error {
	s.mu.Lock()
	fns := s.beforeClose
	s.beforeClose = nil
	s.mu.Unlock()
	for _, fn := range fns {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		fn(ctx)
		cancel()
	}
	s.closeAppends()
	if s.appendStmt != nil {
		_ = s.appendStmt.Close()
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("state: close: %w", err)
	}
	return nil
}

// InTx runs fn in one transaction, committed when fn returns nil and
// rolled back otherwise: a change and the audit entry that records it
// (AppendTx) commit together, in one commit. fn must use only tx: on
// SQLite the transaction holds the write lock. Under a context from
// [Store.Hold], the transaction is fenced: it fails with ErrLeaseLost,
// writing nothing, unless the lease is still this holder's.
func (s *Store) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err, "begin")
	}
	defer func() { _ = tx.Rollback() }()
	if err := s.fence(ctx, tx); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return s.wrap(err, "commit")
	}
	return nil
}

// LockTx serialises the transactions that name the same key until tx
// ends: check-then-write sequences (a limit counted, then raised) that a
// unique index cannot guard. SQLite transactions already take the write
// lock at BEGIN, so only PostgreSQL needs it: a transaction-scoped
// advisory lock in a key space of its own (the two-key form), so it never
// meets the store's single-key locks.
func (s *Store) LockTx(ctx context.Context, tx *sql.Tx, key string) error {
	if s.dialect != DialectPostgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(`+strconv.Itoa(keyedLockSpace)+`, hashtext($1))`, key); err != nil {
		return s.wrap(err, "lock %s", key)
	}
	return nil
}

// keyedLockSpace is the first key of LockTx's advisory locks.
const keyedLockSpace = 0x766f77 // "vow"

// Shred makes what was just deleted or overwritten in the store (an
// erased person's identities) unrecoverable from its files, as far as the
// database allows. On SQLite, secure_delete already zeroes the space a
// change frees in the database file; Shred checkpoints the write-ahead
// log into it and truncates the log, which would otherwise keep the old
// pages until it is reused. On PostgreSQL it does nothing: deleted rows
// stay in the table files until VACUUM reuses their space, which
// autovacuum does on its own schedule (see docs/architecture.md).
func (s *Store) Shred(ctx context.Context) error {
	if s.dialect != DialectSQLite {
		return nil
	}
	// The pragma reports a reader in the way in its result, not as an
	// error: busy=1 leaves the old pages in the log.
	var busy, logFrames, checkpointed int64
	if err := s.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &checkpointed); err != nil {
		return s.wrap(err, "shred")
	}
	if busy != 0 {
		return fmt.Errorf("state: shred: a reader kept the write-ahead log from being truncated (%d of %d frames checkpointed); the next erasure or restart truncates it", checkpointed, logFrames)
	}
	return nil
}

// Dialect reports the database behind the store: [DialectPostgres] or
// [DialectSQLite].
func (s *Store) Dialect() string { return s.dialect }

// Version returns the current schema version: the highest migration applied.
func (s *Store) Version(ctx context.Context) (int64, error) {
	v, err := s.provider.GetDBVersion(ctx)
	if err != nil {
		return 0, s.wrap(err, "version")
	}
	return v, nil
}

// ID returns the store's identifier: 32 hex digits chosen at random when the
// store was first created and never changed after.
func (s *Store) ID(ctx context.Context) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'store_id'`).Scan(&id)
	if err != nil {
		return "", s.wrap(err, "store id")
	}
	return id, nil
}

// DB returns the store's connection pool. Capability packages (dsr,
// retention, consent, …) keep their own tables in the store, created by the
// migrations of this package, and query them through DB with statements
// passed through [Store.Rebind]. The pool is owned by the Store.
func (s *Store) DB() *sql.DB { return s.db }

// Rebind turns the ? placeholders of a query into $1, $2, … on PostgreSQL,
// so that one query text serves both dialects. Queries passed here must not
// contain a literal '?'.
func (s *Store) Rebind(query string) string { return s.rebind(query) }

// Wrap returns "state: <what>: err" on one line with the store's password
// scrubbed, for errors of queries made through [Store.DB].
func (s *Store) Wrap(err error, format string, args ...any) error {
	return s.wrap(err, format, args...)
}

// Meta returns the value of a metadata key, and whether it is set.
func (s *Store) Meta(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT value FROM meta WHERE key = ?`), key).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, s.wrap(err, "read meta %s", key)
	}
	return v, true, nil
}

// InitMeta sets a metadata key unless it is set already, and returns the
// value it holds afterwards: value, or the one an earlier call (perhaps of
// another instance) stored first.
func (s *Store) InitMeta(ctx context.Context, key, value string) (string, error) {
	if _, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`), key, value); err != nil {
		return "", s.wrap(err, "set meta %s", key)
	}
	v, _, err := s.Meta(ctx, key)
	return v, err
}

// SwapMeta sets key to value if it holds old, or if it is absent when old
// is "", and reports whether it did: a compare-and-swap, so that two
// instances changing one setting at once cannot both win.
func (s *Store) SwapMeta(ctx context.Context, key, old, value string) (bool, error) {
	var res sql.Result
	var err error
	if old == "" {
		res, err = s.db.ExecContext(ctx, s.rebind(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`), key, value)
	} else {
		res, err = s.db.ExecContext(ctx, s.rebind(`UPDATE meta SET value = ? WHERE key = ? AND value = ?`), value, key, old)
	}
	if err != nil {
		return false, s.wrap(err, "set %s", key)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.wrap(err, "set %s", key)
	}
	return n == 1, nil
}

// rebind turns the ? placeholders of a query into $1, $2, … on PostgreSQL.
// Queries passed here must not contain a literal '?'.
func (s *Store) rebind(query string) string {
	if s.dialect != DialectPostgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// wrap returns "state: <what>: err" on one line, with the store's password
// scrubbed from the message. errors.Is and errors.As still see err.
func (s *Store) wrap(err error, format string, args ...any) error {
	msg := "state: " + fmt.Sprintf(format, args...) + ": " + err.Error()
	return &storeError{msg: scrub(msg, s.secret), err: err}
}

// scrub masks every occurrence of secret (plain or URL-escaped) in msg and
// folds msg onto one line.
func scrub(msg, secret string) string {
	if secret != "" {
		msg = strings.ReplaceAll(msg, secret, "xxxxx")
		for _, esc := range []string{url.QueryEscape(secret), url.PathEscape(secret)} {
			if esc != secret {
				msg = strings.ReplaceAll(msg, esc, "xxxxx")
			}
		}
	}
	return strings.Join(strings.Fields(msg), " ")
}

type storeError struct {
	msg string
	err error
}

func (e *storeError) Error() string { return e.msg }
func (e *storeError) Unwrap() error { return e.err }

// debugHandler lowers goose's routine Info messages ("no migrations to run")
// to Debug, so a normal start is quiet; Store logs its own summary instead.
type debugHandler struct{ slog.Handler }

func lower(l slog.Level) slog.Level {
	if l > slog.LevelDebug && l < slog.LevelWarn {
		return slog.LevelDebug
	}
	return l
}

func (h debugHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.Handler.Enabled(ctx, lower(l))
}

func (h debugHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Level = lower(r.Level)
	return h.Handler.Handle(ctx, r)
}

func (h debugHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return debugHandler{h.Handler.WithAttrs(as)}
}

func (h debugHandler) WithGroup(name string) slog.Handler {
	return debugHandler{h.Handler.WithGroup(name)}
}
