package audit_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vowprivacy/vow/audit"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/state"
)

var backends = []struct {
	name   string
	newURL func(t testing.TB) string
}{
	{"sqlite", func(t testing.TB) string { return filepath.Join(t.TempDir(), "vow.db") }},
	{"postgres", testdb.Postgres},
}

// base is when the test log's first entry was written; entry i is i hours
// later.
var base = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func newKeys(t testing.TB) *keyring.Keyring {
	t.Helper()
	master := make([]byte, 32)
	if _, err := rand.Read(master); err != nil {
		t.Fatal(err)
	}
	k, err := keyring.New(master)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fixture is a store with a log of 20 entries, sealed at 10 and at 20.
type fixture struct {
	store *state.Store
	log   *audit.Log
	keys  *keyring.Keyring
}

func newFixture(t testing.TB, url string) *fixture {
	t.Helper()
	ctx := context.Background()
	s, err := state.Open(ctx, url, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f := &fixture{store: s, keys: newKeys(t)}
	f.log = &audit.Log{Store: s, Keys: f.keys, Now: func() time.Time { return base.Add(1000 * time.Hour) },
		Witness: filepath.Join(t.TempDir(), audit.WitnessFile)}
	for i := 1; i <= 20; i++ {
		f.append(t, i)
		if i == 10 || i == 20 {
			if _, made, err := f.log.Seal(ctx); err != nil || !made {
				t.Fatalf("Seal after %d = %v, %v; want a new checkpoint", i, made, err)
			}
		}
	}
	return f
}

func (f *fixture) append(t testing.TB, i int) state.Event {
	t.Helper()
	e, err := f.store.Append(context.Background(), state.Event{
		At: base.Add(time.Duration(i) * time.Hour), Kind: "request.received", Subject: fmt.Sprintf("req-%02d", i),
		Actor: "api:test", Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (f *fixture) exec(t testing.TB, query string, args ...any) {
	t.Helper()
	if _, err := f.store.DB().ExecContext(context.Background(), f.store.Rebind(query), args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func (f *fixture) verify(t *testing.T) *audit.Report {
	t.Helper()
	r, err := audit.Verify(context.Background(), audit.StoreSource{Store: f.store}, audit.TrustKeys(f.keys.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rechain recomputes prev and hash of every entry from seq on, as someone
// who changed an entry and wanted to hide it would.
func (f *fixture) rechain(t *testing.T, from int64) {
	t.Helper()
	ctx := context.Background()
	var prev []byte
	evs, err := f.store.Events(ctx, state.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Seq < from {
			prev = e.Hash
			continue
		}
		h := state.ChainHash(prev, e)
		f.exec(t, `UPDATE events SET prev = ?, hash = ? WHERE seq = ?`, prev, h, e.Seq)
		prev = h
	}
}

func hasProblem(r *audit.Report, seq int64, kind string) bool {
	for _, p := range r.Problems {
		if p.Seq == seq && p.Kind == kind {
			return true
		}
	}
	return false
}

func TestVerify(t *testing.T) {
	t.Parallel()
	type want struct {
		seq  int64
		kind string
	}
	cases := []struct {
		name   string
		tamper func(t *testing.T, f *fixture)
		want   []want
	}{
		{"untouched", func(t *testing.T, f *fixture) {}, nil},
		{"changed data", func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE events SET data = '{"n":99}' WHERE seq = 5`)
		}, []want{{5, audit.Changed}}},
		{"changed actor", func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE events SET actor = 'someone else' WHERE seq = 15`)
		}, []want{{15, audit.Changed}}},
		{"changed time", func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE events SET at = (SELECT at FROM events WHERE seq = 2) WHERE seq = 3`)
		}, []want{{3, audit.Changed}}},
		{"changed and rechained", func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE events SET subject = 'req-other' WHERE seq = 5`)
			f.rechain(t, 5)
		}, []want{{10, audit.Rewritten}, {20, audit.Rewritten}}},
		{"changed after the last checkpoint and rechained", func(t *testing.T, f *fixture) {
			// A known limit: unsealed entries can be rewritten unseen.
			f.append(t, 21)
			f.exec(t, `UPDATE events SET subject = 'req-other' WHERE seq = 21`)
			f.rechain(t, 21)
		}, nil},
		{"removed", func(t *testing.T, f *fixture) {
			f.exec(t, `DELETE FROM events WHERE seq = 7`)
		}, []want{{8, audit.Broken}}},
		{"removed and rechained", func(t *testing.T, f *fixture) {
			f.exec(t, `DELETE FROM events WHERE seq = 12`)
			f.rechain(t, 13)
		}, []want{{20, audit.Rewritten}}},
		{"removed a sealed entry", func(t *testing.T, f *fixture) {
			f.exec(t, `DELETE FROM events WHERE seq = 10`)
		}, []want{{11, audit.Broken}, {10, audit.Missing}}},
		{"removed the tail", func(t *testing.T, f *fixture) {
			f.exec(t, `DELETE FROM events WHERE seq > 17`)
		}, []want{{20, audit.Missing}}},
		{"removed the oldest", func(t *testing.T, f *fixture) {
			f.exec(t, `DELETE FROM events WHERE seq <= 4`)
		}, []want{{5, audit.Broken}}},
		{"removed up to a checkpoint, as if pruned", func(t *testing.T, f *fixture) {
			f.exec(t, `DELETE FROM events WHERE seq <= 10`)
		}, []want{{10, audit.Missing}}},
		{"inserted", func(t *testing.T, f *fixture) {
			// Make room after 10 and insert a forged entry chained to it.
			for seq := 20; seq > 10; seq-- {
				f.exec(t, `UPDATE events SET seq = ? WHERE seq = ?`, seq+1, seq)
			}
			ten, err := f.store.EventAt(context.Background(), 10)
			if err != nil {
				t.Fatal(err)
			}
			forged := state.Event{Seq: 11, At: base.Add(10*time.Hour + time.Minute), Kind: "request.received", Subject: "forged", Actor: "api:test", Data: json.RawMessage(`{}`)}
			h := state.ChainHash(ten.Hash, forged)
			f.exec(t, `INSERT INTO events (seq, at, kind, subject, actor, data, prev, hash) VALUES (11, (SELECT at FROM events WHERE seq = 10), 'request.received', 'forged', 'api:test', '{}', ?, ?)`, ten.Hash, h)
		}, []want{{12, audit.Broken}, {12, audit.Changed}}},
		{"reordered", func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE events SET seq = -3 WHERE seq = 3`)
			f.exec(t, `UPDATE events SET seq = 3 WHERE seq = 4`)
			f.exec(t, `UPDATE events SET seq = 4 WHERE seq = -3`)
		}, []want{{3, audit.Changed}, {3, audit.Broken}, {4, audit.Changed}, {5, audit.Broken}}},
		{"checkpoint removed from the middle", func(t *testing.T, f *fixture) {
			f.exec(t, `DELETE FROM audit_checkpoints WHERE seq = 10`)
		}, []want{{10, audit.Missing}}},
		{"oldest entries removed, a pruning forged", func(t *testing.T, f *fixture) {
			f.exec(t, `DELETE FROM events WHERE seq <= 10`)
			if _, err := f.store.Append(context.Background(), state.Event{Kind: audit.PrunedKind, Actor: "vow", Data: json.RawMessage(`{"through":10}`)}); err != nil {
				t.Fatal(err)
			}
		}, []want{{10, audit.Missing}, {21, audit.BadCheckpoint}}},
		{"checkpoint changed", func(t *testing.T, f *fixture) {
			f.exec(t, `UPDATE audit_checkpoints SET hash = (SELECT hash FROM events WHERE seq = 9) WHERE seq = 10`)
		}, []want{{10, audit.BadCheckpoint}}},
		{"checkpoint by another key", func(t *testing.T, f *fixture) {
			other := &audit.Log{Store: f.store, Keys: newKeys(t)}
			f.append(t, 21)
			if _, _, err := other.Seal(context.Background()); err != nil {
				t.Fatal(err)
			}
		}, []want{{21, audit.BadCheckpoint}}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					f := newFixture(t, b.newURL(t))
					tc.tamper(t, f)
					r := f.verify(t)
					if len(tc.want) == 0 {
						if !r.OK() {
							t.Fatalf("problems %+v; want none", r.Problems)
						}
						return
					}
					if r.OK() {
						t.Fatalf("verified; want %v", tc.want)
					}
					for _, w := range tc.want {
						if !hasProblem(r, w.seq, w.kind) {
							t.Errorf("no %s problem at %d in %+v", w.kind, w.seq, r.Problems)
						}
					}
				})
			}
		})
	}
}

func TestReport(t *testing.T) {
	t.Parallel()
	f := newFixture(t, backends[0].newURL(t))
	r := f.verify(t)
	if r.Entries != 20 || r.First != 1 || r.Last != 20 || r.Checkpoints != 2 || r.SealedThrough != 20 || r.Unsealed != 0 {
		t.Fatalf("report %+v; want 20 entries 1-20, 2 checkpoints, sealed through 20", r)
	}
	f.append(t, 21)
	f.append(t, 22)
	if r = f.verify(t); r.SealedThrough != 20 || r.Unsealed != 2 || !r.OK() {
		t.Fatalf("report %+v; want sealed through 20, 2 unsealed", r)
	}
	if _, made, err := f.log.Seal(context.Background()); err != nil || !made {
		t.Fatalf("Seal = %v, %v", made, err)
	}
	if _, made, err := f.log.Seal(context.Background()); err != nil || made {
		t.Fatalf("second Seal = %v, %v; want none made", made, err)
	}
	if r = f.verify(t); r.SealedThrough != 22 || r.Unsealed != 0 {
		t.Fatalf("report %+v; want sealed through 22", r)
	}
}

func TestPrune(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newFixture(t, b.newURL(t))
			// Entries 1-12 are due; the log is cut at the newest checkpoint
			// among them, 10, so that what is left starts at a signed one.
			cutoff := base.Add(12*time.Hour + time.Minute)

			p, err := f.log.Prune(ctx, cutoff, "test", true)
			if err != nil || p.Through != 10 || p.Deleted != 10 {
				t.Fatalf("dry run = %+v, %v; want through 10, 10 to delete", p, err)
			}
			if evs, _ := f.store.Events(ctx, state.EventFilter{}); len(evs) != 20 {
				t.Fatalf("dry run left %d entries; want all 20", len(evs))
			}

			if p, err = f.log.Prune(ctx, cutoff, "test", false); err != nil || p.Through != 10 || p.Deleted != 10 {
				t.Fatalf("Prune = %+v, %v; want 10 deleted through 10", p, err)
			}
			r := f.verify(t)
			if !r.OK() || r.First != 11 || r.Entries != 11 || r.Unsealed != 0 {
				t.Fatalf("after prune: %+v; want entries 11-21 (the prune recorded), verified and sealed", r)
			}
			f.append(t, 40)
			if r = f.verify(t); !r.OK() || r.Unsealed != 1 {
				t.Fatalf("after an append: %+v", r)
			}
			// Pruning again prunes past the first record of pruning.
			if p, err = f.log.Prune(ctx, base.Add(100*time.Hour), "test", false); err != nil || p.Deleted == 0 {
				t.Fatalf("second Prune = %+v, %v", p, err)
			}
			if r = f.verify(t); !r.OK() {
				t.Fatalf("after the second prune: %+v", r.Problems)
			}
			if cps, _ := f.store.Checkpoints(ctx); cps[0].Seq != p.Through {
				t.Fatalf("first checkpoint %d; want the pruning anchor %d, older ones gone", cps[0].Seq, p.Through)
			}
		})
	}
}

func TestPruneRefusesTamperedLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, backends[0].newURL(t))
	f.exec(t, `UPDATE events SET data = '{"n":99}' WHERE seq = 3`)
	_, err := f.log.Prune(ctx, base.Add(12*time.Hour), "test", false)
	if !errors.Is(err, audit.ErrTampered) || !strings.Contains(err.Error(), "entry 3") {
		t.Fatalf("Prune = %v; want ErrTampered naming entry 3", err)
	}
	if evs, _ := f.store.Events(ctx, state.EventFilter{}); len(evs) != 20 {
		t.Fatalf("a refused prune left %d entries; want 20", len(evs))
	}
}

func TestExportVerifies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, backends[0].newURL(t))
	f.append(t, 21) // unsealed
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	var buf bytes.Buffer
	n, err := audit.Export(ctx, f.store, audit.Filter{}, &buf)
	if err != nil || n != 21 {
		t.Fatalf("Export = %d, %v", n, err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := audit.ReadExport(path)
	if err != nil {
		t.Fatal(err)
	}
	// A third party has the public key only.
	r, err := audit.Verify(ctx, src, audit.TrustKeys(f.keys.PublicKey()))
	if err != nil || !r.OK() || r.Entries != 21 || r.SealedThrough != 20 || r.Unsealed != 1 {
		t.Fatalf("Verify(export) = %+v, %v", r, err)
	}

	tampered := strings.Replace(buf.String(), `"subject":"req-07"`, `"subject":"req-70"`, 1)
	if tampered == buf.String() {
		t.Fatal("no subject to tamper with in the export")
	}
	if err := os.WriteFile(path, []byte(tampered), 0o600); err != nil {
		t.Fatal(err)
	}
	if src, err = audit.ReadExport(path); err != nil {
		t.Fatal(err)
	}
	if r, err = audit.Verify(ctx, src, audit.TrustKeys(f.keys.PublicKey())); err != nil || !hasProblem(r, 7, audit.Changed) {
		t.Fatalf("Verify(tampered export) = %+v, %v; want entry 7 changed", r, err)
	}

	buf.Reset()
	if n, err = audit.Export(ctx, f.store, audit.Filter{Subject: "req-07"}, &buf); err != nil || n != 1 {
		t.Fatalf("filtered Export = %d, %v; want 1 entry", n, err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err = audit.ReadExport(path); !errors.Is(err, audit.ErrIncomplete) {
		t.Fatalf("ReadExport(filtered) = %v; want ErrIncomplete", err)
	}
}

// TestLegacyEntriesChained: entries written before the log was chained
// are chained when the store is next opened, and verify.
func TestLegacyEntriesChained(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url := b.newURL(t)
			f := newFixture(t, url)
			f.exec(t, `UPDATE events SET prev = NULL, hash = NULL`)
			f.exec(t, `DELETE FROM audit_checkpoints`)
			f.exec(t, `DELETE FROM meta WHERE key = 'audit_chained'`)
			f.exec(t, `DELETE FROM events WHERE seq = 4`) // a rolled-back identity value left gaps
			s, err := state.Open(ctx, url, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			r, err := audit.Verify(ctx, audit.StoreSource{Store: s}, audit.TrustKeys(f.keys.PublicKey()))
			if err != nil || !r.OK() || r.Entries != 19 || r.Unsealed != 19 {
				t.Fatalf("after reopening: %+v, %v; want 19 chained entries, none sealed", r, err)
			}
			if e, err := s.Append(ctx, state.Event{Kind: "after"}); err != nil || e.Seq != 21 {
				t.Fatalf("Append = %+v, %v; want seq 21", e, err)
			}
		})
	}
}

// TestExportByPerson: the entries about a person are found by their
// identity's pseudonym: those naming them, and those of their requests.
func TestExportByPerson(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, backends[0].newURL(t))
	ada := audit.Subject(f.keys, "Ada@Example.com")
	if ada != audit.Subject(f.keys, "ada@example.com ") || strings.Contains(ada, "ada") {
		t.Fatalf("Subject = %q; want one pseudonym for every spelling of the address, naming no one", ada)
	}
	add := func(kind, subject, data string) {
		if _, err := f.store.Append(ctx, state.Event{Kind: kind, Subject: subject, Actor: "t", Data: json.RawMessage(data)}); err != nil {
			t.Fatal(err)
		}
	}
	add("request.received", "req_ada", `{"identities":{"email":"`+ada+`"}}`)
	add("request.received", "req_bo", `{"identities":{"email":"`+audit.Subject(f.keys, "bo@example.com")+`"}}`)
	add("request.completed", "req_ada", `{}`)
	add("request.completed", "req_bo", `{}`)
	add("policy.accepted", ada, `{"version":"v1"}`)
	var buf bytes.Buffer
	n, err := audit.Export(ctx, f.store, audit.Filter{Person: ada}, &buf)
	if err != nil || n != 3 {
		t.Fatalf("Export(person) = %d, %v; want 3 entries:\n%s", n, err, buf.String())
	}
	if strings.Contains(buf.String(), "req_bo") {
		t.Errorf("another person's request was exported:\n%s", buf.String())
	}
}

// TestConcurrentAppendsChain: appends from many goroutines (and, on
// PostgreSQL, many connections) form one chain with no gap.
func TestConcurrentAppendsChain(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, b.newURL(t))
			ctx := context.Background()
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Go(func() {
					for i := range 25 {
						if _, err := f.store.Append(ctx, state.Event{Kind: "k", Subject: fmt.Sprint(w, "-", i), Actor: "t"}); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			r := f.verify(t)
			if !r.OK() || r.Entries != 220 || r.Last != 220 {
				t.Fatalf("after concurrent appends: %+v; want 220 entries chained without a gap", r)
			}
		})
	}
}

// TestIdentityPseudonyms: an email or phone names one person everywhere,
// so its pseudonym is the same whatever the kind of record; user 7 and
// customer 7 are different people, and their pseudonyms differ.
func TestIdentityPseudonyms(t *testing.T) {
	k := newKeys(t)
	if audit.Identity(k, "user_id", "1001") == audit.Identity(k, "customer_id", "1001") {
		t.Error("user_id 1001 and customer_id 1001 share a pseudonym: erasing one would reach the other's records")
	}
	if audit.Identity(k, "email", "Ada@Example.com") != audit.Subject(k, "ada@example.com") {
		t.Error("an email's pseudonym differs from the one consent and policy records use")
	}
	if audit.Identity(k, "user_id", "1001") == audit.Subject(k, "1001") {
		t.Error("a user_id's pseudonym equals the bare value's")
	}
}

// TestAppendsUnderRepeatableReadDefault: a PostgreSQL database whose
// default isolation is REPEATABLE READ still gets one chain from
// concurrent appends: Vow's sessions use READ COMMITTED.
func TestAppendsUnderRepeatableReadDefault(t *testing.T) {
	t.Parallel()
	url := testdb.Postgres(t)
	name, _, _ := strings.Cut(url[strings.LastIndex(url, "/")+1:], "?")
	testdb.PostgresAdmin(t, "ALTER DATABASE "+name+" SET default_transaction_isolation = 'repeatable read'")
	f := newFixture(t, url)
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 20 {
				err := f.store.InTx(ctx, func(tx *sql.Tx) error {
					_, err := f.store.AppendTx(ctx, tx, state.Event{Kind: "k", Subject: fmt.Sprint(w, "-", i), Actor: "t"})
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if r := f.verify(t); !r.OK() || r.Entries != 180 {
		t.Fatalf("%+v; want 180 chained entries", r)
	}
}

// TestSealRefusesRewrittenLog: a rewrite hidden by deleting the
// checkpoints after it is not sealed over: the witness remembers the last
// checkpoint this installation made, and verification says it is gone.
func TestSealRefusesRewrittenLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, backends[0].newURL(t))
	f.exec(t, `UPDATE events SET data = '{"n":99}' WHERE seq = 5`)
	f.rechain(t, 5)
	f.exec(t, `DELETE FROM audit_checkpoints WHERE seq >= 5`)
	f.append(t, 21)
	if _, _, err := f.log.Seal(ctx); !errors.Is(err, audit.ErrTampered) || !strings.Contains(err.Error(), "checkpoint of entry 20") {
		t.Fatalf("Seal over a rewritten log = %v; want ErrTampered naming the checkpoint of entry 20", err)
	}
	if cps, _ := f.store.Checkpoints(ctx); len(cps) != 0 {
		t.Errorf("a checkpoint was signed: %+v", cps)
	}
	if p, err := f.log.CheckWitness(ctx); err != nil || !strings.Contains(p, "entry 20") {
		t.Errorf("CheckWitness = %q, %v", p, err)
	}
	// The tail since the last checkpoint is checked too.
	g := newFixture(t, backends[0].newURL(t))
	g.append(t, 21)
	g.exec(t, `UPDATE events SET actor = 'x' WHERE seq = 21`)
	if _, _, err := g.log.Seal(ctx); !errors.Is(err, audit.ErrTampered) {
		t.Errorf("Seal over a changed unsealed entry = %v; want ErrTampered", err)
	}
}

// TestInterruptedPrune: a pruning cut short after some of its deletes
// leaves a log that verifies, and the next run finishes it.
func TestInterruptedPrune(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, backends[0].newURL(t)) // SQLite: the trigger below
	f.exec(t, `CREATE TRIGGER stop_prune BEFORE DELETE ON events WHEN old.seq >= 6 BEGIN SELECT RAISE(ABORT, 'interrupted'); END`)
	if _, err := f.log.Prune(ctx, base.Add(12*time.Hour+time.Minute), "test", false); err == nil {
		t.Fatal("the prune went through the trigger")
	}
	f.exec(t, `DELETE FROM events WHERE seq <= 5`) // the first batch had committed
	f.exec(t, `DROP TRIGGER stop_prune`)
	if r := f.verify(t); !r.OK() {
		t.Fatalf("a pruning under way: %+v", r.Problems)
	}
	if _, err := f.log.Prune(ctx, base, "test", false); err != nil {
		t.Fatal(err)
	}
	if r := f.verify(t); !r.OK() || r.First != 11 {
		t.Fatalf("after the next run: %+v; want entries from 11, verified", r)
	}
}

// TestCheckWitness: the witness names the last checkpoint this
// installation made. It passes while that checkpoint is there unchanged,
// or pruned away with the entries before a later one; it names the
// checkpoint when it was removed or changed. (The fixture seals at 10 and
// 20; each case deletes or changes checkpoints and points the witness at
// one.)
func TestCheckWitness(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range []struct {
				name    string
				change  string // run first
				witness int64
				problem bool
			}{
				{"unchanged", "", 20, false},
				{"older checkpoint still there", "", 10, false},
				{"changed", `UPDATE audit_checkpoints SET hash = ? WHERE seq = 20`, 20, true},
				{"removed", `DELETE FROM audit_checkpoints WHERE seq = 20`, 20, true},
				{"removed with the ones after", `DELETE FROM audit_checkpoints WHERE seq >= 10`, 10, true},
				{"pruned past", `DELETE FROM audit_checkpoints WHERE seq = 10`, 5, false},
			} {
				t.Run(tc.name, func(t *testing.T) {
					ctx := context.Background()
					f := newFixture(t, b.newURL(t))
					// The witness holds the checkpoint's hash as it was made.
					hash := strings.Repeat("ab", 32)
					if c, ok, err := f.store.CheckpointOf(ctx, tc.witness); err != nil {
						t.Fatal(err)
					} else if ok {
						hash = hex.EncodeToString(c.Hash)
					}
					if tc.change != "" {
						var args []any
						if strings.Contains(tc.change, "?") {
							args = append(args, []byte("not the hash"))
						}
						f.exec(t, tc.change, args...)
					}
					w := fmt.Sprintf(`{"seq":%d,"hash":%q,"at":"2025-01-02T00:00:00Z"}`, tc.witness, hash)
					if err := os.WriteFile(f.log.Witness, []byte(w), 0o600); err != nil {
						t.Fatal(err)
					}
					p, err := f.log.CheckWitness(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if got := p != ""; got != tc.problem || (got && !strings.Contains(p, fmt.Sprintf("entry %d ", tc.witness))) {
						t.Errorf("CheckWitness = %q; want a problem: %v", p, tc.problem)
					}
				})
			}
		})
	}
}

// BenchmarkSealAfterManyCommands: every command that appends seals, so a
// store a cron job has used for a year holds a checkpoint per run. A seal
// (append one entry, seal it) must not read them all.
//
//	go test ./audit -run '^$' -bench SealAfterManyCommands
func BenchmarkSealAfterManyCommands(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b, backends[0].newURL(b))
	// Checkpoints of earlier commands, below the fixture's entries.
	f.exec(b, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000)
		INSERT INTO audit_checkpoints (seq, at, hash, key_id, signature) SELECT -i, '2024-01-01T00:00:00.000000Z', x'00', 'k', x'00' FROM n`)
	b.ResetTimer()
	for i := range b.N {
		f.append(b, 21+i)
		if _, made, err := f.log.Seal(ctx); err != nil || !made {
			b.Fatalf("Seal = %v, %v", made, err)
		}
	}
}
