package consent

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/apitoken"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/state"
)

func TestNotifyPayloads(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 250)
	many := make([]string, 40)
	for i := range many {
		many[i] = long
	}
	tests := []struct {
		name     string
		subjects []string
		payloads int
	}{
		{"one", []string{"a"}, 1},
		{"few", []string{"a", "b", "c"}, 1},
		{"split at the size limit", many, 2},
		{"large import", make([]string, 201), 1},
	}
	for _, tt := range tests {
		got := notifyPayloads(tt.subjects)
		if len(got) != tt.payloads {
			t.Errorf("%s: %d payloads, want %d", tt.name, len(got), tt.payloads)
		}
		for _, p := range got {
			if len(p) > 8000 {
				t.Errorf("%s: payload of %d bytes", tt.name, len(p))
			}
		}
		if tt.name != "large import" {
			if joined := strings.Split(strings.Join(got, "\n"), "\n"); len(joined) != len(tt.subjects) {
				t.Errorf("%s: %d subjects come back, want %d", tt.name, len(joined), len(tt.subjects))
			}
		} else if got[0] != notifyAll {
			t.Errorf("large import: %q", got[0])
		}
	}
}

// TestWatchSQLite: on SQLite the cache forgets everything when the consent
// state changes underneath it, whoever writes it (another process, a hand
// edit), and keeps its answers through writes to other tables — such as a
// token's last-use time, which emptied it once a minute when the watch
// asked PRAGMA data_version.
func TestWatchSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := testdb.SQLite(t)
	st, err := state.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p := demoPolicy(t)
	k, err := keyring.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	s := New(st, p, k, nil, Options{})
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = s.Listen(lctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	<-s.Listening()
	if _, err := s.Record(ctx, []Change{{Subject: "kept", Purpose: "marketing", Status: Granted, Source: SourceAPI, RecordedBy: "test"}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * sqliteWatchInterval)
	// Another process: a connection pool of its own on the same file.
	other, err := state.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	tokens := apitoken.New(other)

	tests := []struct {
		name   string
		write  func() error
		forget bool
	}{
		// This process's own consent writes forget their own subjects
		// only (inTx): emptying the cache for them would empty it four
		// times a second on a server recording consent steadily.
		{"this process's own consent write, of another subject", func() error {
			_, err := s.Record(ctx, []Change{{Subject: "other", Purpose: "marketing", Status: Granted, Source: SourceAPI, RecordedBy: "test"}})
			return err
		}, false},
		{"this process's own writes, several transactions", func() error {
			for _, sub := range []string{"o1", "o2", "o3"} {
				if _, err := s.Record(ctx, []Change{{Subject: sub, Purpose: "marketing", Status: Denied, Source: SourceAPI, RecordedBy: "test"}}); err != nil {
					return err
				}
			}
			return nil
		}, false},
		{"a token created", func() error { _, _, err := tokens.Create(ctx, "t1", []string{apitoken.ScopeConsent}); return err }, false},
		{"a token's last use", func() error {
			_, err := other.DB().ExecContext(ctx, `UPDATE api_tokens SET last_used_at = 1`)
			return err
		}, false},
		{"consent inserted", func() error {
			_, err := other.DB().ExecContext(ctx, `INSERT INTO consent_current (subject, purpose, status, source, policy_version, at, event_id) VALUES ('x', 'marketing', 'granted', 'api', 'v', 1, 'e')`)
			return err
		}, true},
		{"consent updated", func() error {
			_, err := other.DB().ExecContext(ctx, `UPDATE consent_current SET status = 'withdrawn' WHERE subject = 'kept'`)
			return err
		}, true},
		{"consent deleted", func() error {
			_, err := other.DB().ExecContext(ctx, `DELETE FROM consent_current WHERE subject = 'x'`)
			return err
		}, true},
		// Another process's change between two of this one's: the watch
		// sees one move of the count and must not take it all for its own.
		{"another process's change between this process's own", func() error {
			if _, err := s.Record(ctx, []Change{{Subject: "o4", Purpose: "marketing", Status: Granted, Source: SourceAPI, RecordedBy: "test"}}); err != nil {
				return err
			}
			if _, err := other.DB().ExecContext(ctx, `UPDATE consent_current SET status = 'granted' WHERE subject = 'kept'`); err != nil {
				return err
			}
			_, err := s.Record(ctx, []Change{{Subject: "o5", Purpose: "marketing", Status: Granted, Source: SourceAPI, RecordedBy: "test"}})
			return err
		}, true},
		{"this process's own write rolled back, then another process's", func() error {
			// A transaction that fails after its write: its version is not
			// this process's, and the next writer's takes its number.
			err := s.inTx(ctx, []string{"o6"}, func(tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO consent_current (subject, purpose, status, source, policy_version, at, event_id) VALUES ('o6', 'marketing', 'granted', 'api', 'v', 1, 'e6')`); err != nil {
					return err
				}
				return errors.New("fails after its write")
			})
			if err == nil {
				return errors.New("the failing transaction committed")
			}
			_, err = other.DB().ExecContext(ctx, `UPDATE consent_current SET status = 'withdrawn' WHERE subject = 'kept'`)
			return err
		}, true},
	}
	for _, tt := range tests {
		if _, err := s.State(ctx, "kept"); err != nil {
			t.Fatal(err)
		}
		if s.cache.get("kept") == nil {
			t.Fatalf("%s: not cached", tt.name)
		}
		if err := tt.write(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		// Four ticks of the watch: enough for it to have seen the write.
		deadline := time.Now().Add(4 * sqliteWatchInterval)
		for time.Now().Before(deadline) && s.cache.get("kept") != nil {
			time.Sleep(10 * time.Millisecond)
		}
		if forgot := s.cache.get("kept") == nil; forgot != tt.forget {
			t.Errorf("%s: cache emptied %v, want %v", tt.name, forgot, tt.forget)
		}
	}
	if st, err := s.State(ctx, "kept"); err != nil || st.Purposes["marketing"].Status != Withdrawn {
		t.Errorf("after the other process's withdrawal: %+v %v", st.Purposes["marketing"], err)
	}
}

// demoPolicy is the demo's policy file, parsed (the package's external
// tests reach it as DemoPolicy).
func demoPolicy(t testing.TB) *policy.Policy {
	t.Helper()
	src, err := os.ReadFile("../demo/vow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, ds := policy.Parse("vow.yaml", src)
	if errs, _ := ds.Count(); errs > 0 || p == nil {
		t.Fatalf("demo policy: %v", ds)
	}
	return p
}

// TestOwnVersions: the watch takes a move of the consent count for this
// process's own only when every version in it was one of its commits.
func TestOwnVersions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		ranges   [][2]int64
		from, to int64
		want     bool
	}{
		{"none", nil, 5, 6, false},
		{"one commit", [][2]int64{{5, 7}}, 5, 7, true},
		{"commits recorded out of order", [][2]int64{{7, 8}, {5, 7}}, 5, 8, true},
		{"another writer's between", [][2]int64{{5, 6}, {7, 8}}, 5, 8, false},
		{"another writer's after", [][2]int64{{5, 6}}, 5, 7, false},
		{"a commit past what the watch read", [][2]int64{{5, 9}}, 5, 7, false},
		{"nothing moved", nil, 5, 5, true},
		{"the count went back", [][2]int64{{2, 3}, {5, 6}}, 5, 3, false},
	}
	for _, tt := range tests {
		var o ownVersions
		for _, r := range tt.ranges {
			o.add(r[0], r[1])
		}
		if got := o.covers(tt.from, tt.to); got != tt.want {
			t.Errorf("%s: covers(%d, %d) = %v, want %v", tt.name, tt.from, tt.to, got, tt.want)
		}
		for k, v := range o.ranges {
			if v <= tt.to || tt.to < tt.from {
				t.Errorf("%s: range (%d, %d] kept after the watch passed it", tt.name, k, v)
			}
		}
	}
	// A count that went back, then another process's change to where an
	// own range recorded before it started: not taken for this one's.
	var o ownVersions
	o.add(2, 3)
	if o.covers(5, 2) {
		t.Error("a count that went back taken as this process's")
	}
	if o.covers(2, 3) {
		t.Error("a range recorded before the count went back taken for a change after it")
	}
	// Bounded where no watch takes the ranges (an in-memory store).
	for i := range int64(3 * maxOwnRanges) {
		o.add(i, i+1)
	}
	if n := len(o.ranges); n > maxOwnRanges {
		t.Errorf("%d ranges kept, want at most %d", n, maxOwnRanges)
	}
}
