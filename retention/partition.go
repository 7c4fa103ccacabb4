package retention

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Partitions are the fastest delete: when a rule's table is range-
// partitioned on the rule's timestamp, a partition whose every possible
// row has expired — its upper bound is at or before the cutoff, so not
// even a row written after the check could be younger — is detached and
// dropped in milliseconds, where deleting its rows one batch at a time
// takes minutes and fills the write-ahead log. The rows left (the
// partition the cutoff falls in) are purged row by row as before.
//
// Only where nothing else decides a row's fate: a delete rule with no
// where, on a table no declared relation reaches and with no hold of any
// kind (a table hold, or a subject's legal hold), so that every row of
// the partition is one the rule would delete anyway.

// partition is one partition of a rule's table.
type partition struct {
	name  string // as the database names it; schema-qualified on PostgreSQL
	bound string // the upper bound, as the catalog writes it
	lower string // PostgreSQL: the lower bound ("" for MINVALUE)
	// est is the statistics' estimate of its rows (PostgreSQL reltuples,
	// InnoDB's TABLE_ROWS); -1 when the partition was never analysed.
	est int64
}

// wholePartitionsWhy says why a rule's expired rows cannot go a partition
// at a time ("" when they can).
func (j *job) wholePartitionsWhy() string {
	switch {
	case j.action != ActionDelete:
		return "the rule anonymises"
	case j.rule.Where != "":
		return "the rule has a where"
	case !j.live.Partitioned:
		return "the table is not partitioned"
	case j.d.Kind() == "postgres" && (len(j.live.PartitionKey) != 1 || !strings.EqualFold(j.live.PartitionKey[0], j.rule.From)):
		// MySQL partitions by a function of the column too (TO_DAYS); each
		// partition's expression is checked as it is listed.
		return "the table is not partitioned by " + j.rule.From + " alone"
	case len(j.children) > 0 || len(j.owned) > 0:
		return "other rows depend on its rows"
	case j.holdReason != "" || j.holdCond:
		return "some of its rows may be held"
	case j.d.Kind() != "postgres" && j.d.Kind() != "mysql":
		return "the database has no partitions"
	case j.d.Kind() == "mysql" && j.live.Column(j.rule.From).Nullable:
		// MySQL keeps rows whose partitioning value is NULL in the lowest
		// partition, and the rule never takes them.
		return j.rule.From + " may be NULL, and MySQL keeps such rows in the lowest partition"
	case j.d.Kind() == "mysql" && !mysqlTimeType.MatchString(strings.ToLower(j.live.Column(j.rule.From).Base())):
		return j.rule.From + " is not a date or time column"
	}
	return ""
}

// wholePartitions lists the partitions of the rule's table whose every
// row has expired, oldest first.
func (j *job) wholePartitions(ctx context.Context, c *conn) ([]partition, error) {
	if j.wholePartitionsWhy() != "" {
		return nil, nil
	}
	db := c.c.DB()
	var out []partition
	j.keptParts = nil
	switch j.d.Kind() {
	case "postgres":
		typ := strings.ToLower(j.live.Column(j.rule.From).Base())
		if !pgTimeType.MatchString(typ) {
			return nil, nil
		}
		rows, err := db.QueryContext(ctx, `SELECT n.nspname, c.relname, pg_get_expr(c.relpartbound, c.oid), c.reltuples::bigint
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE i.inhparent = to_regclass($1) ORDER BY 3`, j.d.Ident(j.table.Name))
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var schema, name, bound string
			var est int64
			if err := rows.Scan(&schema, &name, &bound, &est); err != nil {
				return nil, err
			}
			lower, upper, ok := pgBounds(bound)
			if !ok {
				continue // DEFAULT, MAXVALUE, or a bound of another form
			}
			var expired bool
			if err := db.QueryRowContext(ctx, "SELECT CAST($1 AS "+typ+") <= $2", upper, j.cutoffAt.Arg).Scan(&expired); err != nil {
				return nil, err
			}
			j.pgTimeType = typ
			if expired {
				out = append(out, partition{name: schema + "." + name, lower: lower, bound: upper, est: est})
			}
		}
		return out, rows.Err()
	case "mysql":
		rows, err := db.QueryContext(ctx, `SELECT PARTITION_NAME, PARTITION_METHOD, PARTITION_EXPRESSION, PARTITION_DESCRIPTION, TABLE_ROWS
FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND PARTITION_NAME IS NOT NULL
ORDER BY PARTITION_ORDINAL_POSITION`, j.table.Name)
		if err != nil {
			return nil, err
		}
		type part struct {
			name, method, expr, desc string
			est                      int64
		}
		var parts []part
		for rows.Next() {
			var p part
			var expr, desc sql.NullString
			var est sql.NullInt64
			if err := rows.Scan(&p.name, &p.method, &expr, &desc, &est); err != nil {
				rows.Close()
				return nil, err
			}
			// InnoDB's TABLE_ROWS is a sample that can be off by an order
			// of magnitude (184 for 5,000 rows, measured): MySQL's
			// partitions are counted instead (est -1), before the brake
			// and, exactly, once their rows are swapped out.
			p.expr, p.desc, p.est = expr.String, desc.String, -1
			parts = append(parts, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for _, p := range parts {
			q, arg, ok := mysqlExpiredQuery(p.method, p.expr, p.desc, j.rule.From, j.cutoffAt.Param)
			if !ok {
				j.keptParts = append(j.keptParts, p.name) // MAXVALUE, or a bound of another form
				continue
			}
			var expired sql.NullBool
			if err := db.QueryRowContext(ctx, q, arg, j.cutoffAt.Arg).Scan(&expired); err != nil {
				return nil, err
			}
			if expired.Valid && expired.Bool {
				out = append(out, partition{name: p.name, bound: p.desc, est: p.est})
			} else {
				j.keptParts = append(j.keptParts, p.name)
			}
		}
		return out, nil
	}
	return nil, nil
}

// mysqlTimeType are the MySQL column types whose partition bounds compare
// with the cutoff as the rule does.
var mysqlTimeType = regexp.MustCompile(`^(date|datetime|timestamp)(\(\d\))?$`)

// pgTimeType are the column types whose partition bounds are compared
// with the cutoff: dates and timestamps.
var pgTimeType = regexp.MustCompile(`^(date|timestamp(\(\d\))?( with(out)? time zone)?|timestamptz)$`)

// pgRangeBound is a range partition's bound of one column:
// FOR VALUES FROM ('…') TO ('…').
var pgRangeBound = regexp.MustCompile(`^FOR VALUES FROM \((?:'((?:[^']|'')*)'|(MINVALUE))\) TO \('((?:[^']|'')*)'\)$`)

// pgBounds returns the text of a range partition's lower bound ("" for
// MINVALUE) and upper bound.
func pgBounds(bound string) (lower, upper string, ok bool) {
	m := pgRangeBound.FindStringSubmatch(bound)
	if m == nil {
		return "", "", false
	}
	return strings.ReplaceAll(m[1], "''", "'"), strings.ReplaceAll(m[3], "''", "'"), true
}

// mysqlFunctions are the partitioning functions whose order follows the
// column's: a partition whose bound is at or below f(cutoff) holds only
// rows with f(value) < f(cutoff), hence value < cutoff.
var mysqlFunctions = map[string]bool{"to_days": true, "to_seconds": true, "unix_timestamp": true, "year": true}

var mysqlFuncExpr = regexp.MustCompile("^([a-z_]+)\\(`([^`]+)`\\)$")

// mysqlExpiredQuery returns a statement that says whether a partition of
// the given method, expression and upper bound (its description) holds
// only values before the cutoff (the statement's second argument, written
// by its placeholder cutoff: connector.Instant).
func mysqlExpiredQuery(method, expr, desc, column, cutoff string) (string, any, bool) {
	if desc == "" || strings.EqualFold(desc, "MAXVALUE") {
		return "", nil, false
	}
	switch strings.ToUpper(method) {
	case "RANGE COLUMNS":
		if !strings.EqualFold(strings.Trim(expr, "`"), column) || strings.Contains(desc, ",") {
			return "", nil, false
		}
		lit := desc
		if strings.HasPrefix(lit, "'") && strings.HasSuffix(lit, "'") && len(lit) >= 2 {
			lit = strings.ReplaceAll(lit[1:len(lit)-1], "''", "'")
		}
		return "SELECT CAST(? AS DATETIME(6)) <= " + cutoff, lit, true
	case "RANGE":
		m := mysqlFuncExpr.FindStringSubmatch(strings.ToLower(expr))
		if m == nil || !mysqlFunctions[m[1]] || !strings.EqualFold(m[2], column) {
			return "", nil, false
		}
		return "SELECT CAST(? AS DECIMAL(30,6)) <= " + m[1] + "(" + cutoff + ")", desc, true
	}
	return "", nil, false
}

// dropStatement is what the plan shows for dropping a partition.
func (j *job) dropStatement(p partition) string {
	if j.d.Kind() == "postgres" {
		return "ALTER TABLE " + j.tbl() + " DETACH PARTITION " + j.d.Ident(p.name) + "; DROP TABLE " + j.d.Ident(p.name) + " -- every row before " + p.bound
	}
	return "ALTER TABLE " + j.tbl() + " EXCHANGE PARTITION " + j.d.Column(p.name) + " WITH TABLE (an empty copy, then dropped); ALTER TABLE " + j.tbl() + " DROP PARTITION " + j.d.Column(p.name) + " -- every row before " + p.bound
}

// errPartitionBusy: the partition could not be locked in time; its rows
// are left to the row-by-row purge. errPartitionKept: its rows were moved
// out and dropped, but rows written into it since keep it (MySQL); they
// are left to the batches.
var (
	errPartitionBusy = errors.New("partition busy")
	errPartitionKept = errors.New("partition emptied but kept")
)

// discard ends a connection with session settings of its own instead of
// returning it to the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

// partitionLockWait bounds how long dropping a partition waits for its
// lock: while it waits, the application's statements on the table queue
// behind it, so it gives up soon and leaves the rows to batches.
const partitionLockWait = 500 * time.Millisecond

// dropPartition removes one whole partition and returns its rows: the
// statistics' estimate (exact false), since counting them would read
// every row the drop saves reading (at 10M rows, seconds against
// milliseconds) — or, for a partition never analysed, a count under the
// lock that drops them.
func (j *job) dropPartition(ctx context.Context, c *conn, p partition) (n int64, exact bool, err error) {
	return rowsOf(p, func(count *int64) error { return j.drop(ctx, c, p, count) })
}

// dropLeftover drops what a stopped run moved out of the table, and
// returns its rows as dropPartition does.
func (j *job) dropLeftover(ctx context.Context, c *conn, p partition) (n int64, exact bool, err error) {
	return rowsOf(p, func(count *int64) error { return j.dropPurged(ctx, c.c.DB(), p.name, count) })
}

// rowsOf runs drop and returns p's rows: its estimate, or, when it has
// none, the count drop takes as it removes them (exact).
func rowsOf(p partition, drop func(count *int64) error) (int64, bool, error) {
	if p.est >= 0 {
		return p.est, false, drop(nil)
	}
	// Not "return n, true, drop(&n)": Go leaves open whether n is read
	// before or after the call.
	var n int64
	err := drop(&n)
	return n, true, err
}

// drop removes partition p; with count set, it counts p's rows first,
// where nothing can add to them.
func (j *job) drop(ctx context.Context, c *conn, p partition, count *int64) error {
	db := c.c.DB()
	switch j.d.Kind() {
	case "postgres":
		// Two transactions. The first detaches the partition and renames
		// it to a name that marks it as Vow's to drop: catalog changes
		// only, so the table's lock — which the application's statements
		// queue behind — is held for a millisecond. The second drops it;
		// that commit truncates its files (tens of milliseconds per
		// million rows) under a lock on the detached table alone. A run
		// that stops in between leaves the renamed table, which the next
		// run drops first (leftovers).
		schema, _, _ := strings.Cut(p.name, ".")
		purged := j.purgeName()
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("SET LOCAL lock_timeout = '%dms'", partitionLockWait.Milliseconds())); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "ALTER TABLE "+j.tbl()+" DETACH PARTITION "+j.d.Ident(p.name)); err != nil {
			if isLockTimeout(err) {
				return errPartitionBusy
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, "ALTER TABLE "+j.d.Ident(p.name)+" RENAME TO "+j.d.Ident(purged)); err != nil {
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		return j.dropPurged(ctx, db, schema+"."+purged, count)
	case "mysql":
		// MySQL's DDL commits on its own, and DROP PARTITION waits for
		// its metadata lock without a bound we can set per statement
		// that EXCHANGE lacks: the rows are moved out with EXCHANGE
		// PARTITION into an empty table of the same shape (an atomic
		// swap, bounded by lock_wait_timeout) and dropped with it; the
		// emptied partition is dropped last.
		conn, err := db.Conn(ctx)
		if err != nil {
			return err
		}
		// The session's short lock wait must not go back to the pool with
		// it: the connection is discarded.
		defer discard(conn)
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("SET SESSION lock_wait_timeout = %d", max(1, int(partitionLockWait.Seconds())))); err != nil {
			return err
		}
		tmp := j.d.Ident(j.purgeName())
		if _, err := conn.ExecContext(ctx, "CREATE TABLE "+tmp+" LIKE "+j.tbl()); err != nil {
			return err
		}
		keep := false // the swapped-out rows, when they could not be counted
		defer func() {
			if !keep {
				_, _ = conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+tmp)
			}
		}()
		if _, err := conn.ExecContext(ctx, "ALTER TABLE "+tmp+" REMOVE PARTITIONING"); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, "ALTER TABLE "+j.tbl()+" EXCHANGE PARTITION "+j.d.Column(p.name)+" WITH TABLE "+tmp); err != nil {
			if isLockTimeout(err) {
				return errPartitionBusy
			}
			return err
		}
		if count != nil {
			if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+tmp).Scan(count); err != nil {
				// Dropping them now would remove rows no report counts:
				// they stay, out of the table, for an operator to see.
				keep = true
				return fmt.Errorf("the rows of partition %s were moved to table %s and could not be counted there (the next run counts and drops them): %w", p.name, tmp, err)
			}
		}
		// A row written into the partition since the exchange (an old
		// timestamp, late) would go with DROP PARTITION unreported: then
		// the partition stays, and the batches below take the row.
		var late int64
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+j.tbl()+" PARTITION ("+j.d.Column(p.name)+")").Scan(&late); err != nil || late > 0 {
			// The swapped-out rows go with the copy; the partition stays,
			// with what arrived since, for the batches.
			if err != nil {
				j.e.logger().Warn("retention: a purged partition was left in place", "partition", p.name, "err", err)
			}
			return errPartitionKept
		}
		if _, err := conn.ExecContext(ctx, "ALTER TABLE "+j.tbl()+" DROP PARTITION "+j.d.Column(p.name)); err != nil {
			// The rows are out (in tmp, dropped below): the partition is
			// left empty, which is harmless.
			j.e.logger().Warn("retention: a purged partition could not be dropped; it is left empty", "partition", p.name, "err", err)
		}
		return nil
	}
	return fmt.Errorf("retention: %s has no partitions to drop", j.d.Kind())
}

// keep puts a partition that was to be dropped back among those the
// count reads (MySQL names them; PostgreSQL's count is by the dropped
// ranges, which the caller passes).
func (j *job) keep(p partition) {
	if j.d.Kind() == "mysql" && !slices.Contains(j.keptParts, p.name) {
		j.keptParts = append(j.keptParts, p.name)
	}
}

// outside returns the count's source and conditions narrowed to the rows
// outside the partitions about to be dropped: on PostgreSQL (partitioned
// by the rule's column alone) the rows outside their ranges; on MySQL the
// partitions kept, by name.
func (j *job) outside(drop []partition, conds ...cond) (string, []cond) {
	if len(drop) == 0 {
		return j.tbl(), conds
	}
	if j.d.Kind() == "mysql" {
		if len(j.keptParts) == 0 {
			return "", nil // every partition goes: nothing outside
		}
		names := make([]string, len(j.keptParts))
		for i, n := range j.keptParts {
			names[i] = j.d.Column(n)
		}
		return j.tbl() + " PARTITION (" + strings.Join(names, ", ") + ")", conds
	}
	// Outside every dropped partition's range — not merely above them: a
	// DEFAULT partition can hold rows older than any bound.
	var floor []cond
	for _, p := range drop {
		col, typ := j.col(j.rule.From), j.pgTimeType
		if p.lower == "" {
			floor = append(floor, cond{sql: col + " >= CAST(? AS " + typ + ")", args: []any{p.bound}})
			continue
		}
		floor = append(floor, cond{sql: col + " < CAST(? AS " + typ + ") OR " + col + " >= CAST(? AS " + typ + ")", args: []any{p.lower, p.bound}})
	}
	out := make([]cond, len(conds))
	for i, c := range conds {
		out[i] = and(append([]cond{c}, floor...)...)
	}
	return j.tbl(), out
}

// estimate sums the partitions' estimated rows; those without an
// estimate (never analysed, or on MySQL) count as none here: see
// uncounted.
func estimate(parts []partition) (n int64) {
	for _, p := range parts {
		n += max(p.est, 0)
	}
	return n
}

// uncounted counts the rows of the partitions that have no estimate, for
// the brake: a partition loaded since autovacuum last came by must not
// slip past it. (Their drop counts them again, exactly.)
func (j *job) uncounted(ctx context.Context, c *conn, parts []partition) (int64, error) {
	var n int64
	for _, p := range parts {
		if p.est >= 0 {
			continue
		}
		q := "SELECT count(*) FROM " + j.d.Ident(p.name)
		if j.d.Kind() == "mysql" {
			q = "SELECT count(*) FROM " + j.tbl() + " PARTITION (" + j.d.Column(p.name) + ")"
		}
		var k int64
		if err := c.c.DB().QueryRowContext(ctx, q).Scan(&k); err != nil {
			return 0, err
		}
		n += k
	}
	return n, nil
}

// purgeName names a table of rows on their way out of the rule's table:
// a detached partition (PostgreSQL), an exchanged one (MySQL). The prefix
// is the table's own, so that the next run can find what a stopped one
// left.
func (j *job) purgeName() string {
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	return j.purgePrefix() + hex.EncodeToString(rnd[:])
}

func (j *job) purgePrefix() string {
	sum := sha256.Sum256([]byte(j.sys.Name + ":" + j.table.Name))
	return "vow_purge_" + hex.EncodeToString(sum[:4]) + "_"
}

// dropPurged drops a table of rows on their way out, counting them first
// when count is set.
func (j *job) dropPurged(ctx context.Context, db *sql.DB, name string, count *int64) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if count != nil {
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+j.d.Ident(name)).Scan(count); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, "DROP TABLE "+j.d.Ident(name)); err != nil {
		return err
	}
	return tx.Commit()
}

// leftovers lists the tables of rows on their way out that an earlier run
// of this rule left (it stopped between moving the rows out and dropping
// them), with their statistics' estimate.
func (j *job) leftovers(ctx context.Context, c *conn) ([]partition, error) {
	if j.wholePartitionsWhy() != "" {
		return nil, nil
	}
	var q string
	switch j.d.Kind() {
	case "postgres":
		q = `SELECT n.nspname || '.' || c.relname, c.reltuples::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND starts_with(c.relname, $1) ORDER BY 1`
	case "mysql":
		// -1: counted, not estimated (see wholePartitions).
		q = `SELECT TABLE_NAME, -1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND LEFT(TABLE_NAME, CHAR_LENGTH(?)) = ? ORDER BY 1`
	default:
		return nil, nil
	}
	prefix := j.purgePrefix()
	args := []any{prefix}
	if j.d.Kind() == "mysql" {
		args = append(args, prefix)
	}
	rows, err := c.c.DB().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []partition
	for rows.Next() {
		var p partition
		if err := rows.Scan(&p.name, &p.est); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// isLockTimeout reports whether err is a lock wait that ran out: PostgreSQL
// 55P03, MySQL 1205 (and a metadata lock's).
func isLockTimeout(err error) bool {
	s := err.Error()
	return strings.Contains(s, "55P03") || strings.Contains(s, "lock timeout") || strings.Contains(s, "Lock wait timeout") || strings.Contains(s, "1205")
}
