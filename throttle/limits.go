package throttle

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseLimits reads limits written as gh-ost's --max-load is:
// "threads_running=25,lag=10s,history_length=1000000,lock_waits=4". A
// value of -1 turns a default limit off.
func ParseLimits(s string) (Limits, error) {
	var lim Limits
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || v == "" {
			return Limits{}, fmt.Errorf("limit %q: want name=value, e.g. threads_running=25", part)
		}
		if k == "lag" {
			d, err := time.ParseDuration(v)
			if v == "-1" {
				d, err = -1, nil
			}
			if err != nil || d == 0 || (d < 0 && d != -1) {
				return Limits{}, fmt.Errorf("limit %q: lag is a positive duration, e.g. lag=10s (-1 turns it off)", part)
			}
			lim.Lag = d
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < -1 || n == 0 {
			return Limits{}, fmt.Errorf("limit %q: %s is a positive whole number (-1 turns it off)", part, k)
		}
		switch k {
		case "threads_running":
			lim.ThreadsRunning = int(n)
		case "lock_waits":
			lim.LockWaits = int(n)
		case "history_length":
			lim.HistoryLength = n
		default:
			return Limits{}, fmt.Errorf("limit %q: unknown name %q; use threads_running, lock_waits, history_length or lag", part, k)
		}
	}
	return lim, nil
}
