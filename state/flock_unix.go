//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package state

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
)

// flock takes an exclusive advisory lock on the file at path, creating it if
// needed, and waits for it until ctx is done. It is used to keep two Vow
// processes (or two Opens in one process) from migrating the same SQLite
// file at once.
func flock(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
