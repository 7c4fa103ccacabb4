package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// EnvTrace, set to 1, makes a command print to stderr when each phase of
// its work ended: where a one-shot request's time goes (policy, state
// store, keys, datastore, steps, package or certificate, sealing). Each
// line carries the wall clock in Unix nanoseconds, so that a parent
// process (dsr/dsrbench) can place the phases in its own timing, process
// start and exit included.
const EnvTrace = "VOW_TRACE"

// tracer writes trace lines; a nil *tracer writes nothing.
type tracer struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
	last  time.Time
}

// newTracer returns a tracer writing to w when $VOW_TRACE is 1, else nil.
func newTracer(w io.Writer) *tracer {
	if os.Getenv(EnvTrace) != "1" {
		return nil
	}
	now := time.Now()
	t := &tracer{w: w, start: now, last: now}
	t.mark("main")
	return t
}

// mark records that phase has just ended.
func (t *tracer) mark(phase string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	fmt.Fprintf(t.w, "vow: trace: t=%d %8.2fms %8.2fms %s\n", now.UnixNano(),
		ms(now.Sub(t.start)), ms(now.Sub(t.last)), phase)
	t.last = now
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
