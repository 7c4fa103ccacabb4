package throttle

import (
	"time"

	"github.com/vowprivacy/vow/policy"
)

// FromPolicy returns the budget a policy's retention.throttle sets; nil
// (no throttle block) is the defaults. Fields a run sets itself (Start,
// Fixed, Pause, ProbeEvery) are left zero.
func FromPolicy(t *policy.Throttle) Config {
	if t == nil {
		return Config{}
	}
	return Config{
		BatchTime:    time.Duration(t.BatchTime),
		MaxBatch:     t.MaxBatch,
		Impact:       t.Impact,
		Max:          limitsOf(t.MaxLoad),
		Critical:     limitsOf(t.CriticalLoad),
		CriticalWait: time.Duration(t.CriticalWait),
		Latency:      t.LatencyBudget,
	}
}

func limitsOf(l *policy.LoadLimits) Limits {
	if l == nil {
		return Limits{}
	}
	return Limits{ThreadsRunning: l.ThreadsRunning, LockWaits: l.LockWaits, HistoryLength: l.HistoryLength, Lag: time.Duration(l.Lag)}
}
