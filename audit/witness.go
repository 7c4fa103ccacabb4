package audit

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/vowprivacy/vow/state"
)

// WitnessFile is the name of the witness file in Vow's data directory.
const WitnessFile = "audit.witness"

// witness is the last checkpoint an installation made.
type witness struct {
	Seq  int64     `json:"seq"`
	Hash string    `json:"hash"`
	At   time.Time `json:"at"`
}

func readWitness(path string) (witness, bool, error) {
	var w witness
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return w, false, nil
	}
	if err != nil {
		return w, false, fmt.Errorf("audit: read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return w, false, fmt.Errorf("audit: %s is not a witness file: %v", path, err)
	}
	return w, true, nil
}

// writeWitness records c as the last checkpoint this installation made,
// unless the file names a later one already.
func (l *Log) writeWitness(c state.Checkpoint) error {
	if l.Witness == "" {
		return nil
	}
	if w, ok, err := readWitness(l.Witness); err == nil && ok && w.Seq >= c.Seq {
		return nil
	}
	b, _ := json.Marshal(witness{Seq: c.Seq, Hash: hex.EncodeToString(c.Hash), At: c.At})
	if err := os.MkdirAll(filepath.Dir(l.Witness), 0o700); err != nil {
		return fmt.Errorf("audit: witness: %w", err)
	}
	tmp := l.Witness + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("audit: witness: %w", err)
	}
	if err := os.Rename(tmp, l.Witness); err != nil {
		return fmt.Errorf("audit: witness: %w", err)
	}
	return nil
}

// CheckWitness returns what is wrong with the store against the witness
// file: "" when the checkpoint it names is still there (or the log was
// pruned past it), otherwise a sentence naming the checkpoint that is
// gone or changed. No witness file, no problem.
func (l *Log) CheckWitness(ctx context.Context) (string, error) {
	if l.Witness == "" {
		return "", nil
	}
	w, ok, err := readWitness(l.Witness)
	if err != nil || !ok {
		return "", err
	}
	// The two checkpoints that decide, not all of them: every command
	// that appends seals, so a store keeps one checkpoint per command
	// run, and this runs at each.
	c, found, err := l.Store.CheckpointOf(ctx, w.Seq)
	if err != nil {
		return "", err
	}
	if found && hex.EncodeToString(c.Hash) == w.Hash {
		return "", nil
	}
	if !found {
		first, kept, err := l.Store.FirstCheckpoint(ctx)
		if err != nil {
			return "", err
		}
		if kept && first.Seq > w.Seq {
			return "", nil // pruned past it; the pruning is signed and verified
		}
	}
	return fmt.Sprintf("the checkpoint of entry %d that this installation made at %s (%s) is gone or changed: checkpoints were removed, and the log after them may have been rewritten",
		w.Seq, w.At.Format(time.RFC3339), l.Witness), nil
}

// checkWitness is CheckWitness as an error for Seal.
func (l *Log) checkWitness(ctx context.Context) error {
	p, err := l.CheckWitness(ctx)
	if err != nil {
		return fmt.Errorf("audit: seal: %w", err)
	}
	if p != "" {
		return fmt.Errorf("audit: seal: %w: %s; nothing was signed", ErrTampered, p)
	}
	return nil
}
