package dsrbench

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// Scale sets the size of a generated database.
type Scale struct {
	// Rows is the number of background rows (other people's data) over
	// all tables; 10,000,000 at full scale.
	Rows int64
	// Heavy is the number of rows of the heavy subject (a power user with
	// many events, audit log entries and comments); Light those of the
	// light subject.
	Heavy, Light int64
}

// Full is the scale the issue asks for.
var Full = Scale{Rows: 10_000_000, Heavy: 110_000, Light: 100}

// Tiny is the scale of the default test run.
var Tiny = Scale{Rows: 3_000, Heavy: 300, Light: 30}

// Subject is a benchmark subject. Its rows live in a block of IDs of its
// own in every table, so that the harness can restore them after an
// erasure without touching anyone else's rows.
type Subject struct {
	Name  string // "light" or "heavy"
	Email string
	ID    int64 // users.id
	Rows  int64 // rows generated for the subject (their own, all tables)
	block int64
}

// Subjects returns the benchmark subjects of a scale: light, then heavy.
func Subjects(sc Scale) []Subject {
	out := []Subject{
		{Name: "light", Email: "light@bench.example", block: 0},
		{Name: "heavy", Email: "power@bench.example", block: 1},
	}
	for i := range out {
		out[i].ID = blockBase(out[i].block)
		out[i].Rows = sc.Light
		if out[i].Name == "heavy" {
			out[i].Rows = sc.Heavy
		}
	}
	return out
}

// blockBase is the first ID of a subject's block in every table; the
// background rows have IDs 1…n, far below.
func blockBase(block int64) int64 { return 1_000_000_000 + block*100_000_000 }

// counts holds the number of background rows per table.
type counts map[string]int64

func countsFor(sc Scale) counts {
	c := counts{}
	for _, t := range tables {
		c[t.name] = max(10, int64(math.Round(float64(sc.Rows)*t.weight)))
	}
	return c
}

// blockCount is the number of rows of table t in a subject's block.
func blockCount(t *table, s Subject) int64 {
	switch t.name {
	case "users":
		if s.Rows >= 1000 {
			return 4 // the subject and three people they invited
		}
		return 2
	case "organizations", "staff":
		return 0
	}
	return max(1, int64(math.Round(float64(s.Rows)*t.heavy)))
}

// mix is splitmix64: a cheap deterministic scatter, so that a user's rows
// are spread over a table as in a real application, not clustered.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func pick(salt string, i int64, n int64) int64 {
	var h uint64 = 1469598103934665603
	for i := 0; i < len(salt); i++ {
		h = (h ^ uint64(salt[i])) * 1099511628211
	}
	return int64(mix(h^uint64(i))%uint64(n)) + 1
}

var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func when(i int64) time.Time {
	return epoch.Add(time.Duration(mix(uint64(i))%(700*24*3600)) * time.Second)
}

const lorem = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat."

func words(i int64, n int) string {
	start := int(mix(uint64(i)) % uint64(len(lorem)-n))
	return lorem[start : start+n]
}

func ip(i int64) string {
	x := mix(uint64(i))
	return fmt.Sprintf("10.%d.%d.%d", x&0xff, (x>>8)&0xff, (x>>16)&0xff)
}

var actions = []string{"login", "logout", "task.create", "task.update", "comment.create", "settings.update", "export", "member.invite"}
var eventNames = []string{"page_view", "click", "search", "task_open", "board_view", "filter", "share"}

func userEmail(id int64) string { return "user" + strconv.FormatInt(id, 10) + "@example.com" }

// bgRow fills out with background row i (1-based) of table t.
func bgRow(t *table, c counts, i int64, out []any) {
	u := func(salt string) int64 { return pick(t.name+salt, i, c["users"]) }
	switch t.name {
	case "organizations":
		out[1], out[2], out[3] = "Org "+strconv.FormatInt(i, 10), []string{"free", "team", "business"}[i%3], when(i)
	case "staff":
		var left any
		if i%10 == 0 {
			left = when(i + 1)
		}
		out[1], out[2], out[3], out[4] = "agent"+strconv.FormatInt(i, 10)+"@support.example", "Agent "+strconv.FormatInt(i, 10), when(i), left
	case "users":
		var inv any
		if i%5 == 0 && i > 10 {
			inv = i / 7
		}
		out[1], out[2], out[3], out[4], out[5], out[6], out[7] = userEmail(i), "User "+strconv.FormatInt(i, 10), "$argon2id$v=19$"+words(i, 40), inv, ip(i), when(i), nil
	case "memberships":
		out[1], out[2], out[3], out[4] = pick("m.org", i, c["organizations"]), u(""), []string{"owner", "admin", "member", "member"}[i%4], when(i)
	case "projects":
		out[1], out[2], out[3], out[4] = pick("p.org", i, c["organizations"]), u(""), "Project "+words(i, 20), when(i)
	case "tasks":
		out[1], out[2], out[3], out[4], out[5] = pick("t.proj", i, c["projects"]), u(""), words(i, 40), words(i+1, 160), when(i)
	case "comments":
		out[1], out[2], out[3], out[4] = pick("c.task", i, c["tasks"]), u(""), words(i, 120), when(i)
	case "attachments":
		out[1], out[2], out[3], out[4] = pick("a.com", i, c["comments"]), "file-"+strconv.FormatInt(i, 10)+".pdf", int64(mix(uint64(i))%5_000_000), when(i)
	case "events":
		out[1], out[2], out[3], out[4] = u(""), eventNames[i%int64(len(eventNames))], `{"path":"/app/`+strconv.FormatInt(i%1000, 10)+`","ms":`+strconv.FormatInt(i%900, 10)+`}`, when(i)
	case "audit_logs":
		a := u("")
		out[1], out[2], out[3], out[4], out[5] = a, userEmail(a), ip(i), actions[i%int64(len(actions))], when(i)
	case "sessions":
		out[1], out[2], out[3], out[4] = u(""), ip(i), "Mozilla/5.0 (X11; Linux x86_64) Bench/"+strconv.FormatInt(i%100, 10), when(i)
	case "api_keys":
		out[1], out[2], out[3], out[4] = u(""), "sha256:"+words(i, 64), "key "+strconv.FormatInt(i, 10), when(i)
	case "notifications":
		var read any
		if i%3 != 0 {
			read = when(i + 1)
		}
		out[1], out[2], out[3], out[4], out[5] = u(""), "mention", words(i, 80), read, when(i)
	case "invoices":
		out[1], out[2], out[3] = u(""), float64(mix(uint64(i))%10000)/100, when(i)
	case "payments":
		inv := pick("pay.inv", i, c["invoices"])
		out[1], out[2], out[3], out[4], out[5] = inv, pick("invoicesu", inv, c["users"]), float64(mix(uint64(i))%10000)/100, fmt.Sprintf("%04d", i%10000), when(i)
	case "support_tickets":
		out[1], out[2], out[3], out[4], out[5] = u(""), pick("st.staff", i, c["staff"]), words(i, 50), words(i+3, 200), when(i)
	case "ticket_messages":
		var author, staff any
		if i%2 == 0 {
			author = u("")
		} else {
			staff = pick("tm.staff", i, c["staff"])
		}
		out[1], out[2], out[3], out[4], out[5] = pick("tm.ticket", i, c["support_tickets"]), author, staff, words(i, 150), when(i)
	case "login_attempts":
		email := userEmail(u(""))
		if i%10 == 0 {
			email = "nobody" + strconv.FormatInt(i, 10) + "@example.net"
		}
		out[1], out[2], out[3], out[4] = email, ip(i), i%7/6, when(i)
	}
	out[0] = i
}

// blockRow fills out with row j (0-based) of table t in subject s's block.
func blockRow(t *table, c counts, s Subject, j int64, out []any) {
	base := blockBase(s.block)
	id := base + j
	bc := func(name string) int64 { return blockCount(tableByName(name), s) }
	switch t.name {
	case "users":
		if j == 0 {
			out[1], out[2], out[4] = s.Email, "Bench "+s.Name, nil
		} else {
			out[1], out[2], out[4] = fmt.Sprintf("invitee%d-%s@bench.example", j, s.Name), "Invitee", s.ID
		}
		out[3], out[5], out[6], out[7] = "$argon2id$v=19$"+words(id, 40), ip(id), when(id), nil
	case "memberships":
		out[1], out[2], out[3], out[4] = pick("m.org", id, c["organizations"]), s.ID, "owner", when(id)
	case "projects":
		out[1], out[2], out[3], out[4] = pick("p.org", id, c["organizations"]), s.ID, "Project "+words(id, 20), when(id)
	case "tasks":
		out[1], out[2], out[3], out[4], out[5] = pick("t.proj", id, c["projects"]), s.ID, words(id, 40), words(id+1, 160), when(id)
	case "comments":
		out[1], out[2], out[3], out[4] = pick("c.task", id, c["tasks"]), s.ID, words(id, 120), when(id)
	case "attachments":
		out[1], out[2], out[3], out[4] = base+j%bc("comments"), "file-"+strconv.FormatInt(id, 10)+".pdf", int64(mix(uint64(id))%5_000_000), when(id)
	case "events":
		out[1], out[2], out[3], out[4] = s.ID, eventNames[j%int64(len(eventNames))], `{"path":"/app/`+strconv.FormatInt(j%1000, 10)+`","ms":`+strconv.FormatInt(j%900, 10)+`}`, when(id)
	case "audit_logs":
		out[1], out[2], out[3], out[4], out[5] = s.ID, s.Email, ip(id), actions[j%int64(len(actions))], when(id)
	case "sessions":
		out[1], out[2], out[3], out[4] = s.ID, ip(id), "Mozilla/5.0 (X11; Linux x86_64) Bench/1", when(id)
	case "api_keys":
		out[1], out[2], out[3], out[4] = s.ID, "sha256:"+words(id, 64), "key", when(id)
	case "notifications":
		out[1], out[2], out[3], out[4], out[5] = s.ID, "mention", words(id, 80), nil, when(id)
	case "invoices":
		out[1], out[2], out[3] = s.ID, float64(mix(uint64(id))%10000)/100, when(id)
	case "payments":
		out[1], out[2], out[3], out[4], out[5] = base+j%bc("invoices"), s.ID, float64(mix(uint64(id))%10000)/100, "4242", when(id)
	case "support_tickets":
		out[1], out[2], out[3], out[4], out[5] = s.ID, pick("st.staff", id, c["staff"]), words(id, 50), words(id+3, 200), when(id)
	case "ticket_messages":
		var author, staff any
		if j%2 == 0 {
			author = s.ID
		} else {
			staff = pick("tm.staff", id, c["staff"])
		}
		out[1], out[2], out[3], out[4], out[5] = base+j%bc("support_tickets"), author, staff, words(id, 150), when(id)
	case "login_attempts":
		out[1], out[2], out[3], out[4] = s.Email, ip(id), j%7/6, when(id)
	}
	out[0] = id
}

// Generate creates the sample schema in the empty database dsn of kind
// ("postgres" or "mysql"), loads the background rows and the subjects'
// blocks, and indexes it. logf reports progress; nil is quiet.
func Generate(ctx context.Context, kind, dsn string, sc Scale, logf func(string, ...any)) error {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	l, err := openLoader(ctx, kind, dsn)
	if err != nil {
		return err
	}
	defer l.close()
	for _, stmt := range createSQL(kind) {
		if err := l.exec(ctx, stmt); err != nil {
			return fmt.Errorf("dsrbench: %s: %w", stmt, err)
		}
	}
	c := countsFor(sc)
	var total int64
	for _, t := range tables {
		start := time.Now()
		n := c[t.name]
		if err := l.load(ctx, t, n, func(i int64, out []any) { bgRow(t, c, i+1, out) }); err != nil {
			return fmt.Errorf("dsrbench: load %s: %w", t.name, err)
		}
		total += n
		logf("%s: loaded %d rows into %s in %s", kind, n, t.name, time.Since(start).Round(time.Millisecond))
	}
	start := time.Now()
	for _, stmt := range indexSQL(kind) {
		if err := l.exec(ctx, stmt); err != nil {
			return fmt.Errorf("dsrbench: %s: %w", stmt, err)
		}
	}
	logf("%s: indexes and foreign keys in %s", kind, time.Since(start).Round(time.Millisecond))
	for _, s := range Subjects(sc) {
		if err := loadBlock(ctx, l, c, s); err != nil {
			return err
		}
	}
	if kind == "postgres" {
		if err := l.exec(ctx, "ANALYZE"); err != nil {
			return fmt.Errorf("dsrbench: analyze: %w", err)
		}
	} else {
		for _, t := range tables {
			if err := l.exec(ctx, "ANALYZE TABLE "+t.name); err != nil {
				return fmt.Errorf("dsrbench: analyze: %w", err)
			}
		}
	}
	logf("%s: %d background rows, subjects loaded", kind, total)
	return writeMeta(ctx, l, sc)
}

// TotalRows returns the number of rows a generated database holds.
func TotalRows(sc Scale) int64 {
	var n int64
	c := countsFor(sc)
	for _, t := range tables {
		n += c[t.name]
		for _, s := range Subjects(sc) {
			n += blockCount(t, s)
		}
	}
	return n
}

func loadBlock(ctx context.Context, l *loader, c counts, s Subject) error {
	for _, t := range tables {
		if n := blockCount(t, s); n > 0 {
			if err := l.load(ctx, t, n, func(j int64, out []any) { blockRow(t, c, s, j, out) }); err != nil {
				return fmt.Errorf("dsrbench: load %s of %s: %w", t.name, s.Name, err)
			}
		}
	}
	return nil
}

// Restore puts a subject's rows back as generated: after an erasure, the
// next run finds the same data. It deletes what is left of the subject's
// block (children first) and loads the block again.
func Restore(ctx context.Context, kind, dsn string, sc Scale, s Subject) error {
	l, err := openLoader(ctx, kind, dsn)
	if err != nil {
		return err
	}
	defer l.close()
	base := blockBase(s.block)
	for i := len(tables) - 1; i >= 0; i-- {
		t := tables[i]
		if blockCount(t, s) == 0 {
			continue
		}
		q := fmt.Sprintf("DELETE FROM %s WHERE id >= %d AND id < %d", t.name, base, base+100_000_000)
		if err := l.exec(ctx, q); err != nil {
			return fmt.Errorf("dsrbench: restore %s: %w", s.Name, err)
		}
	}
	if err := loadBlock(ctx, l, countsFor(sc), s); err != nil {
		return err
	}
	if kind != "postgres" {
		return nil
	}
	// Every restore leaves the deleted copies of the block behind as dead
	// tuples and dead index entries; unvacuumed, they pile up run after
	// run, and each run (Vow's and the floor's alike) steps over more of
	// them than the last. Vacuum them away so every run starts alike.
	for _, t := range tables {
		if blockCount(t, s) == 0 {
			continue
		}
		if err := l.exec(ctx, "VACUUM (ANALYZE) "+t.name); err != nil {
			return fmt.Errorf("dsrbench: restore %s: vacuum %s: %w", s.Name, t.name, err)
		}
	}
	return nil
}

// loader bulk-loads rows: COPY on PostgreSQL, LOAD DATA LOCAL on MariaDB.
type loader struct {
	kind string
	pg   *pgx.Conn
	my   *sql.DB
}

func openLoader(ctx context.Context, kind, dsn string) (*loader, error) {
	l := &loader{kind: kind}
	switch kind {
	case "postgres":
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("dsrbench: connect: %w", err)
		}
		l.pg = conn
	case "mysql":
		cfg, err := gomysql.ParseDSN(dsn)
		if err != nil {
			return nil, fmt.Errorf("dsrbench: mysql DSN: %w", err)
		}
		cfg.Params = map[string]string{"foreign_key_checks": "0", "unique_checks": "0"}
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1)
		l.my = db
	default:
		return nil, fmt.Errorf("dsrbench: kind %q: use postgres or mysql", kind)
	}
	return l, nil
}

func (l *loader) close() {
	if l.pg != nil {
		l.pg.Close(context.Background())
	}
	if l.my != nil {
		l.my.Close()
	}
}

func (l *loader) exec(ctx context.Context, q string) error {
	if l.pg != nil {
		_, err := l.pg.Exec(ctx, q)
		return err
	}
	_, err := l.my.ExecContext(ctx, q)
	return err
}

var readerSeq atomic.Int64

func (l *loader) load(ctx context.Context, t *table, n int64, row func(i int64, out []any)) error {
	out := make([]any, len(t.cols))
	if l.pg != nil {
		var i int64
		_, err := l.pg.CopyFrom(ctx, pgx.Identifier{t.name}, t.colNames(), pgx.CopyFromFunc(func() ([]any, error) {
			if i >= n {
				return nil, nil
			}
			clear(out)
			row(i, out)
			i++
			return out, nil
		}))
		return err
	}
	name := fmt.Sprintf("dsrbench-%d", readerSeq.Add(1))
	pr, pw := io.Pipe()
	gomysql.RegisterReaderHandler(name, func() io.Reader { return pr })
	defer gomysql.DeregisterReaderHandler(name)
	go func() {
		w := bufio.NewWriterSize(pw, 1<<20)
		var b []byte
		for i := int64(0); i < n; i++ {
			clear(out)
			row(i, out)
			b = b[:0]
			for k, v := range out {
				if k > 0 {
					b = append(b, '\t')
				}
				b = appendTSV(b, v)
			}
			b = append(b, '\n')
			if _, err := w.Write(b); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(w.Flush())
	}()
	_, err := l.my.ExecContext(ctx, "LOAD DATA LOCAL INFILE 'Reader::"+name+"' INTO TABLE "+t.name+
		" CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ("+strings.Join(t.colNames(), ", ")+")")
	pr.CloseWithError(io.ErrClosedPipe) // unblock the writer if the server stopped reading
	return err
}

// appendTSV formats a value for LOAD DATA; generated text never holds a
// tab, newline or backslash, so it needs no escaping.
func appendTSV(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, `\N`...)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float64:
		return strconv.AppendFloat(b, x, 'f', 2, 64)
	case string:
		return append(b, x...)
	case time.Time:
		return x.AppendFormat(b, "2006-01-02 15:04:05")
	}
	panic(fmt.Sprintf("dsrbench: cannot format %T", v))
}

// Generated reports whether dsn already holds a database generated at
// scale sc (so a benchmark can reuse it); a database generated at another
// scale is an error.
func Generated(ctx context.Context, kind, dsn string, sc Scale) (bool, error) {
	l, err := openLoader(ctx, kind, dsn)
	if err != nil {
		return false, err
	}
	defer l.close()
	var got Scale
	q := "SELECT rows_bg, heavy, light FROM dsrbench_meta"
	if l.pg != nil {
		err = l.pg.QueryRow(ctx, q).Scan(&got.Rows, &got.Heavy, &got.Light)
	} else {
		err = l.my.QueryRowContext(ctx, q).Scan(&got.Rows, &got.Heavy, &got.Light)
	}
	if err != nil {
		return false, nil // not generated (or half generated): start over
	}
	if got != sc {
		return false, fmt.Errorf("dsrbench: the database was generated at scale %+v, not %+v: use an empty database", got, sc)
	}
	return true, nil
}

func writeMeta(ctx context.Context, l *loader, sc Scale) error {
	if err := l.exec(ctx, "CREATE TABLE dsrbench_meta (rows_bg bigint, heavy bigint, light bigint)"); err != nil {
		return err
	}
	return l.exec(ctx, fmt.Sprintf("INSERT INTO dsrbench_meta VALUES (%d, %d, %d)", sc.Rows, sc.Heavy, sc.Light))
}
