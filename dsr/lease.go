package dsr

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrBusy: another runner holds the request's lease.
var ErrBusy = errors.New("request is being run elsewhere")

// leaseTTL is how long a claim lasts without renewal; a heartbeat renews
// it while the run is alive, so only a runner that died leaves it to
// expire.
const leaseTTL = 2 * time.Minute

// newOwner names one run in leases: host, pid and a nonce, so that two
// runs in one process are told apart too.
func newOwner() string {
	host, _ := os.Hostname()
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// claim takes the request's lease, so that two runners (a CLI and a
// server worker, or two servers) never execute one request at once. A
// lease held by a process of this host that no longer exists (killed
// mid-run) is taken over at once, so a restart resumes without waiting.
func (s *Service) claim(ctx context.Context, id, owner string) error {
	now := s.now()
	res, err := s.Store.DB().ExecContext(ctx, s.Store.Rebind(`UPDATE requests SET lease_owner = ?, lease_until = ?
		WHERE id = ? AND (lease_until IS NULL OR lease_until < ?)`),
		owner, ts(now.Add(leaseTTL)), id, ts(now))
	if err != nil {
		return s.Store.Wrap(err, "dsr: claim %s", id)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var holder, until sql.NullString
	if err := s.Store.DB().QueryRowContext(ctx, s.Store.Rebind(`SELECT lease_owner, lease_until FROM requests WHERE id = ?`), id).Scan(&holder, &until); err != nil {
		return s.Store.Wrap(err, "dsr: claim %s", id)
	}
	if holder.String != "" && deadOnThisHost(holder.String) {
		res, err := s.Store.DB().ExecContext(ctx, s.Store.Rebind(`UPDATE requests SET lease_owner = ?, lease_until = ? WHERE id = ? AND lease_owner = ?`),
			owner, ts(now.Add(leaseTTL)), id, holder.String)
		if err != nil {
			return s.Store.Wrap(err, "dsr: claim %s", id)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			s.log().InfoContext(ctx, "dsr: took over the lease of a runner that is gone", "request", id, "from", holder.String)
			return nil
		}
	}
	return fmt.Errorf("dsr: %w: %s holds %s until %s", ErrBusy, holder.String, id, until.String)
}

// deadOnThisHost reports whether a lease owner is a process of this host
// that has exited.
func deadOnThisHost(holder string) bool {
	parts := strings.Split(holder, ":")
	if len(parts) != 3 {
		return false
	}
	host, _ := os.Hostname()
	pid, err := strconv.Atoi(parts[1])
	if parts[0] != host || err != nil || pid <= 0 {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// heartbeat renews the lease until stop is called.
func (s *Service) heartbeat(ctx context.Context, id, owner string) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(leaseTTL / 4)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := s.Store.DB().ExecContext(ctx, s.Store.Rebind(`UPDATE requests SET lease_until = ? WHERE id = ? AND lease_owner = ?`),
					ts(s.now().Add(leaseTTL)), id, owner); err != nil && ctx.Err() == nil {
					s.log().WarnContext(ctx, "dsr: renew lease", "request", id, "err", err)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// release gives the lease up.
func (s *Service) release(ctx context.Context, id, owner string) {
	if _, err := s.Store.DB().ExecContext(context.WithoutCancel(ctx), s.Store.Rebind(`UPDATE requests SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?`), id, owner); err != nil {
		s.log().WarnContext(ctx, "dsr: release lease", "request", id, "err", err)
	}
}
