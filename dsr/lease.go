package dsr

import (
	"errors"
	"time"
)

// ErrBusy: another runner holds the request's lease.
var ErrBusy = errors.New("request is being run elsewhere")

// leaseTTL is how long a request's lease lasts without renewal (state.Hold
// renews it every quarter of that while the run is alive): how long a
// request whose runner died waits before another resumes it.
const leaseTTL = 30 * time.Second
