package dsrbench

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/internal/benchstat"
)

// TestCLIAB compares vow binaries (two builds of a change, before and
// after) on a database the harness generated: alternating in one user
// directory, after one unmeasured access each, the order rotating each
// round. The machine's load moves end-to-end times by ±20 % between runs
// taken minutes apart; binaries interleaved share whatever load there is.
// It reports the median wall time (with its range) and the median of each
// traced phase, the steps summed. Before each erasure the subject is
// restored and the binary makes two access requests for it, unmeasured.
//
//	VOW_AB_BINS=/tmp/vow-before,/tmp/vow-after VOW_AB_KIND=postgres \
//	VOW_AB_DSN=postgres://…/bench VOW_AB_OP=access VOW_AB_SUBJECT=light \
//	VOW_AB_ROUNDS=15 VOW_BENCH_ROWS=1000000 go test ./dsr/dsrbench -run TestCLIAB -v
func TestCLIAB(t *testing.T) {
	bins := strings.Split(os.Getenv("VOW_AB_BINS"), ",")
	if len(bins) < 2 {
		t.Skip("set VOW_AB_BINS to two or more vow binaries to compare")
	}
	kind, dsn := os.Getenv("VOW_AB_KIND"), os.Getenv("VOW_AB_DSN")
	op := dsr.Type(os.Getenv("VOW_AB_OP"))
	rounds := int(envInt(t, "VOW_AB_ROUNDS", 15))
	sc := Scale{Rows: envInt(t, "VOW_BENCH_ROWS", 1_000_000), Heavy: envInt(t, "VOW_BENCH_HEAVY", Full.Heavy), Light: Full.Light}
	if ok, err := Generated(t.Context(), kind, dsn, sc); !ok || err != nil {
		t.Fatalf("%s: no database generated at this scale (%v): run TestCLIBench with VOW_BENCH_%s_DSN first", kind, err, strings.ToUpper(kind))
	}
	var s Subject
	for _, x := range Subjects(sc) {
		if x.Name == os.Getenv("VOW_AB_SUBJECT") {
			s = x
		}
	}
	if s.Name == "" {
		t.Fatal("set VOW_AB_SUBJECT to light or heavy")
	}
	ctx := t.Context()
	dir := t.TempDir()
	users := make([]*cliUser, len(bins))
	for i, b := range bins {
		u, err := newCLIUser(Config{Kind: kind, DSN: dsn, Dir: dir, Binary: b})
		if err != nil {
			t.Fatal(err)
		}
		users[i] = u
	}
	for _, u := range users { // warm-up
		if _, err := u.request(ctx, dsr.Access, s); err != nil {
			t.Fatal(err)
		}
	}
	wall := make([][]time.Duration, len(bins))
	phases := make([]map[string][]time.Duration, len(bins))
	var order []string
	for i := range phases {
		phases[i] = map[string][]time.Duration{}
	}
	for r := range rounds {
		for k := range users {
			i := (k + r) % len(users)
			u := users[i]
			if op == dsr.Erasure {
				if err := Restore(ctx, kind, dsn, sc, s); err != nil {
					t.Fatal(err)
				}
				for range 2 {
					if _, err := u.request(ctx, dsr.Access, s); err != nil {
						t.Fatal(err)
					}
				}
			}
			o, err := u.request(ctx, op, s)
			if err != nil {
				t.Fatal(err)
			}
			wall[i] = append(wall[i], o.d)
			seen := map[string]bool{}
			for _, st := range o.steps {
				// Steps are named for their table; phases have a space.
				name := st.table
				if !strings.Contains(name, " ") && name != "exit" {
					name = "steps"
				}
				if seen[name] {
					phases[i][name][len(phases[i][name])-1] += st.d
					continue
				}
				seen[name] = true
				if !slices.Contains(order, name) {
					order = append(order, name)
				}
				phases[i][name] = append(phases[i][name], st.d)
			}
		}
	}
	if op == dsr.Erasure {
		if err := Restore(ctx, kind, dsn, sc, s); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s, %d rounds\n", kind, s.Name, op, rounds)
	fmt.Fprintf(&b, "%-34s", "wall")
	for i := range bins {
		fmt.Fprintf(&b, " %9.1f (%5.1f-%5.1f)", ms(benchstat.Median(wall[i])), ms(slices.Min(wall[i])), ms(slices.Max(wall[i])))
	}
	b.WriteString("\n")
	for _, p := range order {
		fmt.Fprintf(&b, "%-34s", p)
		for i := range bins {
			fmt.Fprintf(&b, " %9.2f              ", ms(benchstat.Median(phases[i][p])))
		}
		b.WriteString("\n")
	}
	t.Log("\n" + b.String())
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
