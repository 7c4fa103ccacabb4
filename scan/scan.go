// Package scan reads samples of the tables of the datastores a policy
// declares and runs the content detectors (package detect) over their
// values: personal data found by what it is, not by what its column is
// called — a card number in a JSON column, an email in a log line, a
// plaintext token where the policy says tokens are encrypted.
//
// A scan only reads. It reads a bounded sample of each table (PostgreSQL's
// TABLESAMPLE on a large table, windows of the primary key elsewhere, or
// every row with Options.Full), in batches with a pause between them, and
// keeps per column only counts and one masked example, so its memory does
// not grow with the table. What the findings mean for a policy is for the
// drift package to say.
package scan

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/detect"
	"github.com/vowprivacy/vow/policy"
)

// ErrNoSuchTable: Options.Only names a system or table that does not
// exist.
var ErrNoSuchTable = errors.New("no such table")

// Opener opens the connector of a system; datastore.Resolver is one.
type Opener interface {
	Open(ctx context.Context, sys *policy.System) (connector.SQL, error)
}

// Options bound a scan.
type Options struct {
	// Sample is how many rows of each table are read; 10,000 when 0.
	Sample int
	// Full reads every row instead of a sample.
	Full bool
	// Batch is how many rows one statement reads: when 0, 1,000 for a
	// sample and 20,000 for a full scan, where a round trip per thousand
	// rows cost more than the reading.
	Batch int
	// Pause is slept between batches, leaving room to the workload.
	Pause time.Duration
	// MaxValue is how many bytes of one value are scanned; 64 KiB when 0.
	MaxValue int
	// Only, when set, limits the scan to these tables ("system:table", or
	// "system" for all of a system's tables).
	Only []string
	// Progress, when set, is called before each table is read.
	Progress func(Progress)
}

func (o Options) sample() int { return cmpOr(o.Sample, 10_000) }
func (o Options) batch() int {
	if o.Full {
		return cmpOr(o.Batch, 20_000)
	}
	return cmpOr(o.Batch, 1_000)
}
func (o Options) maxValue() int { return cmpOr(o.MaxValue, 64<<10) }

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// Progress says where a scan is.
type Progress struct {
	System, Table string
	// Table is the Index-th of Tables of all systems (1-based).
	Index, Tables int
}

// Report is what a scan found.
type Report struct {
	Systems []System `json:"systems"`
	// Sample is the rows per table asked for; 0 with Full.
	Sample int  `json:"sample,omitempty"`
	Full   bool `json:"full,omitempty"`
}

// System is what a scan found in one system.
type System struct {
	Name   string  `json:"name"`
	Kind   string  `json:"kind"`
	Tables []Table `json:"tables"`
	// Error says why the system could not be scanned, or a table of it.
	Error string `json:"error,omitempty"`
}

// Table is what a scan found in one table.
type Table struct {
	Name string `json:"name"`
	// Method says how the rows were chosen: "all rows", "every row
	// (--full)", "TABLESAMPLE SYSTEM (2.5%)", "12 windows of the key",
	// "the first rows".
	Method   string        `json:"method"`
	Rows     int           `json:"rows"`     // rows read
	Estimate int64         `json:"estimate"` // rows in the table (an estimate on large tables)
	Columns  []Column      `json:"columns"`
	Duration time.Duration `json:"duration_ns"`
	Error    string        `json:"error,omitempty"`
}

// Column is what a scan found in one column.
type Column struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Values int    `json:"values"` // non-null values scanned
	// Opaque is how many of them look encrypted, encoded or binary.
	Opaque   int              `json:"opaque,omitempty"`
	Findings []detect.Finding `json:"findings,omitempty"`
}

// Run scans every table of every database system of p (webhook systems
// have no tables to read). A system or table that cannot be read is
// reported in the Report, not as an error, so one run covers everything it
// can; the error is for a cancelled context.
func Run(ctx context.Context, p *policy.Policy, o Opener, opt Options) (*Report, error) {
	rep := &Report{Full: opt.Full}
	if !opt.Full {
		rep.Sample = opt.sample()
	}
	type target struct {
		sys    *policy.System
		c      connector.SQL
		schema *connector.Schema
	}
	var targets []target
	defer func() {
		for _, t := range targets {
			t.c.Close()
		}
	}()
	total := 0
	for _, sys := range p.Systems {
		if sys.Kind == "webhook" || !selected(opt.Only, sys.Name, "") {
			continue
		}
		rs := System{Name: sys.Name, Kind: sys.Kind}
		c, err := o.Open(ctx, sys)
		if err != nil {
			rs.Error = err.Error()
			rep.Systems = append(rep.Systems, rs)
			continue
		}
		schema, err := c.Introspect(ctx)
		if err != nil {
			c.Close()
			rs.Error = err.Error()
			rep.Systems = append(rep.Systems, rs)
			continue
		}
		targets = append(targets, target{sys, c, schema})
		rep.Systems = append(rep.Systems, rs)
		for _, t := range schema.Tables {
			if selected(opt.Only, sys.Name, t.Name) {
				total++
			}
		}
	}
	// A --table that names nothing is a mistake, not a clean scan.
	for _, o := range opt.Only {
		sys, table, hasTable := strings.Cut(o, ":")
		found := false
		for _, rs := range rep.Systems {
			found = found || rs.Name == sys && (!hasTable || rs.Error != "")
		}
		for _, tg := range targets {
			found = found || tg.sys.Name == sys && hasTable && tg.schema.Table(table) != nil
		}
		if !found {
			return rep, fmt.Errorf("scan: %q names no table of the policy's databases (write system:table, or system for all its tables): %w", o, ErrNoSuchTable)
		}
	}
	i := 0
	for _, tg := range targets {
		rs := &rep.Systems[slices.IndexFunc(rep.Systems, func(s System) bool { return s.Name == tg.sys.Name })]
		for ti := range tg.schema.Tables {
			t := &tg.schema.Tables[ti]
			if !selected(opt.Only, tg.sys.Name, t.Name) {
				continue
			}
			i++
			if opt.Progress != nil {
				opt.Progress(Progress{System: tg.sys.Name, Table: t.Name, Index: i, Tables: total})
			}
			rt, err := ScanTable(ctx, tg.c, t, opt)
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			if err != nil {
				rt.Error = err.Error()
			}
			rs.Tables = append(rs.Tables, rt)
		}
	}
	return rep, nil
}

func selected(only []string, sys, table string) bool {
	if len(only) == 0 {
		return true
	}
	for _, o := range only {
		s, t, hasTable := strings.Cut(o, ":")
		if s != sys {
			continue
		}
		if !hasTable || table == "" || strings.EqualFold(t, table) {
			return true
		}
	}
	return false
}

// Scannable reports whether a column of this database type can hold what
// the detectors look for: text, JSON and binary columns. Numbers, dates,
// booleans and UUIDs cannot hold an email or a token, and integer columns
// are left out on purpose: they are mostly keys, and a 16-digit key can
// pass a card number's checksum.
func Scannable(dbType string) bool {
	t := strings.ToLower(dbType)
	if i := strings.IndexAny(t, "( "); i >= 0 && !strings.HasPrefix(t, "character") && !strings.HasPrefix(t, "double") {
		t = t[:i]
	}
	switch {
	case strings.Contains(t, "char"), strings.Contains(t, "text"), strings.Contains(t, "clob"),
		strings.HasPrefix(t, "json"), t == "xml", t == "citext", t == "string",
		strings.Contains(t, "blob"), t == "bytea", strings.Contains(t, "binary"), t == "inet", t == "cidr",
		t == "enum", t == "set", t == "":
		// SQLite columns may be declared with no type, and hold anything.
		return true
	}
	return false
}

// ScanTable reads a sample of one table (or every row, with opt.Full) and
// runs the detectors over its scannable columns. It only reads: on
// PostgreSQL and MySQL each batch is a read-only transaction (PostgreSQL's
// with lock and statement time limits), on SQLite the connection is
// query-only while it reads.
func ScanTable(ctx context.Context, c connector.SQL, t *connector.Table, opt Options) (rt Table, err error) {
	start := time.Now()
	rt.Name = t.Name
	var cols []connector.Column
	for _, col := range t.Columns {
		if Scannable(col.Base()) {
			cols = append(cols, col)
		}
	}
	acc := make([]detect.Column, len(cols))
	p := newPipeline(len(cols), opt.maxValue())
	defer func() {
		if perr := p.close(acc); perr != nil && err == nil {
			err = perr
		}
		rt.Duration = time.Since(start)
		for i, col := range cols {
			rt.Columns = append(rt.Columns, Column{Name: col.Name, Type: col.Type, Values: acc[i].Values(), Opaque: acc[i].Opaque(), Findings: acc[i].Findings()})
		}
	}()
	if len(cols) == 0 {
		rt.Method = "no text columns"
		return rt, nil
	}
	r := &reader{c: c, d: c.Dialect(), t: t, cols: cols, p: p, opt: opt}
	if r.d.Kind() == "sqlite" {
		release, err := r.queryOnly(ctx)
		if err != nil {
			return rt, err
		}
		defer release()
	}
	est, err := r.estimate(ctx)
	if err != nil {
		return rt, err
	}
	rt.Estimate = est
	err = r.read(ctx, est, &rt)
	return rt, err
}

// reader reads the rows of one table in batches.
type reader struct {
	c    connector.SQL
	d    connector.Dialect
	t    *connector.Table
	cols []connector.Column
	p    *pipeline
	opt  Options
	rows int
	conn *sql.Conn // SQLite: the query-only connection every read uses
}

// queryOnly takes one SQLite connection for the table's reads and makes
// it refuse writes until released.
func (r *reader) queryOnly(ctx context.Context) (func(), error) {
	conn, err := r.c.DB().Conn(ctx)
	if err != nil {
		return nil, r.c.Translate(ctx, "scan "+r.t.Name, err)
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA query_only = ON"); err != nil {
		conn.Close()
		return nil, r.c.Translate(ctx, "scan "+r.t.Name, err)
	}
	r.conn = conn
	return func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA query_only = OFF")
		conn.Close()
	}, nil
}

// estimate is how many rows the table has, as far as the scan needs to
// know: an exact count up to a little past the sample (counting a large
// table whole would cost more than the scan), and beyond that the
// database's estimate — on PostgreSQL summed over a partitioned table's
// partitions, whose parent has none.
func (r *reader) estimate(ctx context.Context) (int64, error) {
	limit := int64(r.opt.sample()) + 1
	var n int64
	err := r.readOnly(ctx, func(q querier) error {
		return q.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM "+r.d.Ident(r.t.Name)+" LIMIT "+strconv.FormatInt(limit, 10)+") x").Scan(&n)
	})
	if err != nil {
		return 0, r.c.Translate(ctx, "count rows of "+r.t.Name, err)
	}
	if n < limit {
		return n, nil
	}
	var est sql.NullFloat64
	switch r.d.Kind() {
	case "postgres":
		err = r.c.DB().QueryRowContext(ctx, `SELECT sum(greatest(c.reltuples, 0)) FROM pg_class c
WHERE c.oid = to_regclass($1) OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass($1))`, r.d.Ident(r.t.Name)).Scan(&est)
	case "mysql":
		err = r.c.DB().QueryRowContext(ctx, "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", r.t.Name).Scan(&est)
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, r.c.Translate(ctx, "estimate rows of "+r.t.Name, err)
	}
	return max(n, int64(est.Float64)), nil
}

// querier is what a batch reads through: a read-only transaction or the
// query-only SQLite connection.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// readOnly runs fn in a read-only transaction (PostgreSQL, MySQL) or on
// the query-only connection (SQLite). A batch never waits long for a lock
// nor runs for ever on PostgreSQL: a scan must not queue behind, or
// before, the application's own statements.
func (r *reader) readOnly(ctx context.Context, fn func(q querier) error) error {
	if r.conn != nil {
		return fn(r.conn)
	}
	if r.d.Kind() == "sqlite" {
		return fn(r.c.DB())
	}
	tx, err := r.c.DB().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if r.d.Kind() == "postgres" {
		if _, err := tx.ExecContext(ctx, "SET LOCAL lock_timeout = '5s'; SET LOCAL statement_timeout = '10min'"); err != nil {
			return err
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// pageKey is what the table is read in order of: SQLite's rowid (every
// row has one, never NULL, and it comes back as the integer it is, where
// a DATETIME key comes back in another text form than it is stored in),
// else the primary key, else PostgreSQL's ctid; nil when there is none
// (MySQL without a key: one statement).
func (r *reader) pageKey(ctx context.Context) []string {
	switch r.d.Kind() {
	case "sqlite":
		// WITHOUT ROWID tables have none.
		var n int
		if err := r.readOnly(ctx, func(q querier) error {
			return q.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT rowid FROM "+r.d.Ident(r.t.Name)+" LIMIT 1)").Scan(&n)
		}); err == nil {
			return []string{"rowid"}
		}
	case "postgres":
		if len(r.t.PrimaryKey) == 0 && !r.t.Partitioned {
			return []string{"ctid"}
		}
	}
	return r.t.PrimaryKey
}

func (r *reader) read(ctx context.Context, est int64, rt *Table) error {
	defer func() { rt.Rows = r.rows }()
	sample := r.opt.sample()
	key := r.pageKey(ctx)
	switch {
	case r.opt.Full:
		rt.Method = "every row (--full)"
		if len(key) == 0 {
			return r.stream(ctx, "", 0)
		}
		return r.keyset(ctx, key, -1)
	case est <= int64(sample):
		rt.Method = "all rows"
		if len(key) == 0 {
			return r.stream(ctx, "", sample)
		}
		return r.keyset(ctx, key, sample)
	case r.d.Kind() == "postgres" && est > int64(sample)*3/2:
		// SYSTEM reads whole pages at random: far cheaper than BERNOULLI,
		// which reads the whole table, at the price of rows that sit
		// together coming together. Half again more than needed, as the
		// estimate may be off; the LIMIT keeps the sample bounded.
		pct := float64(sample) / float64(est) * 150
		rt.Method = fmt.Sprintf("TABLESAMPLE SYSTEM (%.3g%%)", pct)
		return r.stream(ctx, " TABLESAMPLE SYSTEM ("+strconv.FormatFloat(pct, 'f', 6, 64)+")", sample)
	case len(key) == 1 && (key[0] == "rowid" || r.integerKey(key[0])):
		windows := (sample + r.opt.batch() - 1) / r.opt.batch()
		rt.Method = fmt.Sprintf("%d windows of the key", windows)
		return r.windows(ctx, key[0], windows, sample)
	case len(key) > 0:
		rt.Method = "the first rows by key"
		return r.keyset(ctx, key, sample)
	default:
		rt.Method = "the first rows"
		return r.stream(ctx, "", sample)
	}
}

func (r *reader) integerKey(col string) bool {
	c := r.t.Column(col)
	return c != nil && integerType.MatchString(strings.ToLower(c.Base()))
}

var integerType = regexp.MustCompile(`^((tiny|small|medium|big)?int(eger|[248])?|(small|big)?serial)\b`)

func (r *reader) selectList(extra []string) string {
	names := make([]string, 0, len(extra)+len(r.cols))
	for _, k := range extra {
		names = append(names, r.d.Column(k))
	}
	for _, c := range r.cols {
		names = append(names, r.d.Column(c.Name))
	}
	return strings.Join(names, ", ")
}

// stream reads up to limit rows (every row when limit is 0) in one
// statement; the rows are not held, so memory stays flat.
func (r *reader) stream(ctx context.Context, sample string, limit int) error {
	q := "SELECT " + r.selectList(nil) + " FROM " + r.d.Ident(r.t.Name) + sample
	if limit > 0 {
		q += " LIMIT " + strconv.Itoa(limit)
	}
	_, err := r.query(ctx, q, nil, 0)
	return err
}

// ErrNoProgress: reading a table in key order did not move forward — its
// key's values do not come back as they are stored, so the next batch
// would start before the last one ended. The table is reported as not
// scanned rather than read for ever.
var ErrNoProgress = errors.New("reading in key order does not advance")

// keyset reads the table in key order, a batch at a time, until limit
// rows (every row when limit is negative).
func (r *reader) keyset(ctx context.Context, key []string, limit int) error {
	var last []any
	seen := map[string]bool{}
	for {
		n := r.opt.batch()
		if limit >= 0 {
			n = min(n, limit-r.rows)
			if n <= 0 {
				return nil
			}
		}
		q := "SELECT " + r.selectList(key) + " FROM " + r.d.Ident(r.t.Name)
		if last != nil {
			q += " WHERE " + r.rowValue(key) + " > (" + r.d.Params(1, len(key)) + ")"
		}
		q += " ORDER BY " + r.orderBy(key) + " LIMIT " + strconv.Itoa(n)
		got, err := r.query(ctx, q, last, len(key))
		if err != nil {
			return err
		}
		if got.rows < n {
			return nil
		}
		k := fmt.Sprint(got.lastKey...)
		if seen[k] {
			return fmt.Errorf("scan: %s by (%s): %w", r.t.Name, strings.Join(key, ", "), ErrNoProgress)
		}
		seen[k] = true
		last = got.lastKey
		if err := r.pause(ctx); err != nil {
			return err
		}
	}
}

// windows reads batches that start at evenly spread points of an integer
// key's range, each at a random offset: a sample of the whole table, not
// of its oldest rows, by index range scans only. A window starts after
// the last row the one before read, so no row is counted twice, and the
// windows stop at the sample's size.
func (r *reader) windows(ctx context.Context, key string, windows, sample int) error {
	var lo, hi sql.NullInt64
	k := r.d.Column(key)
	if err := r.readOnly(ctx, func(q querier) error {
		return q.QueryRowContext(ctx, "SELECT min("+k+"), max("+k+") FROM "+r.d.Ident(r.t.Name)).Scan(&lo, &hi)
	}); err != nil {
		return r.c.Translate(ctx, "key range of "+r.t.Name, err)
	}
	if !lo.Valid {
		return nil
	}
	stride := max(1, (hi.Int64-lo.Int64+1)/int64(windows))
	next := lo.Int64
	for w := range windows {
		from := max(next, lo.Int64+int64(w)*stride+rand.Int64N(stride))
		n := min(r.opt.batch(), sample-r.rows)
		if from > hi.Int64 || n <= 0 {
			break
		}
		q := "SELECT " + r.selectList([]string{key}) + " FROM " + r.d.Ident(r.t.Name) + " WHERE " + k + " >= " + r.d.Param(1) + " ORDER BY " + k + " LIMIT " + strconv.Itoa(n)
		got, err := r.query(ctx, q, []any{from}, 1)
		if err != nil {
			return err
		}
		if got.rows == 0 {
			break
		}
		if v, ok := asInt64(got.lastKey[0]); ok {
			next = v + 1
		}
		if err := r.pause(ctx); err != nil {
			return err
		}
	}
	return nil
}

func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case []byte:
		n, err := strconv.ParseInt(string(x), 10, 64)
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}

func (r *reader) rowValue(key []string) string {
	cols := make([]string, len(key))
	for i, k := range key {
		cols[i] = r.d.Column(k)
	}
	return "(" + strings.Join(cols, ", ") + ")"
}

func (r *reader) orderBy(key []string) string {
	cols := make([]string, len(key))
	for i, k := range key {
		cols[i] = r.d.Column(k)
	}
	return strings.Join(cols, ", ")
}

type batch struct {
	rows    int
	lastKey []any
}

// query runs q and feeds every value of the scanned columns to the
// detectors; the first nkey columns are the key, kept from the last row.
func (r *reader) query(ctx context.Context, q string, args []any, nkey int) (batch, error) {
	var b batch
	err := r.readOnly(ctx, func(qr querier) error {
		var err error
		b, err = r.rows1(ctx, qr, q, args, nkey)
		return err
	})
	return b, err
}

func (r *reader) rows1(ctx context.Context, qr querier, q string, args []any, nkey int) (batch, error) {
	var b batch
	rows, err := qr.QueryContext(ctx, q, args...)
	if err != nil {
		return b, r.c.Translate(ctx, "scan "+r.t.Name, err)
	}
	defer rows.Close()
	keys := make([]any, nkey)
	raw := make([]sql.RawBytes, len(r.cols))
	dest := make([]any, nkey+len(r.cols))
	for i := range keys {
		dest[i] = &keys[i]
	}
	for i := range raw {
		dest[nkey+i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return b, r.c.Translate(ctx, "scan "+r.t.Name, err)
		}
		r.p.add(raw)
		b.rows++
		r.rows++
	}
	if err := rows.Err(); err != nil {
		return b, r.c.Translate(ctx, "scan "+r.t.Name, err)
	}
	if nkey > 0 && b.rows > 0 {
		// database/sql copies []byte into an *any: these outlive the rows.
		b.lastKey = keys
	}
	return b, nil
}

func (r *reader) pause(ctx context.Context) error {
	if r.opt.Pause <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(r.opt.Pause):
		return nil
	}
}
