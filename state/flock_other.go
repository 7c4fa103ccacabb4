//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package state

import "context"

// flock is a no-op where flock(2) is unavailable: there, concurrent first
// opens of one SQLite file may race on migrations.
func flock(ctx context.Context, path string) (unlock func(), err error) {
	return func() {}, nil
}
