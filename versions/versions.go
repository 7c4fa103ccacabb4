// Package versions owns the published history of the privacy policy: each
// published version (its content hash, effective date, the vow.yaml it came
// from and the documents rendered from it) in the state store; the
// semantic diff between two versions, each change classified as material
// or not by stated rules (Rules); the notices a material change needs,
// scheduled change_notice_days before it takes effect and sent by email
// and webhook, each recorded; and acceptances, per subject and version.
package versions

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vowprivacy/vow/audit"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/render"
	"github.com/vowprivacy/vow/state"
)

// Errors callers branch on.
var (
	// ErrNotFound: no such version.
	ErrNotFound = errors.New("no such policy version")
	// ErrUnchanged: the policy is byte for byte the latest published version.
	ErrUnchanged = errors.New("the policy is unchanged since the latest published version")
	// ErrTooSoon: a material change would take effect before the notice period ends.
	ErrTooSoon = errors.New("a material change needs notice before it takes effect")
	// ErrNoVersions: nothing has been published yet.
	ErrNoVersions = errors.New("no policy version has been published yet (run vow policy publish)")
)

// Service publishes and reads policy versions in a state store.
type Service struct {
	Store    *state.Store
	Renderer *render.Renderer
	// Keys pseudonymises the people the audit log names (who accepted,
	// who was notified): the log never holds their address. Recording an
	// acceptance or sending a notice needs it.
	Keys audit.Pseudonymizer
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// errNoKeys is a wiring mistake: a Service that records people needs Keys.
var errNoKeys = errors.New("versions: no keys to pseudonymise subjects with (Service.Keys is nil)")

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Version is one published version.
type Version struct {
	Seq         int64     `json:"seq"`
	ID          string    `json:"id"`
	Hash        string    `json:"hash"`
	Effective   string    `json:"effective"` // YYYY-MM-DD
	PublishedAt time.Time `json:"published_at"`
	PublishedBy string    `json:"published_by"`
	// Material reports whether Changes (from the previous version) hold a material change.
	Material bool     `json:"material"`
	Changes  []Change `json:"changes"`
	// The stored documents; List leaves them empty.
	Source   string `json:"-"`
	Markdown string `json:"-"`
	HTML     string `json:"-"`
	Summary  string `json:"-"`
}

// EffectiveDate parses Effective.
func (v *Version) EffectiveDate() time.Time {
	t, _ := time.Parse(time.DateOnly, v.Effective)
	return t
}

// Hash is the content hash of a policy source: hex SHA-256.
func Hash(src []byte) string {
	h := sha256.Sum256(src)
	return hex.EncodeToString(h[:])
}

// Publish is what to publish.
type Publish struct {
	// Policy is the parsed policy; its Source is stored.
	Policy *policy.Policy
	// Effective is when it takes effect; zero means the policy's
	// notices.effective, or, when that is unset or in the past, today (or
	// the first day the notice period allows, for a material change).
	Effective time.Time
	// Actor is who publishes, for the record.
	Actor string
}

// Publish stores a new version of the policy. A material change (by
// Rules) against the latest version must take effect at least the latest
// version's change_notice_days after today; the notices themselves are
// scheduled with Schedule.
func (s *Service) Publish(ctx context.Context, in Publish) (*Version, error) {
	p := in.Policy
	if p == nil || len(p.Source) == 0 {
		return nil, errors.New("versions: publish: no policy source")
	}
	now := s.now()
	today := now.Truncate(24 * time.Hour)
	hash := Hash(p.Source)

	prev, err := s.Latest(ctx)
	if err != nil && !errors.Is(err, ErrNoVersions) {
		return nil, err
	}
	var changes []Change
	notice := 0
	if prev != nil {
		if prev.Hash == hash {
			return nil, fmt.Errorf("versions: %w (%s)", ErrUnchanged, prev.ID)
		}
		old, ds := policy.Parse("vow.yaml", []byte(prev.Source))
		if old == nil {
			return nil, fmt.Errorf("versions: the stored source of %s does not parse: %v", prev.ID, ds)
		}
		changes = Diff(old, p)
		notice = old.Notices.ChangeNoticeDays
	}
	material := Material(changes)
	earliest := today
	if material {
		earliest = today.AddDate(0, 0, notice)
	}
	eff := in.Effective
	explicit := !eff.IsZero()
	if !explicit {
		eff = p.Notices.Effective.Time
		explicit = !eff.IsZero() && !eff.Before(today)
		if !explicit {
			eff = earliest
		}
	}
	eff = time.Date(eff.Year(), eff.Month(), eff.Day(), 0, 0, 0, 0, time.UTC)
	if eff.Before(earliest) {
		return nil, fmt.Errorf("versions: %w: this version has %d material change(s) and the current policy promises %d days' notice, so it can take effect on %s at the earliest, not %s; set notices.effective (or --effective) to %s or later",
			ErrTooSoon, countMaterial(changes), notice, earliest.Format(time.DateOnly), eff.Format(time.DateOnly), earliest.Format(time.DateOnly))
	}

	seq := int64(1)
	if prev != nil {
		seq = prev.Seq + 1
	}
	v := &Version{Seq: seq, ID: "v" + strconv.FormatInt(seq, 10), Hash: hash, Effective: eff.Format(time.DateOnly),
		PublishedAt: now.Truncate(time.Microsecond), PublishedBy: in.Actor, Material: material, Changes: changes, Source: string(p.Source)}
	if v.Changes == nil {
		v.Changes = []Change{}
	}
	meta := render.Meta{VersionID: v.ID, Effective: eff}
	for _, f := range []struct {
		format render.Format
		dst    *string
	}{{render.Markdown, &v.Markdown}, {render.HTML, &v.HTML}, {render.Summary, &v.Summary}} {
		if *f.dst, err = s.Renderer.String(f.format, p, meta); err != nil {
			return nil, fmt.Errorf("versions: publish: %w", err)
		}
	}
	cj, _ := json.Marshal(v.Changes)
	_, err = s.Store.DB().ExecContext(ctx, s.Store.Rebind(`INSERT INTO policy_versions
		(seq, id, hash, effective, published_at, published_by, material, changes, source, markdown, html, summary)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		v.Seq, v.ID, v.Hash, v.Effective, v.PublishedAt.UnixMicro(), v.PublishedBy, boolInt(v.Material), string(cj), v.Source, v.Markdown, v.HTML, v.Summary)
	if err != nil {
		return nil, s.Store.Wrap(err, "versions: publish %s (published by someone else at the same time? try again)", v.ID)
	}
	data, _ := json.Marshal(map[string]any{"id": v.ID, "hash": v.Hash, "effective": v.Effective, "material": v.Material, "changes": len(v.Changes)})
	if _, err := s.Store.Append(ctx, state.Event{Kind: "policy.published", Subject: v.ID, Actor: actor(in.Actor), Data: data}); err != nil {
		return nil, err
	}
	return v, nil
}

func actor(a string) string {
	if a == "" {
		return "vow"
	}
	return a
}

func countMaterial(cs []Change) int {
	n := 0
	for _, c := range cs {
		if c.Material {
			n++
		}
	}
	return n
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

const listColumns = `seq, id, hash, effective, published_at, published_by, material, changes`

type scanner interface{ Scan(...any) error }

func scanVersion(row scanner, full bool) (*Version, error) {
	var v Version
	var at int64
	var material int
	var changes string
	dst := []any{&v.Seq, &v.ID, &v.Hash, &v.Effective, &at, &v.PublishedBy, &material, &changes}
	if full {
		dst = append(dst, &v.Source, &v.Markdown, &v.HTML, &v.Summary)
	}
	if err := row.Scan(dst...); err != nil {
		return nil, err
	}
	v.PublishedAt = time.UnixMicro(at).UTC()
	v.Material = material == 1
	if err := json.Unmarshal([]byte(changes), &v.Changes); err != nil {
		return nil, fmt.Errorf("versions: stored changes of %s: %w", v.ID, err)
	}
	return &v, nil
}

// List returns every version, oldest first, without their documents.
func (s *Service) List(ctx context.Context) ([]*Version, error) {
	rows, err := s.Store.DB().QueryContext(ctx, `SELECT `+listColumns+` FROM policy_versions ORDER BY seq`)
	if err != nil {
		return nil, s.Store.Wrap(err, "versions: list")
	}
	defer rows.Close()
	var out []*Version
	for rows.Next() {
		v, err := scanVersion(rows, false)
		if err != nil {
			return nil, s.Store.Wrap(err, "versions: list")
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, s.Store.Wrap(err, "versions: list")
	}
	return out, nil
}

// Get returns a version by id ("v3"), number ("3") or a unique prefix of
// its hash (at least 8 characters), with its documents.
func (s *Service) Get(ctx context.Context, ref string) (*Version, error) {
	ref = strings.TrimSpace(ref)
	q, arg := `id = ?`, any(ref)
	switch {
	case ref == "":
		return nil, fmt.Errorf("versions: %w: empty version", ErrNotFound)
	case isDigits(ref):
		q, arg = `id = ?`, "v"+ref
	case len(ref) >= 8 && isHex(ref):
		q, arg = `hash LIKE ?`, strings.ToLower(ref)+"%"
	}
	rows, err := s.Store.DB().QueryContext(ctx, s.Store.Rebind(`SELECT `+listColumns+`, source, markdown, html, summary FROM policy_versions WHERE `+q+` ORDER BY seq DESC`), arg)
	if err != nil {
		return nil, s.Store.Wrap(err, "versions: get %s", ref)
	}
	defer rows.Close()
	var found []*Version
	for rows.Next() {
		v, err := scanVersion(rows, true)
		if err != nil {
			return nil, s.Store.Wrap(err, "versions: get %s", ref)
		}
		found = append(found, v)
	}
	if err := rows.Err(); err != nil {
		return nil, s.Store.Wrap(err, "versions: get %s", ref)
	}
	switch {
	case len(found) == 0:
		return nil, fmt.Errorf("versions: %w: %q (see vow policy list)", ErrNotFound, ref)
	case len(found) > 1 && found[0].Hash != found[1].Hash:
		return nil, fmt.Errorf("versions: %w: hash prefix %q matches more than one version; give more of it", ErrNotFound, ref)
	}
	return found[0], nil
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

func isHex(s string) bool {
	return strings.Trim(strings.ToLower(s), "0123456789abcdef") == ""
}

// Latest returns the newest published version, whether or not it is in effect yet.
func (s *Service) Latest(ctx context.Context) (*Version, error) {
	return s.one(ctx, `SELECT `+listColumns+`, source, markdown, html, summary FROM policy_versions ORDER BY seq DESC LIMIT 1`)
}

// Current returns the version in effect today: the newest whose effective
// date has come. Before any has, it is the oldest published version.
func (s *Service) Current(ctx context.Context) (*Version, error) {
	today := s.now().Format(time.DateOnly)
	v, err := s.one(ctx, s.Store.Rebind(`SELECT `+listColumns+`, source, markdown, html, summary FROM policy_versions WHERE effective <= ? ORDER BY seq DESC LIMIT 1`), today)
	if errors.Is(err, ErrNoVersions) {
		return s.one(ctx, `SELECT `+listColumns+`, source, markdown, html, summary FROM policy_versions ORDER BY seq LIMIT 1`)
	}
	return v, err
}

func (s *Service) one(ctx context.Context, q string, args ...any) (*Version, error) {
	v, err := scanVersion(s.Store.DB().QueryRowContext(ctx, q, args...), true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("versions: %w", ErrNoVersions)
	}
	if err != nil {
		return nil, s.Store.Wrap(err, "versions: read")
	}
	return v, nil
}

// Policy parses a version's stored source.
func (v *Version) Policy() (*policy.Policy, error) {
	p, ds := policy.Parse(v.ID+"/vow.yaml", []byte(v.Source))
	if p == nil {
		return nil, fmt.Errorf("versions: the stored source of %s does not parse: %v", v.ID, ds)
	}
	return p, nil
}

// DiffVersions compares two stored versions.
func (s *Service) DiffVersions(ctx context.Context, a, b string) (*Version, *Version, []Change, error) {
	va, err := s.Get(ctx, a)
	if err != nil {
		return nil, nil, nil, err
	}
	vb, err := s.Get(ctx, b)
	if err != nil {
		return nil, nil, nil, err
	}
	pa, err := va.Policy()
	if err != nil {
		return nil, nil, nil, err
	}
	pb, err := vb.Policy()
	if err != nil {
		return nil, nil, nil, err
	}
	return va, vb, Diff(pa, pb), nil
}

// Acceptance records that a subject accepted a version.
type Acceptance struct {
	Subject    string    `json:"subject"`
	VersionID  string    `json:"version"`
	AcceptedAt time.Time `json:"accepted_at"`
	Source     string    `json:"source"`
}

// Accept records that subject accepted version ref (the latest when
// empty). Accepting the same version again keeps the first record.
func (s *Service) Accept(ctx context.Context, subject, ref, source string) (*Acceptance, error) {
	subject = strings.TrimSpace(subject)
	if subject == "" {
		return nil, fmt.Errorf("versions: accept: %w: subject is empty", state.ErrInvalid)
	}
	if s.Keys == nil {
		return nil, errNoKeys
	}
	var v *Version
	var err error
	if ref == "" {
		v, err = s.Latest(ctx)
	} else {
		v, err = s.Get(ctx, ref)
	}
	if err != nil {
		return nil, err
	}
	a := &Acceptance{Subject: subject, VersionID: v.ID, AcceptedAt: s.now().Truncate(time.Microsecond), Source: actor(source)}
	res, err := s.Store.DB().ExecContext(ctx, s.Store.Rebind(`INSERT INTO policy_acceptances (subject, version_id, accepted_at, source)
		VALUES (?, ?, ?, ?) ON CONFLICT (subject, version_id) DO NOTHING`), a.Subject, a.VersionID, a.AcceptedAt.UnixMicro(), a.Source)
	if err != nil {
		return nil, s.Store.Wrap(err, "versions: accept")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var at int64
		err := s.Store.DB().QueryRowContext(ctx, s.Store.Rebind(`SELECT accepted_at, source FROM policy_acceptances WHERE subject = ? AND version_id = ?`),
			a.Subject, a.VersionID).Scan(&at, &a.Source)
		if err != nil {
			return nil, s.Store.Wrap(err, "versions: accept")
		}
		a.AcceptedAt = time.UnixMicro(at).UTC()
		return a, nil
	}
	data, _ := json.Marshal(map[string]string{"version": a.VersionID, "source": a.Source})
	if _, err := s.Store.Append(ctx, state.Event{Kind: "policy.accepted", Subject: audit.Subject(s.Keys, a.Subject), Actor: a.Source, Data: data}); err != nil {
		return nil, err
	}
	return a, nil
}

// Acceptances lists a subject's acceptances, oldest first; with an empty
// subject, every acceptance.
func (s *Service) Acceptances(ctx context.Context, subject string) ([]Acceptance, error) {
	q, args := `SELECT subject, version_id, accepted_at, source FROM policy_acceptances ORDER BY accepted_at, subject`, []any{}
	if subject != "" {
		q, args = `SELECT subject, version_id, accepted_at, source FROM policy_acceptances WHERE subject = ? ORDER BY accepted_at`, []any{subject}
	}
	rows, err := s.Store.DB().QueryContext(ctx, s.Store.Rebind(q), args...)
	if err != nil {
		return nil, s.Store.Wrap(err, "versions: acceptances")
	}
	defer rows.Close()
	var out []Acceptance
	for rows.Next() {
		var a Acceptance
		var at int64
		if err := rows.Scan(&a.Subject, &a.VersionID, &at, &a.Source); err != nil {
			return nil, s.Store.Wrap(err, "versions: acceptances")
		}
		a.AcceptedAt = time.UnixMicro(at).UTC()
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, s.Store.Wrap(err, "versions: acceptances")
	}
	return out, nil
}
