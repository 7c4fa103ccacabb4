// Package breach keeps the register of personal-data breaches that GDPR
// Art. 33(5) asks every controller to keep: each incident with what
// happened, when it was discovered, the systems and data categories it
// touched, how many subjects and records that is (counted from the
// systems the policy declares), the deadline for telling the supervisory
// authority (discovery plus notices.breach_notice_hours, 72 by default),
// and its course — containment, notification of the authority and of the
// subjects, closure — each step an entry of Vow's audit log. It drafts the
// notice to the authority with what Art. 33(3) requires and the notice to
// the subjects (Art. 34), and warns as the deadline nears.
package breach

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/state"
)

// Status is where an incident stands.
type Status string

// The course of an incident: open (being handled), contained (the breach
// has stopped), notified (the authority has been told, or need not be),
// closed.
const (
	Open      Status = "open"
	Contained Status = "contained"
	Notified  Status = "notified"
	Closed    Status = "closed"
)

// Risk is the assessed risk to the subjects' rights and freedoms, which
// decides who must be told: no one but the register when the breach is
// unlikely to result in a risk (Art. 33(1)), the authority when it is a
// risk, the subjects as well when it is high (Art. 34(1)).
type Risk string

// Risks.
const (
	Unassessed Risk = "unassessed"
	Unlikely   Risk = "unlikely"
	AtRisk     Risk = "risk"
	High       Risk = "high"
)

// Party is who is told of a breach.
type Party string

// Parties.
const (
	Authority Party = "authority"
	Subjects  Party = "subjects"
)

// DefaultNoticeHours is the window to notify the authority when the
// policy does not set notices.breach_notice_hours (GDPR Art. 33(1)).
const DefaultNoticeHours = 72

// Errors callers branch on.
var (
	// ErrNotFound: no incident has that ID.
	ErrNotFound = errors.New("breach: no such incident")
	// ErrInvalid wraps input that cannot be recorded; the message names
	// the field.
	ErrInvalid = errors.New("breach: invalid input")
	// ErrState: the step does not fit where the incident stands.
	ErrState = errors.New("breach: not possible now")
)

// Incident is one breach in the register.
type Incident struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Discovered  time.Time  `json:"discovered_at"`
	Occurred    *time.Time `json:"occurred_at,omitempty"`
	// Deadline is when the authority must have been told.
	Deadline     time.Time `json:"deadline"`
	Status       Status    `json:"status"`
	Risk         Risk      `json:"risk"`
	Systems      []string  `json:"systems"`
	Categories   []string  `json:"categories"`
	Consequences string    `json:"consequences"`
	Measures     string    `json:"measures"`
	// DelayReason explains a notification later than the deadline, as
	// Art. 33(1) requires.
	DelayReason        string     `json:"delay_reason,omitempty"`
	Affected           *Affected  `json:"affected,omitempty"`
	AuthorityNotified  *time.Time `json:"authority_notified_at,omitempty"`
	AuthorityReference string     `json:"authority_reference,omitempty"`
	SubjectsNotified   *time.Time `json:"subjects_notified_at,omitempty"`
	ClosedAt           *time.Time `json:"closed_at,omitempty"`
	// Warned is the last deadline warning given: "", "24h", "6h" or
	// "overdue".
	Warned    string    `json:"warned,omitempty"`
	CreatedBy string    `json:"created_by"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Awaiting reports whether the authority is still to be told: the
// deadline runs.
func (i *Incident) Awaiting() bool {
	return i.Status != Closed && i.AuthorityNotified == nil && i.Risk != Unlikely
}

// Opener opens the connector of a declared system: datastore.Resolver.
type Opener interface {
	Open(ctx context.Context, sys *policy.System) (connector.SQL, error)
}

// Register is the breach register, kept in Vow's state store.
type Register struct {
	Store  *state.Store
	Policy *policy.Policy
	// Datastores opens the declared systems, to count and list the
	// affected subjects.
	Datastores Opener
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (r *Register) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// window is the notice window the policy promises.
func (r *Register) window() time.Duration {
	return time.Duration(cmp.Or(r.Policy.Notices.BreachNoticeHours, DefaultNoticeHours)) * time.Hour
}

// New describes an incident being opened.
type New struct {
	Title       string
	Description string
	// Discovered is when the controller became aware of the breach: the
	// deadline runs from it. Now when zero.
	Discovered time.Time
	// Occurred is when the breach began, if known.
	Occurred     time.Time
	Systems      []string
	Categories   []string
	Risk         Risk
	Consequences string
	Measures     string
	// By names who records it (a user, an API token).
	By string
}

// InputError is bad input: the field at fault and why. It wraps
// [ErrInvalid].
type InputError struct {
	Field string
	Msg   string
}

func (e *InputError) Error() string { return "breach: " + e.Field + ": " + e.Msg }

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *InputError) Unwrap() error { return ErrInvalid }

func inputErr(field, format string, args ...any) error {
	return &InputError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Open records a new incident and starts its deadline.
func (r *Register) Open(ctx context.Context, n New) (*Incident, error) {
	now := r.now()
	inc := &Incident{
		Title: strings.TrimSpace(n.Title), Description: strings.TrimSpace(n.Description),
		Discovered: n.Discovered.UTC().Truncate(time.Microsecond), Status: Open, Risk: cmp.Or(n.Risk, Unassessed),
		Systems: n.Systems, Categories: n.Categories, Consequences: strings.TrimSpace(n.Consequences),
		Measures: strings.TrimSpace(n.Measures), CreatedBy: cmp.Or(n.By, "vow"), UpdatedAt: now.Truncate(time.Microsecond),
	}
	if n.Discovered.IsZero() {
		inc.Discovered = now.Truncate(time.Microsecond)
	}
	if !n.Occurred.IsZero() {
		o := n.Occurred.UTC().Truncate(time.Microsecond)
		inc.Occurred = &o
	}
	switch {
	case inc.Title == "":
		return nil, inputErr("title", "say in a few words what happened")
	case inc.Discovered.After(now.Add(5 * time.Minute)):
		return nil, inputErr("discovered_at", "%s is in the future", inc.Discovered.Format(time.RFC3339))
	case inc.Occurred != nil && inc.Occurred.After(inc.Discovered):
		return nil, inputErr("occurred_at", "the breach cannot begin (%s) after it was discovered (%s)", inc.Occurred.Format(time.RFC3339), inc.Discovered.Format(time.RFC3339))
	}
	if err := r.checkScope(inc); err != nil {
		return nil, err
	}
	if !validRisk(inc.Risk) {
		return nil, inputErr("risk", "%q is not unassessed, unlikely, risk or high", inc.Risk)
	}
	inc.Deadline = inc.Discovered.Add(r.window())
	id, err := newID()
	if err != nil {
		return nil, err
	}
	inc.ID = id
	err = r.inTx(ctx, func(tx *sql.Tx) error {
		sys, _ := json.Marshal(inc.Systems)
		cats, _ := json.Marshal(inc.Categories)
		if _, err := tx.ExecContext(ctx, r.Store.Rebind(`INSERT INTO incidents (id, title, description, discovered_at, occurred_at, deadline,
			status, risk, systems, categories, consequences, measures, created_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			inc.ID, inc.Title, inc.Description, micros(inc.Discovered), microsPtr(inc.Occurred), micros(inc.Deadline),
			string(inc.Status), string(inc.Risk), string(sys), string(cats), inc.Consequences, inc.Measures, inc.CreatedBy, micros(inc.UpdatedAt)); err != nil {
			return r.Store.Wrap(err, "breach: open")
		}
		return r.event(ctx, tx, inc.ID, "incident.opened", inc.CreatedBy, map[string]any{
			"title": inc.Title, "discovered_at": inc.Discovered, "deadline": inc.Deadline, "systems": inc.Systems, "categories": inc.Categories, "risk": inc.Risk})
	})
	if err != nil {
		return nil, err
	}
	return inc, nil
}

// checkScope refuses systems and categories the policy does not know,
// naming the ones it does.
func (r *Register) checkScope(inc *Incident) error {
	if inc.Systems == nil {
		inc.Systems = []string{}
	}
	if inc.Categories == nil {
		inc.Categories = []string{}
	}
	inc.Systems = slices.Compact(slices.Sorted(slices.Values(inc.Systems)))
	inc.Categories = slices.Compact(slices.Sorted(slices.Values(inc.Categories)))
	for _, s := range inc.Systems {
		if r.Policy.System(s) == nil {
			var known []string
			for _, sys := range r.Policy.Systems {
				known = append(known, sys.Name)
			}
			return inputErr("systems", "the policy declares no system %q (it declares %s)", s, strings.Join(known, ", "))
		}
	}
	for _, c := range inc.Categories {
		if _, ok := r.Policy.Category(c); !ok {
			return inputErr("categories", "%q is not a data category (vow check lists the policy's; e.g. user.contact.email)", c)
		}
	}
	return nil
}

func validRisk(r Risk) bool { return slices.Contains([]Risk{Unassessed, Unlikely, AtRisk, High}, r) }

func newID() (string, error) {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("breach: new id: %w", err)
	}
	return "inc_" + hex.EncodeToString(b[:]), nil
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func microsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// event appends an entry about incident id to the audit log in tx.
func (r *Register) event(ctx context.Context, tx *sql.Tx, id, kind, by string, data map[string]any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if _, err := r.Store.AppendTx(ctx, tx, state.Event{Kind: kind, Subject: id, Actor: cmp.Or(by, "vow"), Data: b}); err != nil {
		return fmt.Errorf("breach: record %s: %w", kind, err)
	}
	return nil
}

func (r *Register) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return r.Store.InTx(ctx, fn)
}

const columns = `id, title, description, discovered_at, occurred_at, deadline, status, risk, systems, categories, consequences, measures,
	delay_reason, affected, authority_notified_at, authority_reference, subjects_notified_at, closed_at, warned, created_by, updated_at`

type scanner interface{ Scan(...any) error }

func scanIncident(row scanner) (*Incident, error) {
	var (
		inc                         Incident
		disc, dl, upd               int64
		occ, authAt, subjAt, closed sql.NullInt64
		status, risk, sys, cats     string
		affected                    sql.NullString
	)
	if err := row.Scan(&inc.ID, &inc.Title, &inc.Description, &disc, &occ, &dl, &status, &risk, &sys, &cats, &inc.Consequences, &inc.Measures,
		&inc.DelayReason, &affected, &authAt, &inc.AuthorityReference, &subjAt, &closed, &inc.Warned, &inc.CreatedBy, &upd); err != nil {
		return nil, err
	}
	inc.Discovered, inc.Deadline, inc.UpdatedAt = fromMicros(disc), fromMicros(dl), fromMicros(upd)
	inc.Occurred, inc.AuthorityNotified, inc.SubjectsNotified, inc.ClosedAt = nullTime(occ), nullTime(authAt), nullTime(subjAt), nullTime(closed)
	inc.Status, inc.Risk = Status(status), Risk(risk)
	if err := json.Unmarshal([]byte(sys), &inc.Systems); err != nil {
		return nil, fmt.Errorf("incident %s: systems: %w", inc.ID, err)
	}
	if err := json.Unmarshal([]byte(cats), &inc.Categories); err != nil {
		return nil, fmt.Errorf("incident %s: categories: %w", inc.ID, err)
	}
	if affected.Valid {
		inc.Affected = &Affected{}
		if err := json.Unmarshal([]byte(affected.String), inc.Affected); err != nil {
			return nil, fmt.Errorf("incident %s: affected: %w", inc.ID, err)
		}
	}
	return &inc, nil
}

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// Get returns one incident.
func (r *Register) Get(ctx context.Context, id string) (*Incident, error) {
	inc, err := scanIncident(r.Store.DB().QueryRowContext(ctx, r.Store.Rebind(`SELECT `+columns+` FROM incidents WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s (vow incident list shows them)", ErrNotFound, id)
	}
	if err != nil {
		return nil, r.Store.Wrap(err, "breach: read %s", id)
	}
	return inc, nil
}

// List returns the incidents, newest first; closed ones only with all.
func (r *Register) List(ctx context.Context, all bool) ([]Incident, error) {
	q := `SELECT ` + columns + ` FROM incidents`
	if !all {
		q += ` WHERE status <> 'closed'`
	}
	rows, err := r.Store.DB().QueryContext(ctx, q+` ORDER BY discovered_at DESC, id`)
	if err != nil {
		return nil, r.Store.Wrap(err, "breach: list")
	}
	defer rows.Close()
	out := []Incident{}
	for rows.Next() {
		inc, err := scanIncident(rows)
		if err != nil {
			return nil, r.Store.Wrap(err, "breach: list")
		}
		out = append(out, *inc)
	}
	return out, rows.Err()
}
