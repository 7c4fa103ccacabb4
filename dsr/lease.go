package dsr

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"
)

// ErrBusy: another runner holds the request's lease.
var ErrBusy = errors.New("request is being run elsewhere")

// leaseTTL is how long a request's lease lasts without renewal (state.Hold
// renews it every quarter of that while the run is alive): how long a
// request whose runner died waits before another resumes it.
const leaseTTL = 30 * time.Second

// newOwner names one run in leases: host and pid for whoever reads the
// lease, and a nonce that makes it unique — hosts and pids repeat across
// containers, so nothing is ever concluded from them.
func newOwner() string {
	host, _ := os.Hostname()
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}
