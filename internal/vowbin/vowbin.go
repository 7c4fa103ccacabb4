// Package vowbin builds the vow command for the benchmark harnesses, the
// way `make build` builds it for users: so that a harness measures the
// binary people run.
package vowbin

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Build builds the vow command of this checkout into dir and returns the
// binary's path. Like `make build` it builds without cgo: Vow needs none
// (its SQLite is pure Go), and a static binary starts about a millisecond
// sooner than one the dynamic loader has to link first.
func Build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "vow")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/vowprivacy/vow/cmd/vow")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build vow: %w\n%s", err, out)
	}
	return bin, nil
}
