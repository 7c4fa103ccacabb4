package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vowprivacy/vow/internal/testdb"
)

// backend makes a fresh, empty store URL for one test.
type backend struct {
	name   string
	newURL func(t testing.TB) string
}

var backends = []backend{
	{"sqlite", func(t testing.TB) string {
		// A missing parent directory exercises its creation.
		return filepath.Join(t.TempDir(), "var", "vow", "state.db")
	}},
	{"postgres", testdb.Postgres},
}

// storeTests run unchanged against every backend, each on its own database.
var storeTests = []struct {
	name string
	run  func(t *testing.T, url string)
}{
	{"Migrate", testMigrate},
	{"ReopenIsIdempotent", testReopen},
	{"AppendAndList", testAppendAndList},
	{"InvalidInput", testInvalidInput},
	{"ConcurrentOpen", testConcurrentOpen},
	{"ConcurrentAppend", testConcurrentAppend},
	{"Meta", testMeta},
	{"AppendTx", testAppendTx},
}

// testAppendTx: an event appended in a transaction is there after commit,
// and gone with a rollback, with the change it records.
func testAppendTx(t *testing.T, url string) {
	ctx := t.Context()
	s := open(t, url)
	for _, commit := range []bool{false, true} {
		tx, err := s.DB().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, s.Rebind(`INSERT INTO meta (key, value) VALUES (?, ?)`), fmt.Sprint("tx-", commit), "v"); err != nil {
			t.Fatal(err)
		}
		e, err := s.AppendTx(ctx, tx, Event{Kind: "test.tx", Subject: fmt.Sprint(commit), Actor: "test"})
		if err != nil || e.Seq == 0 {
			t.Fatalf("AppendTx = %+v, %v", e, err)
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Events(ctx, EventFilter{Kind: "test.tx", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Subject != "true" {
		t.Errorf("events after one rollback and one commit: %+v, want the committed one", got)
	}
	if _, ok, _ := s.Meta(ctx, "tx-false"); ok {
		t.Error("the rolled-back change is there")
	}
	if _, ok, _ := s.Meta(ctx, "tx-true"); !ok {
		t.Error("the committed change is missing")
	}
}

func testMeta(t *testing.T, url string) {
	ctx := t.Context()
	s := open(t, url)
	if _, ok, err := s.Meta(ctx, "k"); err != nil || ok {
		t.Fatalf("Meta of an unset key = ok %v, err %v; want not set", ok, err)
	}
	if v, err := s.InitMeta(ctx, "k", "first"); err != nil || v != "first" {
		t.Fatalf("InitMeta = %q, %v; want first", v, err)
	}
	if v, err := s.InitMeta(ctx, "k", "second"); err != nil || v != "first" {
		t.Fatalf("second InitMeta = %q, %v; want the first value kept", v, err)
	}
	if v, ok, err := s.Meta(ctx, "k"); err != nil || !ok || v != "first" {
		t.Fatalf("Meta = %q, %v, %v; want first", v, ok, err)
	}
	var n int
	if err := s.DB().QueryRowContext(ctx, s.Rebind(`SELECT count(*) FROM meta WHERE key = ?`), "k").Scan(&n); err != nil || n != 1 {
		t.Fatalf("count through DB/Rebind = %d, %v; want 1", n, err)
	}
}

func TestStore(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range storeTests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, b.newURL(t))
				})
			}
		})
	}
}

func open(t *testing.T, url string) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Open(ctx, url, testLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// latestVersion is the version of the newest embedded migration.
func latestVersion(t *testing.T, s *Store) int64 {
	t.Helper()
	src := s.provider.ListSources()
	if len(src) == 0 {
		t.Fatal("no migrations embedded")
	}
	return src[len(src)-1].Version
}

var idRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

func testMigrate(t *testing.T, url string) {
	ctx := context.Background()
	s := open(t, url)
	want := DialectSQLite
	if strings.HasPrefix(url, "postgres") {
		want = DialectPostgres
	}
	if s.Dialect() != want {
		t.Errorf("Dialect() = %q, want %q", s.Dialect(), want)
	}
	v, err := s.Version(ctx)
	if err != nil {
		t.Fatalf("Version: %v", err)
	}
	if want := latestVersion(t, s); v != want || v < 1 {
		t.Errorf("Version() = %d, want %d", v, want)
	}
	id, err := s.ID(ctx)
	if err != nil {
		t.Fatalf("ID: %v", err)
	}
	if !idRE.MatchString(id) {
		t.Errorf("ID() = %q, want 32 hex digits", id)
	}
	if s.Dialect() == DialectSQLite {
		var mode string
		var fk, busy int
		for q, dst := range map[string]any{"PRAGMA journal_mode": &mode, "PRAGMA foreign_keys": &fk, "PRAGMA busy_timeout": &busy} {
			if err := s.db.QueryRowContext(ctx, q).Scan(dst); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if mode != "wal" || fk != 1 || busy != 5000 {
			t.Errorf("pragmas: journal_mode=%s foreign_keys=%d busy_timeout=%d, want wal 1 5000", mode, fk, busy)
		}
	}
}

func testReopen(t *testing.T, url string) {
	ctx := context.Background()
	s1, err := Open(ctx, url, nil)
	if err != nil {
		t.Fatalf("first Open: %v", err)
	}
	id1, err := s1.ID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v1, err := s1.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Append(ctx, Event{Kind: "test.before-reopen", Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := open(t, url)
	id2, err := s2.ID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := s2.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if id1 != id2 {
		t.Errorf("ID changed on reopen: %q then %q", id1, id2)
	}
	if v1 != v2 {
		t.Errorf("Version changed on reopen: %d then %d", v1, v2)
	}
	evs, err := s2.Events(ctx, EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Kind != "test.before-reopen" {
		t.Errorf("events after reopen = %+v, want the one appended before", evs)
	}
}

func testAppendAndList(t *testing.T, url string) {
	ctx := context.Background()
	s := open(t, url)

	if evs, err := s.Events(ctx, EventFilter{}); err != nil || len(evs) != 0 {
		t.Fatalf("Events on empty log = %v, %v; want none", evs, err)
	}

	fixed := time.Date(2024, 2, 29, 23, 59, 58, 123456789, time.FixedZone("CET", 3600))
	before := time.Now().UTC().Truncate(time.Microsecond)
	inputs := []Event{
		{Kind: "policy.checked", Subject: "req-1", Actor: "alice", Data: json.RawMessage(` { "b": [1, 2],
			"a": "x\u0000y" } `)},
		{Kind: "policy.loaded", Actor: "vow", At: fixed},
		{Kind: "policy.checked", Subject: "req-2", Actor: "bob", Data: json.RawMessage(`{}`)},
		{Kind: "request.created", Subject: "req-3", Actor: "", Data: json.RawMessage(`{"n":1.50,"s":"é"}`)},
	}
	var appended []Event
	for _, in := range inputs {
		got, err := s.Append(ctx, in)
		if err != nil {
			t.Fatalf("Append(%+v): %v", in, err)
		}
		appended = append(appended, got)
	}
	after := time.Now().UTC()

	for i, e := range appended {
		if i > 0 && e.Seq <= appended[i-1].Seq {
			t.Errorf("Seq not increasing: %d after %d", e.Seq, appended[i-1].Seq)
		}
		if e.At.Location() != time.UTC {
			t.Errorf("event %d: At %v not in UTC", i, e.At)
		}
		if e.At.Nanosecond()%1000 != 0 {
			t.Errorf("event %d: At %v has sub-microsecond precision", i, e.At)
		}
		if inputs[i].At.IsZero() && (e.At.Before(before) || e.At.After(after)) {
			t.Errorf("event %d: default At %v not between %v and %v", i, e.At, before, after)
		}
	}
	if want := time.Date(2024, 2, 29, 22, 59, 58, 123456000, time.UTC); !appended[1].At.Equal(want) || appended[1].At.Location() != time.UTC {
		t.Errorf("explicit At stored as %v, want %v", appended[1].At, want)
	}
	if got, want := string(appended[0].Data), `{"b":[1,2],"a":"x\u0000y"}`; got != want {
		t.Errorf("Data = %s, want compacted %s", got, want)
	}
	if got := string(appended[1].Data); got != "{}" {
		t.Errorf("nil Data stored as %s, want {}", got)
	}

	all, err := s.Events(ctx, EventFilter{})
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	assertEvents(t, "all", all, appended)

	cases := []struct {
		name   string
		filter EventFilter
		want   []Event
	}{
		{"kind", EventFilter{Kind: "policy.checked"}, []Event{appended[0], appended[2]}},
		{"unknown kind", EventFilter{Kind: "nope"}, nil},
		{"after", EventFilter{After: appended[1].Seq}, appended[2:]},
		{"after last", EventFilter{After: appended[3].Seq}, nil},
		{"limit", EventFilter{Limit: 2}, appended[:2]},
		{"kind after limit", EventFilter{Kind: "policy.checked", After: appended[0].Seq, Limit: 1}, []Event{appended[2]}},
	}
	for _, tc := range cases {
		got, err := s.Events(ctx, tc.filter)
		if err != nil {
			t.Errorf("%s: Events(%+v): %v", tc.name, tc.filter, err)
			continue
		}
		assertEvents(t, tc.name, got, tc.want)
	}
}

func assertEvents(t *testing.T, name string, got, want []Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d events, want %d:\n got  %+v\n want %+v", name, len(got), len(want), got, want)
		return
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Seq != w.Seq || !g.At.Equal(w.At) || g.At.Location() != time.UTC || g.Kind != w.Kind ||
			g.Subject != w.Subject || g.Actor != w.Actor || string(g.Data) != string(w.Data) {
			t.Errorf("%s: event %d:\n got  %+v (%s)\n want %+v (%s)", name, i, g, g.Data, w, w.Data)
		}
	}
}

func testInvalidInput(t *testing.T, url string) {
	ctx := context.Background()
	s := open(t, url)
	bad := []struct {
		name string
		e    Event
	}{
		{"no kind", Event{Actor: "a"}},
		{"blank kind", Event{Kind: "  ", Actor: "a"}},
		{"padded kind", Event{Kind: " x.y", Actor: "a"}},
		{"seq set", Event{Seq: 7, Kind: "x.y"}},
		{"data not JSON", Event{Kind: "x.y", Data: json.RawMessage(`{"a":`)}},
		{"data array", Event{Kind: "x.y", Data: json.RawMessage(`[1]`)}},
		{"data string", Event{Kind: "x.y", Data: json.RawMessage(`"s"`)}},
		{"data null", Event{Kind: "x.y", Data: json.RawMessage(`null`)}},
		{"data two values", Event{Kind: "x.y", Data: json.RawMessage(`{} {}`)}},
		{"data bad UTF-8", Event{Kind: "x.y", Data: json.RawMessage("{\"a\":\"\xff\"}")}},
		{"NUL in subject", Event{Kind: "x.y", Subject: "a\x00b"}},
		{"bad UTF-8 actor", Event{Kind: "x.y", Actor: "\xc3"}},
		{"year 10000", Event{Kind: "x.y", At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
	}
	for _, tc := range bad {
		_, err := s.Append(ctx, tc.e)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Append error = %v, want ErrInvalid", tc.name, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "state: append event: ") {
			t.Errorf("%s: error %q lacks context", tc.name, err)
		}
	}
	for _, f := range []EventFilter{{Limit: -1}, {Limit: MaxEventLimit + 1}, {After: -1}} {
		if _, err := s.Events(ctx, f); !errors.Is(err, ErrInvalid) {
			t.Errorf("Events(%+v) error = %v, want ErrInvalid", f, err)
		}
	}
	if evs, err := s.Events(ctx, EventFilter{}); err != nil || len(evs) != 0 {
		t.Errorf("invalid appends left events behind: %v, %v", evs, err)
	}
}

func testConcurrentOpen(t *testing.T, url string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const n = 4
	var (
		wg     sync.WaitGroup
		stores [n]*Store
		errs   [n]error
	)
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = Open(ctx, url, nil) })
	}
	wg.Wait()
	ids := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Errorf("Open #%d: %v", i, errs[i])
			continue
		}
		defer stores[i].Close()
		id, err := stores[i].ID(ctx)
		if err != nil {
			t.Errorf("ID #%d: %v", i, err)
		}
		ids[id] = true
		if v, err := stores[i].Version(ctx); err != nil || v != latestVersion(t, stores[i]) {
			t.Errorf("Version #%d = %d, %v", i, v, err)
		}
	}
	if len(ids) != 1 {
		t.Errorf("concurrent opens saw %d different store IDs: %v", len(ids), ids)
	}
}

func testConcurrentAppend(t *testing.T, url string) {
	ctx := context.Background()
	s := open(t, url)
	other := open(t, url) // a second Store, as a second instance would have
	const writers, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		st := s
		if w%2 == 1 {
			st = other
		}
		wg.Go(func() {
			for i := range each {
				data := fmt.Sprintf(`{"writer":%d,"i":%d}`, w, i)
				if _, err := st.Append(ctx, Event{Kind: "test.concurrent", Actor: "w", Data: json.RawMessage(data)}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Append: %v", err)
	}
	evs, err := s.Events(ctx, EventFilter{Kind: "test.concurrent"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != writers*each {
		t.Fatalf("got %d events, want %d", len(evs), writers*each)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Seq <= evs[i-1].Seq {
			t.Fatalf("Seq not increasing at %d: %d after %d", i, evs[i].Seq, evs[i-1].Seq)
		}
	}
}

// TestOpenErrors checks that unusable URLs fail fast with a one-line error
// that names the problem and never shows a password.
func TestOpenErrors(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "plain-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		url     string
		invalid bool   // error must wrap ErrInvalid
		want    string // substring of the error
	}{
		{"empty", "  ", true, "empty store URL"},
		{"unknown scheme", "mysql://root:hunter2@127.0.0.1:3306/vow", true, `unsupported scheme "mysql"`},
		{"key=value DSN", "host=127.0.0.1 user=postgres password=hunter2", true, "key=value"},
		{"bad port", "postgres://vow:hunter2@127.0.0.1:notaport/vow", true, "invalid PostgreSQL URL"},
		{"unreachable", "postgres://vow:hunter2@127.0.0.1:1/vow?sslmode=disable&connect_timeout=5", false, "127.0.0.1:1"},
		{"password in query", "postgresql://127.0.0.1:1/vow?user=vow&password=hunter2&sslmode=disable", false, "connect"},
		{"sqlite parent is a file", "sqlite:" + filepath.Join(file, "state.db"), false, "create directory"},
		{"sqlite question mark", "sqlite:/tmp/a?b.db", true, "must not contain '?'"},
		{"empty sqlite path", "sqlite:", true, "empty SQLite path"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s, err := Open(ctx, tc.url, nil)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", tc.url)
			}
			checkError(t, err, tc.want)
			if tc.invalid != errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = %v, want %v", !tc.invalid, tc.invalid)
			}
		})
	}
}

// TestOpenMissingDatabase runs against the real server: a database that does
// not exist is a clear error too.
func TestOpenMissingDatabase(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(testdb.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/vowstate_does_not_exist"
	u.User = url.UserPassword(u.User.Username(), "hunter2")
	_, err = Open(context.Background(), u.String(), nil)
	if err == nil {
		t.Fatal("Open of a missing database succeeded")
	}
	checkError(t, err, "vowstate_does_not_exist")
}

func checkError(t *testing.T, err error, want string) {
	t.Helper()
	msg := err.Error()
	t.Logf("error: %s", msg)
	if !strings.HasPrefix(msg, "state: ") {
		t.Errorf("error %q does not start with \"state: \"", msg)
	}
	if !strings.Contains(msg, want) {
		t.Errorf("error %q does not mention %q", msg, want)
	}
	if strings.Contains(msg, "hunter2") {
		t.Errorf("error %q shows the password", msg)
	}
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error %q spans several lines", msg)
	}
}

func TestParseURL(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, dialect, dsn string }{
		{"postgres://u@h/db", DialectPostgres, "postgres://u@h/db"},
		{"PostgreSQL://u@h/db", DialectPostgres, "PostgreSQL://u@h/db"},
		{"/var/lib/vow/state.db", DialectSQLite, "/var/lib/vow/state.db"},
		{"state.db", DialectSQLite, "state.db"},
		{"sqlite:state.db", DialectSQLite, "state.db"},
		{"sqlite:///abs/state.db", DialectSQLite, "/abs/state.db"},
		{"file:rel/state.db", DialectSQLite, "rel/state.db"},
		{"file:///abs/state.db", DialectSQLite, "/abs/state.db"},
		{"sqlite::memory:", DialectSQLite, ":memory:"},
	}
	for _, tc := range cases {
		got, err := parseURL(tc.in)
		if err != nil || got.dialect != tc.dialect || got.dsn != tc.dsn {
			t.Errorf("parseURL(%q) = %+v, %v; want %s %s", tc.in, got, err, tc.dialect, tc.dsn)
		}
	}
	if got := maskURL("postgres://u:hunter2@h/db?password=hunter2"); strings.Contains(got, "hunter2") {
		t.Errorf("maskURL left the password: %s", got)
	}
}

func TestMemory(t *testing.T) {
	t.Parallel()
	s := open(t, "sqlite::memory:")
	ctx := context.Background()
	if _, err := s.Append(ctx, Event{Kind: "x.y"}); err != nil {
		t.Fatal(err)
	}
	if evs, err := s.Events(ctx, EventFilter{}); err != nil || len(evs) != 1 {
		t.Fatalf("Events = %v, %v", evs, err)
	}
}

func TestMaskUserinfo(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"postgres://vow:hunter2@127.0.0.1:notaport/vow",
		`cannot parse "postgres://vow:hunter2@h:x/db": invalid port`,
		"postgres://h:x/db?user=vow&password=hunter2",
		"host=h password=hunter2 user=vow",
	} {
		got := maskUserinfo(in)
		if strings.Contains(got, "hunter2") || !strings.Contains(got, "xxxxx") {
			t.Errorf("maskUserinfo(%q) = %q", in, got)
		}
	}
}
