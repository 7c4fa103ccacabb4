package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vowprivacy/vow/internal/benchstat"
)

// Method names, as the report prints them.
const (
	methodRaw        = "raw DELETE"
	methodVow        = "vow retention run"
	methodPTArchiver = "pt-archiver"
)

// rotation returns the methods in the order round runs them: each round
// starts one further along, so that over len(methods) rounds every method
// runs first, second and last alike (the first on a cold machine, the last
// after the others' checkpoints and purges).
func rotation(methods []string, round int) []string {
	n := len(methods)
	out := make([]string, n)
	for i := range methods {
		out[i] = methods[(i+round)%n]
	}
	return out
}

// measured is one method's purge in one round.
type measured struct {
	method string
	rows   int64
	took   time.Duration
	// p50, p99 of the workload while the purge ran; idle its p99 on the
	// same freshly built table just before.
	p50, p99, idle time.Duration
	// The same p99 for reads and for writes alone, during the purge and
	// idle.
	readP99, writeP99, idleReadP99, idleWriteP99 time.Duration
	// left fingerprints the rows left (count and sum of ids): every
	// method of a round must leave the same.
	left string
}

func (m measured) rate() float64 { return float64(m.rows) / m.took.Seconds() }

// impact is the workload's p99 during the purge over its idle p99.
func (m measured) impact() float64 {
	if m.idle <= 0 {
		return 0
	}
	return float64(m.p99) / float64(m.idle)
}

// summary is one method's line of the report: its throughput over the
// reference's, round by round, and its p99 impact, round by round.
type summary struct {
	method        string
	vsRef, impact benchstat.Spread
	medianRate    float64
	rounds        int
}

// summarize reduces rounds (each a list of one round's measurements) to a
// line per method: the median of the per-round ratios of its throughput
// over ref's in the same round — never a ratio of medians, which pairs
// numbers from different moments of the machine — and of its p99 impact.
// It also checks that every method of a round left the same rows.
func summarize(rounds [][]measured, ref string) ([]summary, error) {
	byMethod := map[string]*struct{ vs, impact, rates []float64 }{}
	var order []string
	for i, round := range rounds {
		var base *measured
		for j := range round {
			if round[j].method == ref {
				base = &round[j]
			}
		}
		if base == nil {
			return nil, fmt.Errorf("round %d has no %s to compare with", i+1, ref)
		}
		for _, m := range round {
			if m.left != base.left {
				return nil, fmt.Errorf("round %d: %s left %s, %s left %s: they did not delete the same rows", i+1, m.method, m.left, ref, base.left)
			}
			s, ok := byMethod[m.method]
			if !ok {
				s = &struct{ vs, impact, rates []float64 }{}
				byMethod[m.method] = s
				order = append(order, m.method)
			}
			s.vs = append(s.vs, m.rate()/base.rate())
			s.impact = append(s.impact, m.impact())
			s.rates = append(s.rates, m.rate())
		}
	}
	var out []summary
	for _, name := range order {
		s := byMethod[name]
		out = append(out, summary{method: name, vsRef: benchstat.Of(s.vs), impact: benchstat.Of(s.impact), medianRate: benchstat.Median(s.rates), rounds: len(s.vs)})
	}
	return out, nil
}

// versus compares two methods round by round: a's throughput over b's,
// and a's p99 impact (p99 over its own idle p99) over b's, each as the
// median of per-round ratios.
// ok is false when a round lacks one of them.
func versus(rounds [][]measured, a, b string) (rate, p99 benchstat.Spread, ok bool) {
	var rs, ps []float64
	for _, round := range rounds {
		var ma, mb *measured
		for i := range round {
			switch round[i].method {
			case a:
				ma = &round[i]
			case b:
				mb = &round[i]
			}
		}
		if ma == nil || mb == nil {
			return benchstat.Spread{}, benchstat.Spread{}, false
		}
		rs = append(rs, ma.rate()/mb.rate())
		// Each method has its own idle baseline: compare impacts.
		ps = append(ps, ma.impact()/mb.impact())
	}
	return benchstat.Of(rs), benchstat.Of(ps), len(rs) > 0
}

// writeRounds prints every measurement, round by round: the raw output
// the summary is computed from.
func writeRounds(w io.Writer, kind string, rounds [][]measured) {
	fmt.Fprintln(w, "| database | round | order | method | rows | time | rows/s | workload p50 | p99 | idle p99 | p99 / idle | reads p99 (idle) | writes p99 (idle) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for i, round := range rounds {
		for j, m := range round {
			fmt.Fprintf(w, "| %s | %d | %d | %s | %d | %s | %.0f | %s | %s | %s | %.2f× | %s (%s) | %s (%s) |\n", kind, i+1, j+1, m.method, m.rows,
				m.took.Round(time.Millisecond), m.rate(), ms(m.p50), ms(m.p99), ms(m.idle), m.impact(),
				ms(m.readP99), ms(m.idleReadP99), ms(m.writeP99), ms(m.idleWriteP99))
		}
	}
}

// writeSummary prints the per-method lines.
func writeSummary(w io.Writer, kind, ref string, sums []summary) {
	fmt.Fprintf(w, "| database | method | rounds | median rows/s | throughput vs %s, median (min–max) | workload p99 / idle, median (min–max) |\n", ref)
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, s := range sums {
		fmt.Fprintf(w, "| %s | %s | %d | %.0f | %s | %s |\n", kind, s.method, s.rounds, s.medianRate, s.vsRef, s.impact)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// dbLabel names a kind as the report does.
func dbLabel(kind string) string {
	return map[string]string{"postgres": "PostgreSQL", "mysql": "MariaDB"}[kind]
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
