package policy

import (
	"fmt"
	"time"
)

// Lints called from lint (lint.go): durations that cannot be zero, and
// the conditions of retention rules.

// zeroDurations reports a period written as zero ("0d") where zero makes
// no sense. Zero is meaningful only for a retention rule's keep (remove
// rows as soon as the rule's where holds); elsewhere it is almost
// certainly a mistake that would be published as a promise: backups kept
// for no time, a legal hold that holds nothing, a grace period with no
// grace, a cookie that lasts no time.
//
// Call it from lint, next to the other checks (e.g. after l.cookies()).
func (l *linter) zeroDurations() {
	p := l.p
	zero := func(path string, d Duration, hint, format string, args ...any) {
		if d.IsZeroLength() {
			l.errorf(path, "zero-duration", hint, format, args...)
		}
	}
	zero("retention.backups", p.Retention.Backups,
		"write how long backups are kept, e.g. 35d, or remove backups: if there are none",
		"backups kept for %s are not kept at all", p.Retention.Backups)
	zero("retention.audit_log", p.Retention.AuditLog,
		"write how long Vow keeps its audit log, e.g. 12 months, or remove audit_log: to keep it for ever",
		"an audit log kept for %s keeps no record of what Vow did", p.Retention.AuditLog)
	zero("retention.requests", p.Retention.Requests,
		"write how long Vow keeps the record of a request that has ended, e.g. 3y, or remove requests: to keep them for ever",
		"request records kept for %s leave no proof that a request was answered", p.Retention.Requests)
	for _, s := range p.Systems {
		for _, t := range s.Tables {
			path := "systems." + s.Name + ".tables." + t.Name
			if t.Erase != nil && t.Erase.Method == Hold {
				zero(path+".erase.for", t.Erase.For,
					"write how long the rows must be kept, e.g. for: 10y, or remove the hold",
					"the hold on %s:%s is for %s, which holds nothing", s.Name, t.Name, t.Erase.For)
			}
			for _, f := range t.Fields {
				if f.Erase != nil && f.Erase.Method == Hold {
					zero(path+".fields."+f.Name+".erase.for", f.Erase.For,
						"write how long the column must be kept, e.g. for: 10y, or remove the hold",
						"the hold on %s:%s.%s is for %s, which holds nothing", s.Name, t.Name, f.Name, f.Erase.For)
				}
			}
		}
	}
	if g := p.Rights.ErasureGrace; g != nil {
		zero("rights.erasure_grace.period", g.Period,
			"write how long an account can still be recovered, e.g. 14d, or remove erasure_grace",
			"an erasure grace period of %s gives no time to cancel", g.Period)
	}
	for i, c := range p.Cookies {
		zero(fmt.Sprintf("cookies[%d].duration", i), c.Duration,
			"write how long the cookie lasts, e.g. 30d, or remove duration: for a session cookie",
			"cookie %q lasts %s", c.Name, c.Duration)
	}
}

// ruleCondition reports a retention rule whose where CheckCondition
// refuses: the retention engine would refuse to run it, and a where that
// reaches outside its parentheses could remove rows no rule selects.
//
// Call it from (*linter).retention, in the loop over the rules, with the
// rule's path ("retention.rules[i]").
func (l *linter) ruleCondition(path string, r *Rule) {
	if r.Where == "" {
		return
	}
	if err := CheckCondition(r.Where); err != nil {
		l.errorf(path+".where", "unsafe-condition",
			"write one SQL condition as it would follow WHERE: balanced parentheses, no ';', no comments",
			"retention rule %q: the condition cannot be used: %v", r.Name, err)
	}
}

// throttle checks retention.throttle: numbers a run cannot pace itself by,
// and critical limits below the limits where a run only backs off (the
// run would stop before it ever slowed down).
func (l *linter) throttle() {
	t := l.p.Retention.Throttle
	if t == nil {
		return
	}
	const path = "retention.throttle"
	if t.BatchTime < 0 {
		l.errorf(path+".batch_time", "bad-throttle", "write how long a batch should take, e.g. 500ms", "batch_time cannot be turned off")
	}
	if t.CriticalWait < 0 {
		l.errorf(path+".critical_wait", "bad-throttle", "write how long to wait, e.g. 5m", "critical_wait cannot be turned off")
	}
	if t.MaxBatch < 0 {
		l.errorf(path+".max_batch", "bad-throttle", "write the most rows a batch may hold, e.g. 50000", "max_batch %d is negative", t.MaxBatch)
	}
	if t.Impact != 0 && t.Impact != -1 && t.Impact <= 1 {
		l.errorf(path+".impact", "bad-throttle", "write how many times its baseline cost a row may take, above 1, e.g. 2 (-1 turns the check off)", "impact %g would back off from the baseline itself", t.Impact)
	}
	if t.LatencyBudget != 0 && t.LatencyBudget <= 1 {
		l.errorf(path+".latency_budget", "bad-throttle", "write how many times its time before the run a point read may take, above 1, e.g. 1.5 (omit it to turn the canary off)", "latency_budget %g would back off from the baseline itself", t.LatencyBudget)
	}
	for _, lim := range []struct {
		key string
		l   *LoadLimits
	}{{"max_load", t.MaxLoad}, {"critical_load", t.CriticalLoad}} {
		if lim.l == nil {
			continue
		}
		for _, f := range []struct {
			key string
			v   int64
		}{{"threads_running", int64(lim.l.ThreadsRunning)}, {"lock_waits", int64(lim.l.LockWaits)}, {"history_length", lim.l.HistoryLength}} {
			if f.v < -1 {
				l.errorf(path+"."+lim.key+"."+f.key, "bad-throttle", "write a limit, or -1 to turn it off", "%s %d is negative", f.key, f.v)
			}
		}
	}
	if t.MaxLoad == nil || t.CriticalLoad == nil {
		return
	}
	below := func(key string, maxV, critV int64) {
		if maxV > 0 && critV > 0 && critV < maxV {
			show := func(v int64) string { return fmt.Sprint(v) }
			if key == "lag" {
				show = func(v int64) string { return time.Duration(v).String() }
			}
			l.errorf(path+".critical_load."+key, "bad-throttle", "set critical_load above max_load", "critical %s %s is below max_load's %s: runs would stop before they slowed down", key, show(critV), show(maxV))
		}
	}
	below("threads_running", int64(t.MaxLoad.ThreadsRunning), int64(t.CriticalLoad.ThreadsRunning))
	below("lock_waits", int64(t.MaxLoad.LockWaits), int64(t.CriticalLoad.LockWaits))
	below("history_length", t.MaxLoad.HistoryLength, t.CriticalLoad.HistoryLength)
	below("lag", int64(t.MaxLoad.Lag), int64(t.CriticalLoad.Lag))
}
