package breach

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Change is an update of what is known about an incident; nil fields
// stay as they are.
type Change struct {
	Description  *string
	Occurred     *time.Time
	Systems      *[]string
	Categories   *[]string
	Risk         *Risk
	Consequences *string
	Measures     *string
	DelayReason  *string
	By           string
}

// Update records what has been learned about an incident. A closed
// incident is not changed.
func (r *Register) Update(ctx context.Context, id string, c Change) (*Incident, error) {
	var out *Incident
	err := r.step(ctx, id, c.By, func(tx *sql.Tx, inc *Incident) (string, map[string]any, error) {
		if inc.Status == Closed {
			return "", nil, fmt.Errorf("%w: incident %s is closed", ErrState, id)
		}
		var changed []string
		setText := func(name string, dst *string, v *string) {
			if v != nil && strings.TrimSpace(*v) != *dst {
				*dst = strings.TrimSpace(*v)
				changed = append(changed, name)
			}
		}
		setText("description", &inc.Description, c.Description)
		setText("consequences", &inc.Consequences, c.Consequences)
		setText("measures", &inc.Measures, c.Measures)
		setText("delay_reason", &inc.DelayReason, c.DelayReason)
		if c.Occurred != nil {
			o := c.Occurred.UTC().Truncate(time.Microsecond)
			if o.After(inc.Discovered) {
				return "", nil, inputErr("occurred_at", "the breach cannot begin (%s) after it was discovered (%s)", o.Format(time.RFC3339), inc.Discovered.Format(time.RFC3339))
			}
			inc.Occurred = &o
			changed = append(changed, "occurred_at")
		}
		if c.Systems != nil {
			inc.Systems = *c.Systems
			changed = append(changed, "systems")
		}
		if c.Categories != nil {
			inc.Categories = *c.Categories
			changed = append(changed, "categories")
		}
		if err := r.checkScope(inc); err != nil {
			return "", nil, err
		}
		if c.Risk != nil {
			if !validRisk(*c.Risk) {
				return "", nil, inputErr("risk", "%q is not unassessed, unlikely, risk or high", *c.Risk)
			}
			if *c.Risk != inc.Risk {
				inc.Risk = *c.Risk
				changed = append(changed, "risk")
			}
		}
		if len(changed) == 0 {
			return "", nil, nil
		}
		if slices.Contains(changed, "systems") || slices.Contains(changed, "categories") {
			inc.Affected = nil // counted for another scope
		}
		out = inc
		return "incident.updated", map[string]any{"changed": changed, "risk": inc.Risk}, nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		return r.Get(ctx, id)
	}
	return out, nil
}

// Contain records that the breach has been stopped.
func (r *Register) Contain(ctx context.Context, id, by string) (*Incident, error) {
	return r.move(ctx, id, by, func(inc *Incident) (string, map[string]any, error) {
		if inc.Status != Open {
			return "", nil, fmt.Errorf("%w: incident %s is %s, not open", ErrState, id, inc.Status)
		}
		inc.Status = Contained
		return "incident.contained", nil, nil
	})
}

// Notification is a notice given.
type Notification struct {
	To Party
	// At is when it was given; now when zero.
	At time.Time
	// Reference is the authority's case number or the channel used.
	Reference string
	By        string
}

// Notify records that the authority or the subjects were told. Telling
// the authority after the deadline needs the reasons for the delay
// (Art. 33(1)): set DelayReason first.
func (r *Register) Notify(ctx context.Context, id string, n Notification) (*Incident, error) {
	at := n.At
	if at.IsZero() {
		at = r.now()
	}
	at = at.UTC().Truncate(time.Microsecond)
	return r.move(ctx, id, n.By, func(inc *Incident) (string, map[string]any, error) {
		if inc.Status == Closed {
			return "", nil, fmt.Errorf("%w: incident %s is closed", ErrState, id)
		}
		if at.Before(inc.Discovered) {
			return "", nil, inputErr("at", "a notice (%s) cannot precede the discovery (%s)", at.Format(time.RFC3339), inc.Discovered.Format(time.RFC3339))
		}
		switch n.To {
		case Authority:
			if at.After(inc.Deadline) && inc.DelayReason == "" {
				return "", nil, fmt.Errorf("%w: the authority is told %s after the deadline (%s): GDPR Art. 33(1) asks for the reasons for the delay — record them first (delay_reason)",
					ErrState, at.Sub(inc.Deadline).Round(time.Minute), inc.Deadline.Format(time.RFC3339))
			}
			inc.AuthorityNotified, inc.AuthorityReference = &at, strings.TrimSpace(n.Reference)
			if inc.Status != Notified {
				inc.Status = Notified
			}
			return "incident.authority_notified", map[string]any{"at": at, "reference": inc.AuthorityReference, "late": at.After(inc.Deadline)}, nil
		case Subjects:
			inc.SubjectsNotified = &at
			return "incident.subjects_notified", map[string]any{"at": at, "channel": strings.TrimSpace(n.Reference)}, nil
		}
		return "", nil, inputErr("to", "%q is not authority or subjects", n.To)
	})
}

// Close closes an incident. The authority must have been told unless the
// breach is assessed unlikely to result in a risk (and then the register
// must say why: consequences and measures); a high risk needs the
// subjects told too (Art. 34).
func (r *Register) Close(ctx context.Context, id, by string) (*Incident, error) {
	return r.move(ctx, id, by, func(inc *Incident) (string, map[string]any, error) {
		switch {
		case inc.Status == Closed:
			return "", nil, fmt.Errorf("%w: incident %s is closed already", ErrState, id)
		case inc.Risk == Unassessed:
			return "", nil, fmt.Errorf("%w: assess the risk first (unlikely, risk or high): it decides who must be told", ErrState)
		case inc.Risk == Unlikely && (inc.Consequences == "" || inc.Measures == ""):
			return "", nil, fmt.Errorf("%w: a breach closed without notice must record why it is unlikely to result in a risk: set consequences and measures", ErrState)
		case inc.Risk != Unlikely && inc.AuthorityNotified == nil:
			return "", nil, fmt.Errorf("%w: the supervisory authority has not been told (a %s risk): record the notification first", ErrState, inc.Risk)
		case inc.Risk == High && inc.SubjectsNotified == nil:
			return "", nil, fmt.Errorf("%w: a high risk must be communicated to the subjects (GDPR Art. 34): record that notification first", ErrState)
		}
		now := r.now().Truncate(time.Microsecond)
		inc.Status, inc.ClosedAt = Closed, &now
		return "incident.closed", map[string]any{"risk": inc.Risk}, nil
	})
}

// move is step for a change of status or notification.
func (r *Register) move(ctx context.Context, id, by string, fn func(inc *Incident) (string, map[string]any, error)) (*Incident, error) {
	var out *Incident
	err := r.step(ctx, id, by, func(tx *sql.Tx, inc *Incident) (string, map[string]any, error) {
		kind, data, err := fn(inc)
		out = inc
		return kind, data, err
	})
	return out, err
}

// step reads the incident, lets fn change it, and writes it back with the
// audit entry fn names, in one transaction. A kind of "" writes nothing.
func (r *Register) step(ctx context.Context, id, by string, fn func(tx *sql.Tx, inc *Incident) (string, map[string]any, error)) error {
	return r.inTx(ctx, func(tx *sql.Tx) error {
		inc, err := scanIncident(tx.QueryRowContext(ctx, r.Store.Rebind(`SELECT `+columns+` FROM incidents WHERE id = ?`+r.forUpdate()), id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %s (vow incident list shows them)", ErrNotFound, id)
		}
		if err != nil {
			return r.Store.Wrap(err, "breach: read %s", id)
		}
		kind, data, err := fn(tx, inc)
		if err != nil || kind == "" {
			return err
		}
		inc.UpdatedAt = r.now().Truncate(time.Microsecond)
		if err := r.write(ctx, tx, inc); err != nil {
			return err
		}
		if data == nil {
			data = map[string]any{}
		}
		data["status"] = inc.Status
		return r.event(ctx, tx, id, kind, by, data)
	})
}

// forUpdate locks the row on PostgreSQL; SQLite's transaction holds the
// write lock already.
func (r *Register) forUpdate() string {
	if r.Store.Dialect() == "postgres" {
		return ` FOR UPDATE`
	}
	return ``
}

// write stores every mutable column of inc.
func (r *Register) write(ctx context.Context, tx *sql.Tx, inc *Incident) error {
	sys, _ := json.Marshal(inc.Systems)
	cats, _ := json.Marshal(inc.Categories)
	var affected any
	if inc.Affected != nil {
		b, _ := json.Marshal(inc.Affected)
		affected = string(b)
	}
	_, err := tx.ExecContext(ctx, r.Store.Rebind(`UPDATE incidents SET description = ?, occurred_at = ?, status = ?, risk = ?, systems = ?, categories = ?,
		consequences = ?, measures = ?, delay_reason = ?, affected = ?, authority_notified_at = ?, authority_reference = ?, subjects_notified_at = ?,
		closed_at = ?, warned = ?, updated_at = ? WHERE id = ?`),
		inc.Description, microsPtr(inc.Occurred), string(inc.Status), string(inc.Risk), string(sys), string(cats),
		inc.Consequences, inc.Measures, inc.DelayReason, affected, microsPtr(inc.AuthorityNotified), inc.AuthorityReference, microsPtr(inc.SubjectsNotified),
		microsPtr(inc.ClosedAt), inc.Warned, micros(inc.UpdatedAt), inc.ID)
	if err != nil {
		return r.Store.Wrap(err, "breach: write %s", inc.ID)
	}
	return nil
}
