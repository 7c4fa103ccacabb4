// Package audit keeps Vow's own audit log honest. The state store appends
// every action of Vow to its event log, each entry chained to the one
// before by a hash (state.ChainHash). This package seals the chain with
// checkpoints signed by Vow's key, verifies it — telling a changed,
// removed, inserted or reordered entry, and where — exports it as JSON
// Lines that a third party can verify with the public key alone, and
// prunes it by the retention the policy declares for it, keeping what is
// left verifiable from the checkpoint it starts at.
//
// What a hash chain cannot tell: entries appended after the last
// checkpoint are chained but not yet sealed, so someone who can write the
// store could rewrite those and recompute their hashes. Vow seals often
// (the server every minute, each command that appends before it exits),
// and verification reports how many entries are not yet sealed.
package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vowprivacy/vow/identity"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/state"
)

// Signer signs checkpoints: Vow's keyring.
type Signer interface {
	ID() string
	Sign(msg []byte) []byte
	// Trusted are the public keys of every generation of the signing
	// key: checkpoints signed before a rotation still verify.
	Trusted() []ed25519.PublicKey
}

// Log seals and prunes the audit log held by a state store.
type Log struct {
	Store *state.Store
	Keys  Signer
	// Witness is a file outside the store (in the data directory) where
	// this installation keeps the last checkpoint it made. Someone who can
	// write the store could delete the checkpoints after a rewrite and
	// let Vow seal the rewritten log; Seal and [Log.CheckWitness] notice
	// that the checkpoint the witness names is gone. "" keeps none.
	Witness string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (l *Log) now() time.Time {
	if l.Now != nil {
		return l.Now().UTC()
	}
	return time.Now().UTC()
}

// checkpointMessage is what a checkpoint's signature covers: the entry
// it seals and the checkpoint before it.
func checkpointMessage(c state.Checkpoint) []byte {
	return []byte("vow.audit.checkpoint.v2\n" + strconv.FormatInt(c.Seq, 10) + "\n" + hex.EncodeToString(c.Hash) + "\n" +
		c.At.UTC().Format(time.RFC3339Nano) + "\n" + c.KeyID + "\n" + strconv.FormatInt(c.PrevSeq, 10) + "\n" + hex.EncodeToString(c.PrevHash) + "\n")
}

// Seal signs a checkpoint at the head of the log, chained to the last
// checkpoint, unless the head is sealed already or the log is empty. It
// first checks what it is about to vouch for: the entries since the last
// checkpoint must hash and link to it, and the last checkpoint this
// installation made (its witness file) must still be in the store; if not
// it signs nothing and returns an error wrapping [ErrTampered]. It
// returns the checkpoint (only Seq and Hash when it made none) and
// whether it made a new one.
func (l *Log) Seal(ctx context.Context) (state.Checkpoint, bool, error) {
	seq, hash, err := l.Store.Head(ctx)
	if err != nil {
		return state.Checkpoint{}, false, fmt.Errorf("audit: seal: %w", err)
	}
	if seq == 0 {
		return state.Checkpoint{}, false, nil
	}
	last, ok, err := l.Store.LastCheckpoint(ctx)
	if err != nil {
		return state.Checkpoint{}, false, fmt.Errorf("audit: seal: %w", err)
	}
	if ok && last.Seq >= seq {
		return state.Checkpoint{Seq: seq, Hash: hash}, false, nil
	}
	if err := l.checkWitness(ctx); err != nil {
		return state.Checkpoint{}, false, err
	}
	if err := l.checkTail(ctx, last, ok); err != nil {
		return state.Checkpoint{}, false, err
	}
	c := state.Checkpoint{Seq: seq, At: l.now().Truncate(time.Microsecond), Hash: hash, KeyID: l.Keys.ID()}
	if ok {
		c.PrevSeq, c.PrevHash = last.Seq, last.Hash
	}
	c.Signature = l.Keys.Sign(checkpointMessage(c))
	if err := l.Store.SaveCheckpoint(ctx, c); err != nil {
		return state.Checkpoint{}, false, fmt.Errorf("audit: seal: %w", err)
	}
	if err := l.writeWitness(c); err != nil {
		return c, true, err
	}
	return c, true, nil
}

// checkTail checks the entries after the last checkpoint: each hashes to
// its hash and links to the one before, the first to the checkpoint.
func (l *Log) checkTail(ctx context.Context, last state.Checkpoint, sealed bool) error {
	var prev []byte
	after := int64(0)
	if sealed {
		prev, after = last.Hash, last.Seq-1
	}
	first := true
	err := l.Store.EachEvent(ctx, state.EventFilter{After: after}, func(e state.Event) error {
		// The checkpoint's own entry may have been pruned: then the
		// first entry links to the checkpoint.
		if first && sealed && e.Seq == last.Seq {
			first = false
			if !bytes.Equal(e.Hash, last.Hash) {
				return fmt.Errorf("entry %d differs from its checkpoint", e.Seq)
			}
			return nil
		}
		first = false
		if !bytes.Equal(state.ChainHash(e.Prev, e), e.Hash) {
			return fmt.Errorf("entry %d was changed", e.Seq)
		}
		if !bytes.Equal(e.Prev, prev) {
			return fmt.Errorf("entry %d does not follow the entry before it", e.Seq)
		}
		prev = e.Hash
		return nil
	})
	if err != nil {
		return fmt.Errorf("audit: seal: %w: %v; nothing was signed (vow audit verify lists every problem)", ErrTampered, err)
	}
	return nil
}

// Trusted are the public keys whose checkpoints verification accepts, by
// key ID (keyring.KeyID).
type Trusted map[string]ed25519.PublicKey

// TrustKeys returns the keys as Trusted.
func TrustKeys(keys ...ed25519.PublicKey) Trusted {
	t := Trusted{}
	for _, k := range keys {
		t[keyring.KeyID(k)] = k
	}
	return t
}

// ErrTampered is wrapped by the error of operations that refuse to act on
// a log that does not verify, such as pruning it.
var ErrTampered = errors.New("the audit log does not verify")

// Pseudonymizer makes keyed pseudonyms: Vow's keyring.
type Pseudonymizer interface{ Pseudonym(value string) string }

// Subject is how the log names a person: the keyed pseudonym of their
// identity in its canonical form (identity.Canonical), never the identity
// itself. An auditor who holds the identity finds the entries about them
// (vow audit export --identity); the log alone names no one, so erasing a
// person leaves nothing of theirs in it, and its chain stays whole.
func Subject(k Pseudonymizer, identityValue string) string {
	return k.Pseudonym(identity.Canonical(identityValue))
}

// Identity is how the log names the person an identity of a known kind
// names. An email address or a phone number names one person everywhere,
// so its pseudonym is [Subject]'s, the one consent and policy records use;
// any other kind (user_id, customer_id, …) names a row of one table —
// customer 7 is not employee 7 — so its pseudonym covers the kind too.
func Identity(k Pseudonymizer, kind, value string) string {
	if v, err := identity.Normalize(kind, value); err == nil {
		value = v
	}
	if identity.Global(kind) {
		return Subject(k, value)
	}
	return k.Pseudonym(kind + ":" + strings.TrimSpace(value))
}
