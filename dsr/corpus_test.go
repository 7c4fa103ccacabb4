package dsr_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/state"
)

// The corpus (testdata/corpus/<shape>/) is a set of schema shapes, each
// with its data, its policy (vow.yaml) and its ground truth (truth.yaml):
// for some subjects, SQL that selects the keys of the subject's own rows
// and of the rows that mention them, and what erasure must do to which
// rows. TestCorpus runs every case on every database the shape has a
// schema for and checks the invariant:
//
//   - an access package holds exactly the subject's rows (their keys equal
//     the truth's), complete, and mention files hold only the mentioning
//     columns;
//   - after an erasure the subject's rows are gone or masked as the truth
//     says, and every other row of every table is byte-identical to before.
//
// Cases Vow fails today are listed in corpusKnown with what it does
// wrong; they run, and fail, only with VOW_CORPUS_STRICT=1.

// corpusStrict runs the known-failing cases too.
var corpusStrict = os.Getenv("VOW_CORPUS_STRICT") == "1"

// corpusKnown lists the cases Vow fails today, keyed
// "shape/case/kind/phase" (kind may be *; phase is access or erase).
var corpusKnown = map[string]string{}

// corpusKnownFailure returns why a case is known to fail, or "".
func corpusKnownFailure(shape, name, kind, phase string) string {
	for _, k := range []string{shape + "/" + name + "/" + kind + "/" + phase, shape + "/" + name + "/*/" + phase} {
		if why, ok := corpusKnown[k]; ok {
			return why
		}
	}
	return ""
}

// corpusTruth is a shape's truth.yaml.
type corpusTruth struct {
	// Keys name the columns that identify rows of tables without a
	// primary key (for hashing and comparing).
	Keys  map[string][]string `yaml:"keys"`
	Cases []*corpusCase       `yaml:"cases"`
}

type corpusCase struct {
	Name       string            `yaml:"name"`
	Subject    string            `yaml:"subject"`
	Identities map[string]string `yaml:"identities"`
	// Kinds limits the case to some databases.
	Kinds []string `yaml:"kinds"`
	// Policy is the policy file, vow.yaml when empty.
	Policy string        `yaml:"policy"`
	Access *corpusAccess `yaml:"access"`
	Erase  *corpusErase  `yaml:"erase"`
}

type corpusAccess struct {
	// Expect is found (default) or refused: Create refuses the request,
	// or it fails, or its package holds no row.
	Expect string `yaml:"expect"`
	// Rows maps "table" to SQL selecting the keys of the subject's rows,
	// and "table#col,…" to SQL selecting those columns of the rows that
	// mention the subject.
	Rows map[string]string `yaml:"rows"`
}

type corpusErase struct {
	// Expect is completed (default), awaiting_approval, failed, or
	// refused (Create refuses, or the request fails or finds nothing);
	// anything but completed must leave every row as it was.
	Expect string `yaml:"expect"`
	// Message lists words the failure or the brake's reasons must hold.
	Message []string `yaml:"message"`
	// Effects are what the erasure does; every row they do not name
	// must be byte-identical after it.
	Effects []corpusEffect `yaml:"effects"`
	// Cascades lists "table action" records the certificate must hold
	// (the database's own ON DELETE rules).
	Cascades []string `yaml:"cascades"`
	// Then continues a request that stopped: approve (the brake), or
	// retry after applying Fix to the policy.
	Then  string         `yaml:"then"`
	Fix   []corpusFix    `yaml:"fix"`
	After []corpusEffect `yaml:"after"`
}

// corpusEffect says what erasure does to the rows Rows selects (their
// keys): delete, keep, {nullify: [col]}, {set: {col: value}} or
// {hmac: [col]}.
type corpusEffect struct {
	Table string    `yaml:"table"`
	Rows  string    `yaml:"rows"`
	Do    yaml.Node `yaml:"do"`
	// Optional allows Rows to select nothing.
	Optional bool `yaml:"optional"`
}

// corpusFix changes the policy before a retry.
type corpusFix struct {
	Table      string   `yaml:"table"`
	Field      string   `yaml:"field"`
	Erase      string   `yaml:"erase"`
	PrimaryKey []string `yaml:"primary_key"`
}

// effect is a decoded corpusEffect.Do.
type effect struct {
	del     bool
	keep    bool
	nullify []string
	set     map[string]string
	hmac    []string
}

func (e effect) String() string {
	switch {
	case e.del:
		return "delete"
	case e.keep:
		return "keep"
	}
	var parts []string
	if len(e.nullify) > 0 {
		parts = append(parts, "nullify "+strings.Join(e.nullify, ","))
	}
	for _, c := range sortedKeys(e.set) {
		parts = append(parts, "set "+c+"="+e.set[c])
	}
	if len(e.hmac) > 0 {
		parts = append(parts, "hmac "+strings.Join(e.hmac, ","))
	}
	return strings.Join(parts, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func decodeEffect(n yaml.Node) (effect, error) {
	var e effect
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Value {
		case "delete":
			e.del = true
		case "keep":
			e.keep = true
		default:
			return e, fmt.Errorf("line %d: unknown effect %q", n.Line, n.Value)
		}
		return e, nil
	case yaml.MappingNode:
		var raw struct {
			Nullify []string          `yaml:"nullify"`
			Set     map[string]string `yaml:"set"`
			HMAC    []string          `yaml:"hmac"`
		}
		if err := n.Decode(&raw); err != nil {
			return e, fmt.Errorf("line %d: %v", n.Line, err)
		}
		e.nullify, e.set, e.hmac = raw.Nullify, raw.Set, raw.HMAC
		if len(e.nullify)+len(e.set)+len(e.hmac) == 0 {
			return e, fmt.Errorf("line %d: an effect mapping needs nullify, set or hmac", n.Line)
		}
		return e, nil
	}
	return e, fmt.Errorf("line %d: an effect is delete, keep or a mapping", n.Line)
}

// nowTemplate is {{now-4y}}, {{now+1d}}, {{now-18mo}} in data and truth:
// an instant relative to the run, as 'YYYY-MM-DD hh:mm:ss' UTC.
var nowTemplate = regexp.MustCompile(`\{\{now([+-]\d+)(y|mo|d|h)\}\}`)

func expandNow(s string, now time.Time) string {
	return nowTemplate.ReplaceAllStringFunc(s, func(m string) string {
		g := nowTemplate.FindStringSubmatch(m)
		n, _ := strconv.Atoi(g[1])
		t := now
		switch g[2] {
		case "y":
			t = t.AddDate(n, 0, 0)
		case "mo":
			t = t.AddDate(0, n, 0)
		case "d":
			t = t.AddDate(0, 0, n)
		case "h":
			t = t.Add(time.Duration(n) * time.Hour)
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	})
}

// corpusShape is one directory of the corpus.
type corpusShape struct {
	name  string
	dir   string
	truth *corpusTruth
	now   time.Time
}

func loadShape(t *testing.T, dir string) *corpusShape {
	t.Helper()
	s := &corpusShape{name: filepath.Base(dir), dir: dir, truth: &corpusTruth{}, now: time.Now().UTC().Truncate(time.Second)}
	dec := yaml.NewDecoder(bytes.NewReader(mustRead(t, filepath.Join(dir, "truth.yaml"))))
	dec.KnownFields(true)
	if err := dec.Decode(s.truth); err != nil {
		t.Fatalf("%s/truth.yaml: %v", s.name, err)
	}
	return s
}

// kinds lists the databases the shape has a schema for.
func (s *corpusShape) kinds() []string {
	var out []string
	for _, k := range kinds {
		if _, err := os.Stat(filepath.Join(s.dir, "schema."+k+".sql")); err == nil {
			out = append(out, k)
		}
	}
	return out
}

// data returns the shape's data script for a kind: data.<kind>.sql when
// there is one, else data.sql. MySQL/MariaDB read it with ANSI_QUOTES, so
// that identifiers are quoted the standard way everywhere.
func (s *corpusShape) data(t *testing.T, kind string) string {
	t.Helper()
	data := filepath.Join(s.dir, "data."+kind+".sql")
	if _, err := os.Stat(data); err != nil {
		data = filepath.Join(s.dir, "data.sql")
	}
	script := expandNow(string(mustRead(t, data)), s.now)
	switch kind {
	case "mysql":
		// One transaction: a commit per row costs a disk flush each.
		return "SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES');\nSTART TRANSACTION;\n" + script + "\nCOMMIT;"
	case "sqlite":
		return "BEGIN;\n" + script + "\nCOMMIT;"
	}
	return script
}

// load creates the shape's schema and data in an empty database.
func (s *corpusShape) load(t *testing.T, kind, dsn string) {
	t.Helper()
	schema := string(mustRead(t, filepath.Join(s.dir, "schema."+kind+".sql")))
	if kind == "sqlite" {
		schema = "BEGIN;\n" + schema + "\nCOMMIT;"
	}
	testdb.Exec(t, kind, dsn, schema)
	testdb.Exec(t, kind, dsn, s.data(t, kind))
}

// reload empties every table and loads the shape's data again, so that
// each erasure starts from the same rows.
func (s *corpusShape) reload(t *testing.T, db *corpusDB, dsn string) {
	t.Helper()
	d := db.c.Dialect()
	var names []string
	for _, lt := range db.schema(t).Tables {
		names = append(names, d.Ident(lt.Name))
	}
	var script string
	switch db.kind {
	case "postgres":
		script = "TRUNCATE " + strings.Join(names, ", ") + " CASCADE;"
	case "mysql":
		script = "SET FOREIGN_KEY_CHECKS = 0;\n"
		for _, n := range names {
			script += "DELETE FROM " + n + ";\n"
		}
		script += "SET FOREIGN_KEY_CHECKS = 1;"
	default:
		script = "PRAGMA foreign_keys = OFF;\nBEGIN;\n"
		for _, n := range names {
			script += "DELETE FROM " + n + ";\n"
		}
		script += "COMMIT;"
	}
	testdb.Exec(t, db.kind, dsn, script)
	testdb.Exec(t, db.kind, dsn, s.data(t, db.kind))
}

// pgPool hands out PostgreSQL databases for one test at a time: creating
// and dropping one costs PostgreSQL a second or two (checkpoints), so a
// few are made once and emptied between uses.
type pgPool chan string

func newPGPool(t *testing.T, n int) pgPool {
	t.Helper()
	p := make(pgPool, n)
	for range n {
		p <- testdb.Postgres(t)
	}
	return p
}

// database returns an empty database of the kind for the test: from the
// pool on PostgreSQL (returned when the test ends), a new one elsewhere.
func (p pgPool) database(t *testing.T, kind string) string {
	t.Helper()
	if kind != "postgres" {
		return newDSN(t, kind)
	}
	var dsn string
	select {
	case dsn = <-p:
	case <-t.Context().Done():
		t.Fatal("no PostgreSQL database free")
	}
	t.Cleanup(func() { p <- dsn })
	testdb.Exec(t, kind, dsn, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
	return dsn
}

// corpusEnv is a request service over one database of a shape.
type corpusEnv struct {
	kind, dsn string
	policy    *policy.Policy
	svc       *dsr.Service
	keys      *keyring.Keyring
	exports   string
}

func (s *corpusShape) env(t *testing.T, kind, dsn, policyFile string) *corpusEnv {
	t.Helper()
	if policyFile == "" {
		policyFile = "vow.yaml"
	}
	src := mustRead(t, filepath.Join(s.dir, policyFile))
	return newCorpusEnv(t, kind, dsn, s.name+"/"+policyFile, src)
}

// newCorpusEnv parses a policy (its kind: KIND made kind) and builds a
// request service over the database dsn, with its own state store.
func newCorpusEnv(t *testing.T, kind, dsn, name string, src []byte) *corpusEnv {
	t.Helper()
	src = bytes.ReplaceAll(src, []byte("kind: KIND"), []byte("kind: "+kind))
	p := parseCorpusPolicy(t, name, src)
	store, err := state.Open(t.Context(), filepath.Join(t.TempDir(), "state.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	keys, err := keyring.New(bytes.Repeat([]byte{5}, 32))
	if err != nil {
		t.Fatal(err)
	}
	e := &corpusEnv{kind: kind, dsn: dsn, policy: p, keys: keys, exports: filepath.Join(t.TempDir(), "exports")}
	resolver := datastore.Resolver{LookupEnv: func(k string) (string, bool) { return dsn, k == "APP_DSN" }}
	e.svc = &dsr.Service{Policy: p, Store: store, Keys: keys, Datastores: resolver, ExportDir: e.exports}
	return e
}

// parseCorpusPolicy parses a policy of the corpus, which must have no
// errors but no-retention: retention is not what the corpus tests.
func parseCorpusPolicy(t *testing.T, name string, src []byte) *policy.Policy {
	t.Helper()
	p, ds := policy.Parse(name, src)
	var errs policy.Diagnostics
	for _, d := range ds {
		if d.Severity == policy.Error && d.Code != "no-retention" {
			errs = append(errs, d)
		}
	}
	if len(errs) > 0 || p == nil {
		var b strings.Builder
		errs.WriteText(&b, src)
		t.Fatalf("%s has errors:\n%s", name, b.String())
	}
	return p
}

// corpusDB reads a database for the checks, with its own connection.
type corpusDB struct {
	kind string
	c    connector.SQL
	sc   *connector.Schema
}

func openCorpusDB(t *testing.T, kind, dsn string) *corpusDB {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, err := datastore.OpenDSN(ctx, kind, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &corpusDB{kind: kind, c: c}
}

// rows runs q and returns its column names and each row's values as
// text (nil for NULL). On MySQL/MariaDB the session reads "…" as
// identifiers, so that truth SQL is written once for every database.
func (db *corpusDB) rows(t *testing.T, q string) ([]string, [][]*string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conn, err := db.c.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if db.kind == "mysql" {
		if _, err := conn.ExecContext(ctx, "SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')"); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := conn.QueryContext(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out [][]*string
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]*string, len(cols))
		for i, v := range vals {
			row[i] = dbText(v)
		}
		out = append(out, row)
	}
	if err := rs.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return cols, out
}

// dbText is the text of a value read from a database, nil for NULL.
func dbText(v any) *string {
	var s string
	switch x := v.(type) {
	case nil:
		return nil
	case []byte:
		if utf8.Valid(x) {
			s = string(x)
		} else {
			s = "0x" + hex.EncodeToString(x)
		}
	case string:
		s = x
	case time.Time:
		s = x.UTC().Format(time.RFC3339Nano)
	case [16]byte:
		s = fmt.Sprintf("%x-%x-%x-%x-%x", x[0:4], x[4:6], x[6:8], x[8:10], x[10:16])
	case map[string]any, []any:
		b, _ := json.Marshal(x)
		s = string(b)
	default:
		s = fmt.Sprint(x)
	}
	return &s
}

func keyText(vals []*string) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		if v == nil {
			parts[i] = "NULL"
		} else {
			parts[i] = *v
		}
	}
	return strings.Join(parts, "|")
}

// keySet runs q, which selects key columns, and returns the keys.
func (db *corpusDB) keySet(t *testing.T, q string) []string {
	t.Helper()
	_, rows := db.rows(t, q)
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = keyText(r)
	}
	sort.Strings(out)
	return out
}

// snapRow is one row of a table: its columns' text and a hash of them.
type snapRow struct {
	vals map[string]*string
	hash string
}

type snapTable struct {
	name string
	cols []string
	key  []string
	rows map[string]*snapRow
}

// snapshot reads every row of every table of the database.
type snapshot map[string]*snapTable

// schema is the database's schema, read once: the corpus never changes
// it.
func (db *corpusDB) schema(t *testing.T) *connector.Schema {
	t.Helper()
	if db.sc == nil {
		sc, err := db.c.Introspect(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		db.sc = sc
	}
	return db.sc
}

// snapshot reads every table; keys override the primary key (tables
// without one are keyed by the whole row).
func (db *corpusDB) snapshot(t *testing.T, keys map[string][]string) snapshot {
	t.Helper()
	d := db.c.Dialect()
	out := snapshot{}
	for _, lt := range db.schema(t).Tables {
		st := &snapTable{name: lt.Name, key: lt.PrimaryKey, rows: map[string]*snapRow{}}
		if k, ok := keys[lt.Name]; ok {
			st.key = k
		}
		cols, rows := db.rows(t, "SELECT * FROM "+d.Ident(lt.Name))
		st.cols = cols
		for _, r := range rows {
			row := &snapRow{vals: map[string]*string{}}
			h := sha256.New()
			for i, c := range cols {
				row.vals[c] = r[i]
				if r[i] == nil {
					h.Write([]byte{0})
				} else {
					h.Write([]byte{1})
					h.Write([]byte(*r[i]))
				}
				h.Write([]byte{0x1f})
			}
			row.hash = hex.EncodeToString(h.Sum(nil))
			k := row.keyOf(st.key, r)
			for n := 2; st.rows[k] != nil; n++ {
				k = row.keyOf(st.key, r) + "#" + strconv.Itoa(n) // a duplicate row of a table without a key
			}
			st.rows[k] = row
		}
		out[lt.Name] = st
	}
	return out
}

func (r *snapRow) keyOf(key []string, all []*string) string {
	if len(key) == 0 {
		return keyText(all)
	}
	vals := make([]*string, len(key))
	for i, c := range key {
		vals[i] = r.vals[c]
	}
	return keyText(vals)
}

// table finds a table of the snapshot by the name the truth uses.
func (s snapshot) table(name string) *snapTable {
	if st := s[name]; st != nil {
		return st
	}
	for n, st := range s {
		if strings.EqualFold(n, name) {
			return st
		}
	}
	return nil
}

// TestCorpus runs every case of every shape of the corpus.
func TestCorpus(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob(filepath.Join("testdata", "corpus", "*", "truth.yaml"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no corpus shapes: %v", err)
	}
	pool := newPGPool(t, 2)
	var skipped []string
	listed := map[string]bool{} // corpusKnown keys that name a case
	for _, f := range dirs {
		s := loadShape(t, filepath.Dir(f))
		for _, kind := range s.kinds() {
			for _, c := range s.truth.Cases {
				if len(c.Kinds) > 0 && !slices.Contains(c.Kinds, kind) {
					continue
				}
				for _, phase := range []string{"access", "erase"} {
					listed[s.name+"/"+c.Name+"/"+kind+"/"+phase] = true
					listed[s.name+"/"+c.Name+"/*/"+phase] = true
					if why := corpusKnownFailure(s.name, c.Name, kind, phase); why != "" && !corpusStrict {
						skipped = append(skipped, fmt.Sprintf("%s/%s/%s/%s: %s", s.name, c.Name, kind, phase, why))
					}
				}
			}
		}
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			for _, kind := range s.kinds() {
				t.Run(kind, func(t *testing.T) {
					t.Parallel()
					s.run(t, kind, pool.database(t, kind))
				})
			}
		})
	}
	for k := range corpusKnown {
		if !listed[k] {
			t.Errorf("corpusKnown lists %s, which is no case of the corpus", k)
		}
	}
	if len(skipped) > 0 {
		t.Logf("%d known failures run only with VOW_CORPUS_STRICT=1:\n  %s", len(skipped), strings.Join(skipped, "\n  "))
	}
}

// run runs a shape's cases on one kind of database: the access requests
// (they change nothing), then each erasure on the data loaded afresh.
func (s *corpusShape) run(t *testing.T, kind, dsn string) {
	var access, erase []*corpusCase
	for _, c := range s.truth.Cases {
		if len(c.Kinds) > 0 && !slices.Contains(c.Kinds, kind) {
			continue
		}
		if c.Access != nil && (corpusStrict || corpusKnownFailure(s.name, c.Name, kind, "access") == "") {
			access = append(access, c)
		}
		if c.Erase != nil && (corpusStrict || corpusKnownFailure(s.name, c.Name, kind, "erase") == "") {
			erase = append(erase, c)
		}
	}
	s.load(t, kind, dsn)
	db := openCorpusDB(t, kind, dsn)
	for _, c := range access {
		t.Run("access/"+c.Name, func(t *testing.T) {
			defer s.stillKnown(t, c, kind, "access")
			before := db.snapshot(t, s.truth.Keys)
			s.access(t, s.env(t, kind, dsn, c.Policy), db, c, before)
			checkRows(t, before, db.snapshot(t, s.truth.Keys), nil)
		})
	}
	for i, c := range erase {
		t.Run("erase/"+c.Name, func(t *testing.T) {
			defer s.stillKnown(t, c, kind, "erase")
			if i > 0 || len(access) > 0 {
				s.reload(t, db, dsn)
			}
			s.erase(t, s.env(t, kind, dsn, c.Policy), db, c)
		})
	}
}

// stillKnown says, in a strict run, when a case listed as a known
// failure passes: the list is out of date.
func (s *corpusShape) stillKnown(t *testing.T, c *corpusCase, kind, phase string) {
	if why := corpusKnownFailure(s.name, c.Name, kind, phase); why != "" && !t.Failed() {
		t.Logf("listed as a known failure (%s) but passes: remove it from corpusKnown", why)
	}
}

func (c *corpusCase) request(typ dsr.Type) dsr.NewRequest {
	ids := dsr.Identities{}
	for k, v := range c.Identities {
		ids[k] = v
	}
	return dsr.NewRequest{Type: typ, Subject: c.Subject, Identities: ids, Verification: dsr.VerifyTrusted, CreatedBy: "corpus"}
}

// access runs an access request for the case and checks its package.
func (s *corpusShape) access(t *testing.T, e *corpusEnv, db *corpusDB, c *corpusCase, snap snapshot) {
	truth := map[string][]string{}
	for id, q := range c.Access.Rows {
		truth[id] = db.keySet(t, expandNow(q, s.now))
	}
	r, err := e.svc.Create(t.Context(), c.request(dsr.Access))
	var fe *dsr.FieldError
	switch {
	case err != nil && c.Access.Expect == "refused" && errors.As(err, &fe):
		t.Logf("refused at Create: %v", err)
		return
	case err != nil:
		t.Fatalf("Create: %v", err)
	}
	r, err = e.svc.Run(t.Context(), r.ID, nil)
	if c.Access.Expect == "refused" {
		if r != nil && r.Status == dsr.Failed {
			t.Logf("refused by the run: %s", r.LastError)
			return
		}
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if r.Result != nil && r.Result.Found {
			t.Errorf("a request for %v, which should have been refused, found data: %v", c.Identities, r.Result.Rows)
		}
		return
	}
	if err != nil || r.Status != dsr.Completed {
		t.Fatalf("access: status %s, %v (%s)", r.Status, err, r.LastError)
	}
	files := readZip(t, filepath.Join(e.exports, r.Result.Export))
	if dir := os.Getenv("VOW_CORPUS_DUMP"); dir != "" {
		// Keep the package to read it: VOW_CORPUS_DUMP=/tmp/packages.
		dst := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".zip")
		if err := os.WriteFile(dst, mustRead(t, filepath.Join(e.exports, r.Result.Export)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	checkPackage(t, files, snap, truth)
}

// checkPackage compares an access package with the truth: the keys of
// each table's rows, complete rows, and only mentioning columns in
// mention files.
func checkPackage(t *testing.T, files map[string][]byte, snap snapshot, truth map[string][]string) {
	t.Helper()
	var man dsr.Manifest
	if err := json.Unmarshal(files["manifest.json"], &man); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	seen := map[string]bool{}
	for _, tp := range man.Tables {
		id := tp.Table
		var mention []string
		if tp.Mention != "" {
			mention = strings.Split(tp.Mention, ", ")
			id += "#" + strings.Join(mention, ",")
		}
		seen[id] = true
		var doc struct {
			Columns []dsr.ColumnDoc  `json:"columns"`
			Rows    []map[string]any `json:"rows"`
		}
		dec := json.NewDecoder(bytes.NewReader(files[tp.File]))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			t.Errorf("%s: %v", tp.File, err)
			continue
		}
		for _, cd := range doc.Columns {
			if _, err := strconv.Atoi(cd.Type); err == nil {
				t.Logf("fidelity: %s column %s: the type is given as %q, a type OID rather than its name", tp.File, cd.Name, cd.Type)
			}
		}
		if int64(len(doc.Rows)) != tp.Rows {
			t.Errorf("%s holds %d rows, the manifest says %d", tp.File, len(doc.Rows), tp.Rows)
		}
		want, declared := truth[id]
		if !declared && len(doc.Rows) > 0 {
			t.Errorf("%s: exported %d rows the truth does not give the subject: %v", tp.File, len(doc.Rows), doc.Rows)
			continue
		}
		lt := snap.table(tp.Table)
		if lt == nil {
			t.Errorf("%s: table %s is not in the database", tp.File, tp.Table)
			continue
		}
		var got []string
		for _, row := range doc.Rows {
			if mention != nil {
				if cols := sortedKeys(row); !slices.Equal(cols, slices.Sorted(slices.Values(mention))) {
					t.Errorf("%s: a row of someone else shows columns %v, want only %v", tp.File, cols, mention)
				}
				got = append(got, jsonKey(row, mention))
				continue
			}
			k := jsonKey(row, lt.key)
			got = append(got, k)
			checkComplete(t, tp, row, lt, k)
		}
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: exported keys %v, truth %v", tp.File, got, want)
		}
	}
	for id, want := range truth {
		if !seen[id] && len(want) > 0 {
			t.Errorf("package has no file for %s; truth: %v", id, want)
		}
	}
}

// jsonKey is the key text of an exported row, as keyText writes it.
func jsonKey(row map[string]any, cols []string) string {
	vals := make([]*string, len(cols))
	for i, c := range cols {
		vals[i] = jsonText(row[c])
	}
	return keyText(vals)
}

// jsonText is the text of an exported value, as dbText writes what the
// database holds: times in UTC, binary data as the database gives it.
func jsonText(v any) *string {
	var s string
	switch x := v.(type) {
	case nil:
		return nil
	case json.Number:
		s = string(x)
	case string:
		s = x
		if tm, err := time.Parse(time.RFC3339Nano, x); err == nil {
			s = tm.UTC().Format(time.RFC3339Nano)
		}
	case bool:
		s = strconv.FormatBool(x)
	case map[string]any:
		if b64, ok := x["base64"].(string); ok && len(x) == 1 {
			raw, _ := base64.StdEncoding.DecodeString(b64)
			return dbText(raw)
		}
		b, _ := json.Marshal(x)
		s = string(b)
	default:
		b, _ := json.Marshal(x)
		s = string(b)
	}
	return &s
}

// checkComplete compares an exported row with the database's: every
// column is there (or withheld), NULL where the database has NULL; a
// value that differs in form is reported in the log as a fidelity note.
func checkComplete(t *testing.T, tp dsr.TablePackage, row map[string]any, lt *snapTable, key string) {
	t.Helper()
	db := lt.rows[key]
	if db == nil {
		t.Errorf("%s: exported row %s is not in the database", tp.File, key)
		return
	}
	for _, c := range lt.cols {
		v, ok := row[c]
		switch {
		case slices.Contains(tp.Withheld, c):
			if ok {
				t.Errorf("%s: withheld column %s is in the file", tp.File, c)
			}
			continue
		case !ok:
			t.Errorf("%s: row %s lacks column %s", tp.File, key, c)
			continue
		}
		got, want := jsonText(v), db.vals[c]
		switch {
		case (got == nil) != (want == nil):
			t.Errorf("%s: row %s column %s = %v, database %v", tp.File, key, c, ptrText(got), ptrText(want))
		case got != nil && !sameValue(*got, *want) && !sameJSON(v, *want):
			t.Logf("fidelity: %s row %s column %s exported as %s (%T), database holds %q", tp.File, key, c, ptrText(got), v, *want)
		case got != nil && isJSONDocument(*want):
			if _, isText := v.(string); isText {
				t.Logf("fidelity: %s row %s column %s: a JSON document exported as a string of JSON text (%s)", tp.File, key, c, ptrText(got))
			}
		}
	}
	for c := range row {
		if !slices.Contains(lt.cols, c) {
			t.Errorf("%s: row %s has column %s, which the table does not", tp.File, key, c)
		}
	}
}

// sameValue compares an exported value with the database's text: equal,
// or equal as JSON documents, or as numbers.
func sameValue(got, want string) bool {
	if got == want {
		return true
	}
	var a, b any
	if json.Unmarshal([]byte(got), &a) == nil && json.Unmarshal([]byte(want), &b) == nil {
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		return bytes.Equal(ja, jb)
	}
	return false
}

// sameJSON reports whether an exported value is the JSON value the
// database holds as text (a JSON column exported as JSON).
func sameJSON(v any, want string) bool {
	dec := json.NewDecoder(strings.NewReader(want))
	dec.UseNumber()
	var w any
	if dec.Decode(&w) != nil {
		return false
	}
	a, err1 := json.Marshal(v)
	b, err2 := json.Marshal(w)
	return err1 == nil && err2 == nil && bytes.Equal(a, b)
}

// isJSONDocument reports whether a value is a JSON object or array.
func isJSONDocument(s string) bool {
	s = strings.TrimSpace(s)
	return (strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[")) && json.Valid([]byte(s))
}

func ptrText(p *string) string {
	if p == nil {
		return "NULL"
	}
	return strconv.Quote(*p)
}

// erase runs an erasure for the case and compares every row of the
// database with the truth.
func (s *corpusShape) erase(t *testing.T, e *corpusEnv, db *corpusDB, c *corpusCase) {
	want := s.effects(t, db, c.Erase.Effects)
	wantAfter := s.effects(t, db, c.Erase.After) // a stopped erasure changes nothing
	before := db.snapshot(t, s.truth.Keys)
	r, err := e.svc.Create(t.Context(), c.request(dsr.Erasure))
	var fe *dsr.FieldError
	switch {
	case err != nil && c.Erase.Expect == "refused" && errors.As(err, &fe):
		t.Logf("refused at Create: %v", err)
		checkRows(t, before, db.snapshot(t, s.truth.Keys), nil)
		return
	case err != nil:
		t.Fatalf("Create: %v", err)
	}
	r, err = e.svc.Run(t.Context(), r.ID, nil)
	if r == nil {
		t.Fatalf("Run: %v", err)
	}
	after := db.snapshot(t, s.truth.Keys)
	expect := cmpOr(c.Erase.Expect, "completed")
	switch {
	case expect == "refused":
		t.Logf("erasure %s: %s", r.Status, cmpOr(r.LastError, resultMessage(r)))
		if r.Status == dsr.Completed && r.Result != nil && r.Result.Found {
			t.Errorf("an erasure for %v, which should have been refused, found data: %s", c.Identities, r.Result.Message)
		}
		checkRows(t, before, after, nil)
		return
	case string(r.Status) != expect:
		t.Errorf("erasure: status %s (%s), want %s", r.Status, cmpOr(r.LastError, fmt.Sprint(err)), expect)
		if expect == "completed" {
			// It stopped where it should not have: did it change
			// nothing, or what it should have, or more?
			if len(rowProblems(before, after, nil)) == 0 {
				t.Errorf("erasure: it changed nothing")
			} else {
				checkRows(t, before, after, want)
			}
			return
		}
		if r.Status == dsr.Completed {
			// It went through where it should have stopped: did it at
			// least do what the request does once it may?
			if problems := rowProblems(before, after, wantAfter); len(problems) > 0 {
				t.Errorf("erasure: it changed rows:\n%s", strings.Join(problems, "\n"))
			} else {
				t.Errorf("erasure: it erased the subject's rows as the truth says, without stopping first")
			}
			return
		}
	}
	if r.Status != dsr.Completed {
		why := r.LastError
		if r.Approval != nil {
			why += " " + strings.Join(r.Approval.Reasons, "; ")
		}
		for _, w := range c.Erase.Message {
			if !strings.Contains(why, w) {
				t.Errorf("erasure stopped (%s) without naming %q: %s", r.Status, w, why)
			}
		}
		checkRows(t, before, after, nil) // stopped: nothing changed
		if c.Erase.Then == "" {
			return
		}
		s.resume(t, e, db, c, r, after, wantAfter)
		return
	}
	checkRows(t, before, after, want)
	checkCertificate(t, e, r, c.Erase.Cascades)
	t.Logf("erasure completed: %s", resultMessage(r))
}

// resume approves or retries a stopped erasure and checks the run that
// follows against the case's After effects.
func (s *corpusShape) resume(t *testing.T, e *corpusEnv, db *corpusDB, c *corpusCase, r *dsr.Request, before snapshot, want map[string]map[string]effect) {
	var err error
	switch c.Erase.Then {
	case "approve":
		_, err = e.svc.Approve(t.Context(), r.ID, "corpus", "approved by the test")
	case "retry":
		for _, f := range c.Erase.Fix {
			applyFix(t, e.policy, f)
		}
		_, err = e.svc.Retry(t.Context(), r.ID, "corpus")
	default:
		t.Fatalf("unknown then: %q", c.Erase.Then)
	}
	if err != nil {
		t.Fatalf("%s: %v", c.Erase.Then, err)
	}
	r, err = e.svc.Run(t.Context(), r.ID, nil)
	if r == nil || r.Status != dsr.Completed {
		t.Fatalf("run after %s: %v, %v", c.Erase.Then, r, err)
	}
	checkRows(t, before, db.snapshot(t, s.truth.Keys), want)
	checkCertificate(t, e, r, c.Erase.Cascades)
}

func applyFix(t *testing.T, p *policy.Policy, f corpusFix) {
	t.Helper()
	for _, sys := range p.Systems {
		tb := sys.Table(f.Table)
		if tb == nil {
			continue
		}
		if len(f.PrimaryKey) > 0 {
			tb.PrimaryKey = f.PrimaryKey
		}
		if f.Field == "" {
			return
		}
		fd := tb.Field(f.Field)
		if fd == nil {
			t.Fatalf("fix: %s has no field %s", f.Table, f.Field)
		}
		fd.Erase = &policy.Erasure{Method: policy.Method(f.Erase)}
		return
	}
	t.Fatalf("fix: no table %s", f.Table)
}

// effects evaluates the truth's effects: per table, per key, what
// erasure does to the row.
func (s *corpusShape) effects(t *testing.T, db *corpusDB, list []corpusEffect) map[string]map[string]effect {
	t.Helper()
	out := map[string]map[string]effect{}
	for _, ef := range list {
		do, err := decodeEffect(ef.Do)
		if err != nil {
			t.Fatalf("%s: truth: %v", s.name, err)
		}
		keys := db.keySet(t, expandNow(ef.Rows, s.now))
		if len(keys) == 0 && !ef.Optional {
			t.Fatalf("%s: truth effect on %s selects no row (%s); mark it optional if that is meant", s.name, ef.Table, ef.Rows)
		}
		if out[ef.Table] == nil {
			out[ef.Table] = map[string]effect{}
		}
		for _, k := range keys {
			if have, ok := out[ef.Table][k]; ok && have.String() != do.String() {
				t.Fatalf("%s: truth gives %s %s two effects: %s and %s", s.name, ef.Table, k, have, do)
			}
			out[ef.Table][k] = do
		}
	}
	return out
}

// checkRows compares every row of every table before and after: rows
// the effects name changed as they say, every other row is identical.
func checkRows(t *testing.T, before, after snapshot, want map[string]map[string]effect) {
	t.Helper()
	for _, p := range rowProblems(before, after, want) {
		t.Error(p)
	}
}

// rowProblems lists the differences between the rows after and what the
// rows before and the effects say they should be.
func rowProblems(before, after snapshot, want map[string]map[string]effect) []string {
	var out []string
	for name := range want {
		if before.table(name) == nil {
			out = append(out, fmt.Sprintf("truth names table %s, which the database does not have", name))
		}
	}
	for _, name := range sortedKeys(before) {
		bt, at := before[name], after[name]
		if at == nil {
			out = append(out, fmt.Sprintf("table %s is gone", name))
			continue
		}
		var effs map[string]effect
		for wn, e := range want {
			if strings.EqualFold(wn, name) {
				effs = e
			}
		}
		var problems []string
		for k, br := range bt.rows {
			ar := at.rows[k]
			e, named := effs[k]
			switch {
			case !named || e.keep:
				why := "not the subject's to erase"
				if named {
					why = "kept: the truth holds it"
				}
				if ar == nil {
					problems = append(problems, fmt.Sprintf("row %s (%s) was deleted", k, why))
				} else if ar.hash != br.hash {
					problems = append(problems, fmt.Sprintf("row %s (%s) changed: %s", k, why, diffRow(bt.cols, br, ar)))
				}
			case e.del:
				if ar != nil {
					problems = append(problems, fmt.Sprintf("row %s should be deleted and is still there", k))
				}
			default:
				if ar == nil {
					problems = append(problems, fmt.Sprintf("row %s should be masked (%s) and was deleted", k, e))
					continue
				}
				problems = append(problems, masked(bt.cols, k, e, br, ar)...)
			}
		}
		for k := range at.rows {
			if bt.rows[k] == nil {
				problems = append(problems, fmt.Sprintf("row %s appeared", k))
			}
		}
		sort.Strings(problems)
		for _, p := range problems {
			out = append(out, name+": "+p)
		}
	}
	return out
}

// masked checks a masked row: the effect's columns changed as it says,
// every other column identical.
func masked(cols []string, k string, e effect, br, ar *snapRow) []string {
	var out []string
	for _, c := range cols {
		b, a := br.vals[c], ar.vals[c]
		switch {
		case slices.ContainsFunc(e.nullify, func(x string) bool { return strings.EqualFold(x, c) }):
			if a != nil {
				out = append(out, fmt.Sprintf("row %s: %s = %s, want NULL", k, c, ptrText(a)))
			}
		case e.set[c] != "":
			if a == nil || *a != e.set[c] {
				out = append(out, fmt.Sprintf("row %s: %s = %s, want %q", k, c, ptrText(a), e.set[c]))
			}
		case slices.Contains(e.hmac, c):
			if b != nil && (a == nil || !strings.HasPrefix(*a, keyring.PseudonymPrefix) || *a == *b) {
				out = append(out, fmt.Sprintf("row %s: %s = %s, want a pseudonym of %s", k, c, ptrText(a), ptrText(b)))
			}
			if b == nil && a != nil {
				out = append(out, fmt.Sprintf("row %s: %s was NULL and is now %s", k, c, ptrText(a)))
			}
		default:
			if ptrText(a) != ptrText(b) {
				out = append(out, fmt.Sprintf("row %s: %s changed from %s to %s, though erasure only %s", k, c, ptrText(b), ptrText(a), e))
			}
		}
	}
	return out
}

func diffRow(cols []string, b, a *snapRow) string {
	var parts []string
	for _, c := range cols {
		if ptrText(b.vals[c]) != ptrText(a.vals[c]) {
			parts = append(parts, fmt.Sprintf("%s %s → %s", c, ptrText(b.vals[c]), ptrText(a.vals[c])))
		}
	}
	return strings.Join(parts, ", ")
}

// checkCertificate verifies the erasure's certificate and that it
// reports the database's own ON DELETE actions the truth lists.
func checkCertificate(t *testing.T, e *corpusEnv, r *dsr.Request, cascades []string) {
	t.Helper()
	c, err := dsr.VerifyCertificate(r.Result.Certificate, e.keys.PublicKey())
	if err != nil {
		t.Fatalf("certificate: %v", err)
	}
	if t.Failed() {
		t.Logf("certificate: verified %v, tables %+v", c.Verified, c.Tables)
	}
	var got []string
	for _, tr := range c.Tables {
		for _, cr := range tr.Cascades {
			tbl := cr.Table
			if i := strings.IndexByte(tbl, ':'); i >= 0 {
				tbl = tbl[i+1:]
			}
			got = append(got, tbl+" "+cr.Action)
		}
	}
	for _, w := range cascades {
		if !slices.Contains(got, w) {
			t.Errorf("certificate reports cascades %v, want %q", got, w)
		}
	}
}

func resultMessage(r *dsr.Request) string {
	if r.Result == nil {
		return ""
	}
	return r.Result.Message
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
