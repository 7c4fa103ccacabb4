package main

import (
	"bytes"
	"context"
	"math"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestRotation(t *testing.T) {
	methods := []string{"a", "b", "c"}
	seen := map[string][3]int{} // method → how often at each position
	for r := range 3 {
		for i, m := range rotation(methods, r) {
			c := seen[m]
			c[i]++
			seen[m] = c
		}
	}
	for m, c := range seen {
		if c != [3]int{1, 1, 1} {
			t.Errorf("over 3 rounds %s ran at positions %v; want each once", m, c)
		}
	}
	if got := strings.Join(rotation(methods, 1), ""); got != "bca" {
		t.Errorf("rotation(1) = %s, want bca", got)
	}
}

// TestSummarizeMediansPerRoundRatios: the summary is the median of each
// round's ratio, not the ratio of the medians — the two differ here.
func TestSummarizeMediansPerRoundRatios(t *testing.T) {
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	m := func(method string, took float64, p99, idle time.Duration) measured {
		return measured{method: method, rows: 1000, took: sec(took), p99: p99, idle: idle, left: "same"}
	}
	ms := time.Millisecond
	rounds := [][]measured{
		{m("raw", 1, 4*ms, 2*ms), m("vow", 2, 2*ms, 2*ms)},   // vow 0.50×
		{m("raw", 10, 4*ms, 2*ms), m("vow", 8, 3*ms, 2*ms)},  // vow 1.25×
		{m("raw", 2, 4*ms, 2*ms), m("vow", 2.5, 6*ms, 2*ms)}, // vow 0.80×
	}
	sums, err := summarize(rounds, "raw")
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != 2 || sums[1].method != "vow" {
		t.Fatalf("summaries %+v", sums)
	}
	v := sums[1]
	// Per round 0.5, 1.25, 0.8: median 0.8, spread 0.5–1.25.
	if !near(v.vsRef.Median, 0.8) || !near(v.vsRef.Min, 0.5) || !near(v.vsRef.Max, 1.25) {
		t.Errorf("throughput vs raw %+v, want 0.80 (0.50–1.25)", v.vsRef)
	}
	if !near(v.impact.Median, 1.5) || !near(v.impact.Min, 1) || !near(v.impact.Max, 3) {
		t.Errorf("p99 impact %+v, want 1.50 (1.00–3.00)", v.impact)
	}
	if r := sums[0]; !near(r.vsRef.Median, 1) || !near(r.impact.Median, 2) {
		t.Errorf("raw against itself %+v", r)
	}

	// A ratio of medians is not what it reports: rounds where the
	// method's and the reference's medians come from different rounds.
	skew := [][]measured{
		{m("raw", 1, ms, ms), m("vow", 4, ms, ms)},   // 0.25
		{m("raw", 4, ms, ms), m("vow", 3, ms, ms)},   // 1.33
		{m("raw", 5, ms, ms), m("vow", 4.5, ms, ms)}, // 1.11
	}
	sums, err = summarize(skew, "raw")
	if err != nil {
		t.Fatal(err)
	}
	// Medians: raw 4 s, vow 4 s → 1.00 as a ratio of medians; the
	// per-round median is 1.11.
	if got := sums[1].vsRef.Median; !near(got, 1000/4.5/(1000/5.0)) {
		t.Errorf("median of per-round ratios = %.3f, want 1.111", got)
	}

	rounds[2][1].left = "other"
	if _, err := summarize(rounds, "raw"); err == nil || !strings.Contains(err.Error(), "did not delete the same rows") {
		t.Errorf("different rows left: err = %v", err)
	}
	if _, err := summarize(rounds, "pt"); err == nil {
		t.Error("a missing reference was not reported")
	}
}

func TestVersus(t *testing.T) {
	m := func(method string, took time.Duration, p99 time.Duration) measured {
		return measured{method: method, rows: 100, took: took, p99: p99, idle: time.Millisecond}
	}
	ms := time.Millisecond
	rounds := [][]measured{
		{m("vow", 1*time.Second, 4*ms), m("pt", 2*time.Second, 8*ms)}, // 2×, p99 0.5×
		{m("pt", 3*time.Second, 2*ms), m("vow", 2*time.Second, 3*ms)}, // 1.5×, p99 1.5×
		{m("vow", 1*time.Second, 2*ms), m("pt", 1*time.Second, 2*ms)}, // 1×, p99 1×
	}
	rate, p99, ok := versus(rounds, "vow", "pt")
	if !ok || !near(rate.Median, 1.5) || !near(rate.Min, 1) || !near(rate.Max, 2) || !near(p99.Median, 1) {
		t.Errorf("versus = %+v, %+v, %v; want throughput 1.5 (1–2), p99 1.0", rate, p99, ok)
	}
	if _, _, ok := versus(rounds, "vow", "raw"); ok {
		t.Error("versus a method no round has: ok")
	}
}

// TestNoSecondVowUnlessAsked: without -vow-also (its flag parses to an
// empty, non-nil slice) there is no second vow method; the harness once
// ran vow twice a round and printed it as a method of its own.
func TestNoSecondVowUnlessAsked(t *testing.T) {
	for _, tt := range []struct {
		flag, want string
	}{
		{"", ""},
		{"   ", ""},
		{"--latency-budget 1.5", "vow retention run --latency-budget 1.5"},
	} {
		if got := (config{vowAlso: strings.Fields(tt.flag)}).also(); got != tt.want {
			t.Errorf("-vow-also %q: second method %q, want %q", tt.flag, got, tt.want)
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestHarnessTiny runs the whole harness on a tiny table against both
// servers: it must build vow, purge with every method (pt-archiver where
// installed), find that they left the same rows, and print a summary.
func TestHarnessTiny(t *testing.T) {
	cfg := config{rows: 4000, expired: 0.25, key: "int", kinds: []string{"postgres", "mysql"}, rounds: 2, workers: 2, idle: 100 * time.Millisecond,
		vowAlso: []string{"--latency-budget", "1.5"}}
	if p, err := exec.LookPath("pt-archiver"); err == nil {
		cfg.ptArchiver = p
	}
	out := runTiny(t, cfg)
	for _, want := range []string{"| PostgreSQL | vow retention run | 2 |", "| MariaDB | raw DELETE | 2 |", "| MariaDB | 2 | 2 |", "| PostgreSQL | vow retention run --latency-budget 1.5 | 2 |", "vow retention run --latency-budget 1.5 / vow retention run, per round",
		"PostgreSQL: shared_buffers ", "MariaDB: innodb_buffer_pool_size ", "; the events table with its indexes "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if cfg.ptArchiver != "" && !strings.Contains(out.String(), "| MariaDB | pt-archiver | 2 |") {
		t.Errorf("pt-archiver is installed but not in the report:\n%s", out.String())
	}
	// Every method removed the expired rows, 1000 of 4000.
	if strings.Count(out.String(), "| 1000 |") < 8 {
		t.Errorf("not every purge removed 1000 rows:\n%s", out.String())
	}
}

// TestHarnessTinyUUID: with -key uuid the table is keyed by random uuids
// (CHAR(32) on MariaDB), the workload finds its rows by them, and every
// method must still leave exactly the rows not due — checked by their
// count, their accounts' sum and none expired, as ids no longer tell.
func TestHarnessTinyUUID(t *testing.T) {
	out := runTiny(t, config{rows: 3000, expired: 0.25, key: "uuid", kinds: []string{"postgres", "mysql"}, rounds: 1, workers: 2, idle: 100 * time.Millisecond})

	for _, want := range []string{"keys uuid", "| PostgreSQL | vow retention run | 1 |", "| MariaDB | raw DELETE | 1 |"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Count(out.String(), "| 750 |") < 4 {
		t.Errorf("not every purge removed 750 rows:\n%s", out.String())
	}
}

// runTiny builds vow and runs the harness with cfg, returning its report.
func runTiny(t *testing.T, cfg config) *bytes.Buffer {
	t.Helper()
	if testing.Short() {
		t.Skip("builds vow")
	}
	ctx := context.Background()
	bin, cleanup, err := buildVow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	cfg.vow, cfg.logf = bin, t.Logf
	var out bytes.Buffer
	if err := run(ctx, cfg, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}
