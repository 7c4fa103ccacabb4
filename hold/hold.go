// Package hold owns legal holds on data subjects: a hold says that the data
// of one person (named by an identity such as email:ada@example.com or
// user_id:42) must not be removed, with a reason, who placed it and until
// when. Holds are kept in Vow's state store (table legal_holds) and are
// never deleted: releasing one records who released it and when.
//
// [Condition] is the one test of whether a row is held, shared by erasure
// requests and retention runs: a row is held when it, or a row that owns
// it at any depth, carries a held identity.
package hold

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vowprivacy/vow/identity"
	"github.com/vowprivacy/vow/state"
)

// Kinds are the identity kinds a hold may name; they are the identity
// values a policy field may declare (identity: email, user_id, …).
var Kinds = identity.Kinds

// Errors callers branch on.
var (
	// ErrInvalid is wrapped by errors caused by invalid input.
	ErrInvalid = errors.New("invalid hold")
	// ErrNotFound is returned when no hold has the given ID.
	ErrNotFound = errors.New("hold not found")
	// ErrReleased is returned when releasing a hold released already.
	ErrReleased = errors.New("hold already released")
)

// Subject identifies a data subject by one of its identities.
type Subject struct {
	// Kind is one of [Kinds].
	Kind string `json:"kind"`
	// Value is the identity, e.g. an email address or a user ID.
	Value string `json:"value"`
}

func (s Subject) String() string { return s.Kind + ":" + s.Value }

// ParseSubject parses "kind:value", e.g. "email:ada@example.com". Email
// addresses are compared in lower case.
func ParseSubject(s string) (Subject, error) {
	kind, value, ok := strings.Cut(strings.TrimSpace(s), ":")
	value = strings.TrimSpace(value)
	if !ok || value == "" {
		return Subject{}, fmt.Errorf("subject %q must be kind:value, e.g. email:ada@example.com or user_id:42: %w", s, ErrInvalid)
	}
	if !slices.Contains(Kinds, kind) {
		return Subject{}, fmt.Errorf("subject %q: unknown identity kind %q (use %s): %w", s, kind, strings.Join(Kinds, ", "), ErrInvalid)
	}
	v, err := identity.Normalize(kind, value)
	if err != nil {
		return Subject{}, fmt.Errorf("subject %q: %w: %w", s, err, ErrInvalid)
	}
	return Subject{Kind: kind, Value: v}, nil
}

// Hold is one legal hold.
type Hold struct {
	ID       string    `json:"id"`
	Subject  Subject   `json:"subject"`
	Reason   string    `json:"reason"`
	PlacedBy string    `json:"placed_by"`
	PlacedAt time.Time `json:"placed_at"`
	// Until, when set, ends the hold by itself.
	Until       *time.Time `json:"until,omitempty"`
	ReleasedAt  *time.Time `json:"released_at,omitempty"`
	ReleasedBy  string     `json:"released_by,omitempty"`
	ReleaseNote string     `json:"release_note,omitempty"`
}

// Open reports whether the hold is in force at now.
func (h Hold) Open(now time.Time) bool {
	return h.ReleasedAt == nil && (h.Until == nil || now.Before(*h.Until))
}

// Book keeps holds in the state store.
type Book struct {
	store *state.Store
	now   func() time.Time
}

// New returns a Book over an open state store.
func New(s *state.Store) *Book { return &Book{store: s, now: time.Now} }

// Place records a new hold and appends a hold.placed event.
func (b *Book) Place(ctx context.Context, subject Subject, reason, by string, until *time.Time) (Hold, error) {
	if strings.TrimSpace(reason) == "" {
		return Hold{}, fmt.Errorf("hold: a reason is required (say why the data must be kept): %w", ErrInvalid)
	}
	if strings.TrimSpace(by) == "" {
		return Hold{}, fmt.Errorf("hold: who places the hold is required: %w", ErrInvalid)
	}
	v, err := identity.Normalize(subject.Kind, subject.Value)
	if err != nil {
		return Hold{}, fmt.Errorf("hold: subject %s: %w: %w", subject, err, ErrInvalid)
	}
	subject.Value = v
	now := b.now().UTC().Truncate(time.Microsecond)
	if until != nil && !until.After(now) {
		return Hold{}, fmt.Errorf("hold: until %s is in the past: %w", until.Format(time.DateOnly), ErrInvalid)
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return Hold{}, fmt.Errorf("hold: id: %w", err)
	}
	h := Hold{ID: "hold_" + hex.EncodeToString(rnd[:]), Subject: subject, Reason: strings.TrimSpace(reason), PlacedBy: by, PlacedAt: now, Until: until}
	_, err = b.store.DB().ExecContext(ctx, b.store.Rebind(
		`INSERT INTO legal_holds (id, subject_kind, subject_value, reason, placed_by, placed_at, until_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		h.ID, subject.Kind, subject.Value, h.Reason, by, b.tv(now), b.tvp(until))
	if err != nil {
		return Hold{}, b.store.Wrap(err, "hold: place")
	}
	// The event names the hold, not the person: the log outlives the hold.
	if _, err := b.store.Append(ctx, state.Event{Kind: "hold.placed", Subject: h.ID, Actor: by,
		Data: []byte(fmt.Sprintf(`{"kind":%q}`, subject.Kind))}); err != nil {
		return Hold{}, err
	}
	return h, nil
}

// Release ends a hold.
func (b *Book) Release(ctx context.Context, id, by, note string) (Hold, error) {
	h, err := b.Get(ctx, id)
	if err != nil {
		return Hold{}, err
	}
	if h.ReleasedAt != nil {
		return h, fmt.Errorf("hold: %s was released on %s by %s: %w", id, h.ReleasedAt.Format(time.DateOnly), h.ReleasedBy, ErrReleased)
	}
	now := b.now().UTC().Truncate(time.Microsecond)
	res, err := b.store.DB().ExecContext(ctx, b.store.Rebind(
		`UPDATE legal_holds SET released_at = ?, released_by = ?, release_note = ? WHERE id = ? AND released_at IS NULL`),
		b.tv(now), by, note, id)
	if err != nil {
		return Hold{}, b.store.Wrap(err, "hold: release %s", id)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Hold{}, fmt.Errorf("hold: %s: %w", id, ErrReleased)
	}
	if _, err := b.store.Append(ctx, state.Event{Kind: "hold.released", Subject: id, Actor: by}); err != nil {
		return Hold{}, err
	}
	h.ReleasedAt, h.ReleasedBy, h.ReleaseNote = &now, by, note
	return h, nil
}

// Get returns one hold.
func (b *Book) Get(ctx context.Context, id string) (Hold, error) {
	hs, err := b.query(ctx, ` WHERE id = ?`, id)
	if err != nil {
		return Hold{}, err
	}
	if len(hs) == 0 {
		return Hold{}, fmt.Errorf("hold: %s: %w", id, ErrNotFound)
	}
	return hs[0], nil
}

// List returns every hold, newest first; with all false, only open ones.
func (b *Book) List(ctx context.Context, all bool) ([]Hold, error) {
	hs, err := b.query(ctx, ``)
	if err != nil {
		return nil, err
	}
	if all {
		return hs, nil
	}
	now := b.now()
	return slices.DeleteFunc(hs, func(h Hold) bool { return !h.Open(now) }), nil
}

// Subjects returns the subjects with an open hold, grouped by kind: what
// retention needs to skip their rows.
func (b *Book) Subjects(ctx context.Context) (map[string][]string, error) {
	hs, err := b.List(ctx, false)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, h := range hs {
		if !slices.Contains(out[h.Subject.Kind], h.Subject.Value) {
			out[h.Subject.Kind] = append(out[h.Subject.Kind], h.Subject.Value)
		}
	}
	return out, nil
}

func (b *Book) query(ctx context.Context, where string, args ...any) ([]Hold, error) {
	rows, err := b.store.DB().QueryContext(ctx, b.store.Rebind(
		`SELECT id, subject_kind, subject_value, reason, placed_by, placed_at, until_at, released_at, released_by, release_note FROM legal_holds`+where+` ORDER BY placed_at DESC, id`), args...)
	if err != nil {
		return nil, b.store.Wrap(err, "hold: list")
	}
	defer rows.Close()
	var out []Hold
	for rows.Next() {
		var (
			h                   Hold
			placed              any
			until, released     any
			releasedBy, relNote sql.NullString
		)
		if err := rows.Scan(&h.ID, &h.Subject.Kind, &h.Subject.Value, &h.Reason, &h.PlacedBy, &placed, &until, &released, &releasedBy, &relNote); err != nil {
			return nil, b.store.Wrap(err, "hold: list")
		}
		p, err := scanTime(placed)
		if err != nil || p == nil {
			return nil, fmt.Errorf("hold: %s: bad placed_at: %v", h.ID, err)
		}
		h.PlacedAt = *p
		if h.Until, err = scanTime(until); err != nil {
			return nil, err
		}
		if h.ReleasedAt, err = scanTime(released); err != nil {
			return nil, err
		}
		h.ReleasedBy, h.ReleaseNote = releasedBy.String, relNote.String
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, b.store.Wrap(err, "hold: list")
	}
	return out, nil
}

// timeLayout is how the SQLite state store keeps times: fixed width, so
// text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func (b *Book) tv(t time.Time) any {
	if b.store.Dialect() == state.DialectPostgres {
		return t.UTC()
	}
	return t.UTC().Format(timeLayout)
}

func (b *Book) tvp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return b.tv(*t)
}

func scanTime(v any) (*time.Time, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case time.Time:
		t := x.UTC()
		return &t, nil
	case string:
		t, err := time.Parse(timeLayout, x)
		if err != nil {
			return nil, fmt.Errorf("hold: bad time %q: %w", x, err)
		}
		return &t, nil
	case []byte:
		return scanTime(string(x))
	}
	return nil, fmt.Errorf("hold: unexpected time value %T", v)
}
