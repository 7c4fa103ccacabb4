// Package consent owns consent and communication preferences: the
// append-only consent events per subject and purpose (with the derived
// current state kept beside them in the same transaction), consent
// receipts, Global Privacy Control, communication topics with one-click
// unsubscribe links, the cookie banner, the in-memory cache of the hot
// path with LISTEN/NOTIFY invalidation across instances, and what erasure
// leaves of a subject's consent history.
//
// A subject is an opaque string: a known identity ("user-42", an email) or
// an anonymous device id ("device:…", as the cookie banner makes) that can
// later be linked to an identity.
package consent

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vowprivacy/vow/audit"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/state"
)

// Status is a consent decision.
type Status string

// Consent decisions.
const (
	Granted   Status = "granted"
	Denied    Status = "denied"
	Withdrawn Status = "withdrawn"
)

// Allowed reports whether the status lets the purpose go ahead.
func (s Status) Allowed() bool { return s == Granted }

// Sources of a consent change.
const (
	SourceBanner  = "banner"
	SourceAPI     = "api"
	SourceImport  = "import"
	SourceGPC     = "gpc"
	SourceLink    = "link"
	SourceDefault = "default" // no decision recorded: the policy's default
)

var sources = []string{SourceBanner, SourceAPI, SourceImport, SourceGPC}

// DevicePrefix starts the subject of an anonymous device.
const DevicePrefix = "device:"

// MaxSubjectLen caps a subject's length in bytes.
const MaxSubjectLen = 256

// Errors callers branch on; each is wrapped in an [*InputError] naming the
// field at fault.
var (
	ErrInvalid         = errors.New("consent: invalid input")
	ErrUnknownPurpose  = errors.New("consent: unknown consent purpose")
	ErrEssential       = errors.New("consent: essential purpose")
	ErrUnknownTopic    = errors.New("consent: unknown topic")
	ErrEssentialTopic  = errors.New("consent: essential topic")
	ErrNotFound        = errors.New("consent: not found")
	ErrBadLink         = errors.New("consent: link is not valid")
	ErrLinkUsed        = errors.New("consent: link already used")
	ErrDeviceOnlyLinks = errors.New("consent: only device ids can be linked")
)

// InputError is bad input: the field at fault and why.
type InputError struct {
	Field string
	Msg   string
	Err   error // one of the sentinels above
}

func (e *InputError) Error() string { return "consent: " + e.Field + ": " + e.Msg }
func (e *InputError) Unwrap() error { return e.Err }

func inputErr(sentinel error, field, format string, args ...any) *InputError {
	return &InputError{Field: field, Msg: fmt.Sprintf(format, args...), Err: sentinel}
}

// Service records and answers consent for one policy. It is safe for
// concurrent use.
type Service struct {
	st      *state.Store
	p       *policy.Policy
	k       *keyring.Keyring
	logger  *slog.Logger
	version string
	now     func() time.Time

	purposes  []*policy.ConsentPurpose // policy order
	byName    map[string]*policy.ConsentPurpose
	essential map[string]bool
	topics    map[string]*policy.Topic

	cache *cache
	// own holds the SQLite store's consent versions this process's
	// commits made (see watchSQLite).
	own ownVersions

	listenStarted sync.Once
	listening     chan struct{}
}

// Options tune a Service; the zero value is fine.
type Options struct {
	// CacheEntries caps the subjects held in memory (default 200,000: about
	// 1 KB each with their pre-rendered answers).
	CacheEntries int
	// Now replaces the clock, for tests.
	Now func() time.Time
	// PolicyVersion names the policy that consent is given under in every
	// event: the published version in force ("v3", see package versions).
	// Empty means [PolicyVersion] of the policy file, for a policy that
	// was never published.
	PolicyVersion string
}

// New returns a Service for policy p on store st, signing receipts and
// links with k. On PostgreSQL call [Service.Listen] so that other
// instances' changes reach this one's cache.
func New(st *state.Store, p *policy.Policy, k *keyring.Keyring, logger *slog.Logger, o Options) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Service{
		st: st, p: p, k: k, logger: logger, now: o.Now,
		version:   cmp.Or(o.PolicyVersion, PolicyVersion(p)),
		byName:    map[string]*policy.ConsentPurpose{},
		essential: map[string]bool{},
		topics:    map[string]*policy.Topic{},
		cache:     newCache(o.CacheEntries),
		listening: make(chan struct{}),
	}
	for _, cp := range p.Consent.Purposes {
		s.purposes = append(s.purposes, cp)
		s.byName[cp.Name] = cp
	}
	for _, pu := range p.Purposes {
		if pu.Essential {
			s.essential[pu.Name] = true
		}
	}
	for _, t := range p.Communications.Topics {
		s.topics[t.Name] = t
	}
	return s
}

// PolicyVersion names an unpublished policy: "sha256:" and the first 16
// hex digits of the policy file's hash.
func PolicyVersion(p *policy.Policy) string {
	h := sha256.Sum256(p.Source)
	return "sha256:" + hex.EncodeToString(h[:8])
}

// Version is the policy version the service records.
func (s *Service) Version() string { return s.version }

// Purposes lists the consent purposes in policy order.
func (s *Service) Purposes() []string {
	out := make([]string, len(s.purposes))
	for i, p := range s.purposes {
		out[i] = p.Name
	}
	return out
}

// Change is one consent decision to record.
type Change struct {
	Subject    string
	Purpose    string
	Status     Status
	Source     string // banner, api, import or gpc
	RecordedBy string // token name, or "banner"
}

// Event is a recorded consent change.
type Event struct {
	ID            string    `json:"id"`
	Subject       string    `json:"subject"`
	Purpose       string    `json:"purpose"`
	Status        Status    `json:"status"`
	Source        string    `json:"source"`
	PolicyVersion string    `json:"policy_version"`
	At            time.Time `json:"at"`
	RecordedBy    string    `json:"recorded_by"`
}

// CheckSubject validates a subject id.
func CheckSubject(field, subject string) error {
	switch {
	case subject == "":
		return inputErr(ErrInvalid, field, "subject is empty")
	case len(subject) > MaxSubjectLen:
		return inputErr(ErrInvalid, field, "subject is longer than %d bytes", MaxSubjectLen)
	case !utf8.ValidString(subject):
		return inputErr(ErrInvalid, field, "subject is not UTF-8")
	case strings.IndexFunc(subject, unicode.IsControl) >= 0:
		return inputErr(ErrInvalid, field, "subject contains control characters")
	case strings.HasPrefix(subject, erasedPrefix):
		return inputErr(ErrInvalid, field, "subjects starting %q are reserved for erased subjects", erasedPrefix)
	}
	return nil
}

// checkPurpose validates a consent purpose name.
func (s *Service) checkPurpose(field, purpose string) (*policy.ConsentPurpose, error) {
	if cp := s.byName[purpose]; cp != nil {
		return cp, nil
	}
	if s.essential[purpose] {
		return nil, inputErr(ErrEssential, field, "purpose %q is essential (needed to provide the service): it does not rest on consent and cannot be granted, denied or withdrawn; consent purposes are: %s",
			purpose, strings.Join(s.Purposes(), ", "))
	}
	return nil, inputErr(ErrUnknownPurpose, field, "unknown consent purpose %q; the policy's consent purposes are: %s", purpose, strings.Join(s.Purposes(), ", "))
}

func (s *Service) validate(i int, c Change) error {
	f := func(name string) string {
		if i < 0 {
			return name
		}
		return fmt.Sprintf("changes[%d].%s", i, name)
	}
	if err := CheckSubject(f("subject"), c.Subject); err != nil {
		return err
	}
	if _, err := s.checkPurpose(f("purpose"), c.Purpose); err != nil {
		return err
	}
	switch c.Status {
	case Granted, Denied, Withdrawn:
	default:
		return inputErr(ErrInvalid, f("status"), "status %q is not granted, denied or withdrawn", c.Status)
	}
	if !slices.Contains(sources, c.Source) && c.Source != SourceLink {
		return inputErr(ErrInvalid, f("source"), "source %q is not one of %s", c.Source, strings.Join(sources, ", "))
	}
	if c.RecordedBy == "" {
		return inputErr(ErrInvalid, f("recorded_by"), "who records the change is required")
	}
	return nil
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Record validates and durably records changes in one transaction,
// updating the current state beside the events, and returns the events.
// Every instance's cache forgets the subjects concerned.
func (s *Service) Record(ctx context.Context, changes []Change) ([]Event, error) {
	for i, c := range changes {
		idx := i
		if len(changes) == 1 {
			idx = -1
		}
		if err := s.validate(idx, c); err != nil {
			return nil, err
		}
	}
	if len(changes) == 0 {
		return nil, nil
	}
	events, receipts, err := s.eventsOf(changes, s.now())
	if err != nil {
		return nil, err
	}
	subjects := uniqueSubjects(events)
	err = s.inTx(ctx, subjects, func(tx *sql.Tx) error {
		return s.insertEvents(ctx, tx, events, receipts)
	})
	if err != nil {
		return nil, fmt.Errorf("consent: record: %w", err)
	}
	return events, nil
}

// eventsOf makes the events of changes recorded at at, and their signed
// receipts. Each receipt is made now, under the policy in force: one
// rebuilt later would list purposes and processors the person never saw.
func (s *Service) eventsOf(changes []Change, at time.Time) ([]Event, []string, error) {
	at = at.UTC().Truncate(time.Microsecond)
	events := make([]Event, len(changes))
	receipts := make([]string, len(changes))
	for i, c := range changes {
		events[i] = Event{ID: newID(), Subject: c.Subject, Purpose: c.Purpose, Status: c.Status, Source: c.Source,
			PolicyVersion: s.version, At: at, RecordedBy: c.RecordedBy}
		sr, err := s.signReceipt(s.receiptOf(events[i]))
		if err != nil {
			return nil, nil, err
		}
		b, err := json.Marshal(sr)
		if err != nil {
			return nil, nil, fmt.Errorf("consent: receipt: %w", err)
		}
		receipts[i] = string(b)
	}
	return events, receipts, nil
}

func uniqueSubjects(events []Event) []string {
	var out []string
	for _, e := range events {
		if !slices.Contains(out, e.Subject) {
			out = append(out, e.Subject)
		}
	}
	return out
}

// insertEvents records events with their signed receipts.
func (s *Service) insertEvents(ctx context.Context, tx *sql.Tx, events []Event, receipts []string) error {
	ins := s.st.Rebind(`INSERT INTO consent_events (id, subject, purpose, status, source, policy_version, at, recorded_by, receipt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	up := s.st.Rebind(`INSERT INTO consent_current (subject, purpose, status, source, policy_version, at, event_id) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (subject, purpose) DO UPDATE SET status = excluded.status, source = excluded.source,
		policy_version = excluded.policy_version, at = excluded.at, event_id = excluded.event_id`)
	for i, e := range events {
		us := e.At.UnixMicro()
		if _, err := tx.ExecContext(ctx, ins, e.ID, e.Subject, e.Purpose, string(e.Status), e.Source, e.PolicyVersion, us, e.RecordedBy, receipts[i]); err != nil {
			return s.st.Wrap(err, "insert consent event")
		}
		if _, err := tx.ExecContext(ctx, up, e.Subject, e.Purpose, string(e.Status), e.Source, e.PolicyVersion, us, e.ID); err != nil {
			return s.st.Wrap(err, "update consent state")
		}
	}
	// One audit entry for the decisions recorded together; it names the
	// people by pseudonym only.
	var changes []map[string]any
	subject := audit.Subject(s.k, events[0].Subject)
	for _, e := range events {
		ps := audit.Subject(s.k, e.Subject)
		if ps != subject {
			subject = ""
		}
		changes = append(changes, map[string]any{"event": e.ID, "subject": ps, "purpose": e.Purpose, "status": e.Status})
	}
	return s.record(ctx, tx, "consent.recorded", subject, events[0].RecordedBy,
		map[string]any{"source": events[0].Source, "policy_version": s.version, "changes": changes})
}

// record appends an entry about subject (named by pseudonym; "" when the
// entry is about several people, each named in data) to the audit log,
// in the transaction of the change it records.
func (s *Service) record(ctx context.Context, tx *sql.Tx, kind, subject, by string, data map[string]any) error {
	if subject != "" && !strings.HasPrefix(subject, keyring.PseudonymPrefix) {
		subject = audit.Subject(s.k, subject)
	}
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if _, err := s.st.AppendTx(ctx, tx, state.Event{Kind: kind, Subject: subject, Actor: by, Data: b}); err != nil {
		return fmt.Errorf("record %s: %w", kind, err)
	}
	return nil
}

// inTx runs fn in a transaction that also tells every instance to forget
// subjects (NOTIFY on PostgreSQL, delivered at commit); after the commit this
// instance's cache forgets them too.
func (s *Service) inTx(ctx context.Context, subjects []string, fn func(*sql.Tx) error) (err error) {
	tx, err := s.st.DB().BeginTx(ctx, nil)
	if err != nil {
		return s.st.Wrap(err, "begin")
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	sqlite := s.st.Dialect() != state.DialectPostgres
	// On SQLite the store's count of consent changes before and after
	// this transaction's own (it holds the write lock from BEGIN, so no
	// other writer's changes fall between them).
	var before, after int64
	if sqlite {
		if before, err = consentVersion(ctx, tx); err != nil {
			return s.st.Wrap(err, "read the consent version")
		}
	}
	if err = fn(tx); err != nil {
		return err
	}
	if sqlite {
		if after, err = consentVersion(ctx, tx); err != nil {
			return s.st.Wrap(err, "read the consent version")
		}
	} else {
		for _, payload := range notifyPayloads(subjects) {
			if _, err = tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, notifyChannel, payload); err != nil {
				return s.st.Wrap(err, "notify")
			}
		}
	}
	if err = tx.Commit(); err != nil {
		return s.st.Wrap(err, "commit")
	}
	for _, sub := range subjects {
		s.cache.invalidate(sub)
	}
	// Only once committed: versions of a transaction rolled back are
	// taken again by the next writer, perhaps another process's.
	s.own.add(before, after)
	return nil
}

// PurposeState is the effective consent of a subject for one purpose.
type PurposeState struct {
	Allowed       bool       `json:"allowed"`
	Status        Status     `json:"status"`
	Source        string     `json:"source"`
	At            *time.Time `json:"at,omitempty"`
	PolicyVersion string     `json:"policy_version,omitempty"`
	EventID       string     `json:"event_id,omitempty"`
}

// State is a subject's effective consent for every consent purpose.
type State struct {
	Subject  string                  `json:"subject"`
	Purposes map[string]PurposeState `json:"purposes"`
}

// defaultState is what a purpose is when nothing is recorded.
func defaultState(cp *policy.ConsentPurpose) PurposeState {
	st := Denied
	switch {
	case cp.Default == string(Granted):
		st = Granted
	case cp.Default == string(Denied):
	case cp.Mode == "opt_out":
		st = Granted
	}
	return PurposeState{Allowed: st.Allowed(), Status: st, Source: SourceDefault}
}

// State returns the subject's effective consent, from the cache when it
// can.
func (s *Service) State(ctx context.Context, subject string) (State, error) {
	snap, err := s.snapshot(ctx, subject)
	if err != nil {
		return State{}, err
	}
	return snap.state, nil
}

// Allowed reports whether the subject's consent lets purpose go ahead.
func (s *Service) Allowed(ctx context.Context, subject, purpose string) (bool, error) {
	if _, err := s.checkPurpose("purpose", purpose); err != nil {
		return false, err
	}
	snap, err := s.snapshot(ctx, subject)
	if err != nil {
		return false, err
	}
	return snap.state.Purposes[purpose].Allowed, nil
}

func (s *Service) snapshot(ctx context.Context, subject string) (*snapshot, error) {
	if err := CheckSubject("subject", subject); err != nil {
		return nil, err
	}
	if snap := s.cache.get(subject); snap != nil {
		return snap, nil
	}
	m, err := s.load(ctx, []string{subject})
	if err != nil {
		return nil, err
	}
	return m[subject], nil
}

// load reads the current rows of subjects (and of what erasure left of
// them, under their pseudonym) and caches a snapshot of each.
func (s *Service) load(ctx context.Context, subjects []string) (map[string]*snapshot, error) {
	gens := s.cache.gens(subjects)
	keys := make([]any, 0, 2*len(subjects))
	back := make(map[string]string, 2*len(subjects))
	for _, sub := range subjects {
		ps := s.Pseudonym(sub)
		keys = append(keys, sub, ps)
		back[sub], back[ps] = sub, sub
	}
	rows, err := s.st.DB().QueryContext(ctx, s.st.Rebind(
		`SELECT subject, purpose, status, source, policy_version, at, event_id FROM consent_current WHERE subject IN (?`+strings.Repeat(", ?", len(keys)-1)+`)`), keys...)
	if err != nil {
		return nil, fmt.Errorf("consent: load state: %w", s.st.Wrap(err, "query"))
	}
	defer rows.Close()
	found := map[string]map[string]PurposeState{}
	for rows.Next() {
		var (
			sub, purpose, status, source, version, eventID string
			at                                             int64
		)
		if err := rows.Scan(&sub, &purpose, &status, &source, &version, &at, &eventID); err != nil {
			return nil, fmt.Errorf("consent: load state: %w", s.st.Wrap(err, "scan"))
		}
		owner := back[sub]
		t := time.UnixMicro(at).UTC()
		ps := PurposeState{Allowed: Status(status).Allowed(), Status: Status(status), Source: source, At: &t, PolicyVersion: version, EventID: eventID}
		if found[owner] == nil {
			found[owner] = map[string]PurposeState{}
		}
		// The newest decision wins when the subject's own rows and those
		// kept after an erasure disagree.
		if old, ok := found[owner][purpose]; !ok || old.At.Before(t) {
			found[owner][purpose] = ps
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("consent: load state: %w", s.st.Wrap(err, "rows"))
	}
	out := make(map[string]*snapshot, len(subjects))
	for i, sub := range subjects {
		st := State{Subject: sub, Purposes: make(map[string]PurposeState, len(s.purposes))}
		for _, cp := range s.purposes {
			if ps, ok := found[sub][cp.Name]; ok {
				st.Purposes[cp.Name] = ps
			} else {
				st.Purposes[cp.Name] = defaultState(cp)
			}
		}
		snap := newSnapshot(st)
		s.cache.put(sub, snap, gens[i])
		out[sub] = snap
	}
	return out, nil
}

// Batch answers which of subjects may be processed for purpose, in the
// order given (duplicates kept once).
func (s *Service) Batch(ctx context.Context, purpose string, subjects []string) (allowed, refused []string, err error) {
	if _, err := s.checkPurpose("purpose", purpose); err != nil {
		return nil, nil, err
	}
	for i, sub := range subjects {
		if err := CheckSubject(fmt.Sprintf("subjects[%d]", i), sub); err != nil {
			return nil, nil, err
		}
	}
	seen := make(map[string]bool, len(subjects))
	var missing []string
	snaps := make(map[string]*snapshot, len(subjects))
	for _, sub := range subjects {
		if seen[sub] {
			continue
		}
		seen[sub] = true
		if snap := s.cache.get(sub); snap != nil {
			snaps[sub] = snap
		} else {
			missing = append(missing, sub)
		}
	}
	const chunk = 400 // two placeholders each: under SQLite's and PostgreSQL's limits
	for len(missing) > 0 {
		n := min(chunk, len(missing))
		m, err := s.load(ctx, missing[:n])
		if err != nil {
			return nil, nil, err
		}
		for k, v := range m {
			snaps[k] = v
		}
		missing = missing[n:]
	}
	allowed, refused = []string{}, []string{}
	clear(seen)
	for _, sub := range subjects {
		if seen[sub] {
			continue
		}
		seen[sub] = true
		if snaps[sub].state.Purposes[purpose].Allowed {
			allowed = append(allowed, sub)
		} else {
			refused = append(refused, sub)
		}
	}
	return allowed, refused, nil
}

// History returns the subject's consent events, oldest first.
func (s *Service) History(ctx context.Context, subject string) ([]Event, error) {
	if err := CheckSubject("subject", subject); err != nil {
		return nil, err
	}
	return s.events(ctx, `subject = ? ORDER BY seq`, subject)
}

// EventByID returns one recorded event.
func (s *Service) EventByID(ctx context.Context, id string) (Event, error) {
	evs, err := s.events(ctx, `id = ?`, id)
	if err != nil {
		return Event{}, err
	}
	if len(evs) == 0 {
		return Event{}, fmt.Errorf("%w: no consent event %q", ErrNotFound, id)
	}
	return evs[0], nil
}

func (s *Service) events(ctx context.Context, where string, args ...any) ([]Event, error) {
	rows, err := s.st.DB().QueryContext(ctx, s.st.Rebind(
		`SELECT id, subject, purpose, status, source, policy_version, at, recorded_by FROM consent_events WHERE `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("consent: events: %w", s.st.Wrap(err, "query"))
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&e.ID, &e.Subject, &e.Purpose, &e.Status, &e.Source, &e.PolicyVersion, &at, &e.RecordedBy); err != nil {
			return nil, fmt.Errorf("consent: events: %w", s.st.Wrap(err, "scan"))
		}
		e.At = time.UnixMicro(at).UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("consent: events: %w", s.st.Wrap(err, "rows"))
	}
	return out, nil
}

// ApplyGPC records an opt-out (source gpc) for every GPC-honoured purpose
// the subject has not already refused, as a request carrying Sec-GPC: 1
// asks. It returns the events recorded (none when nothing changed).
func (s *Service) ApplyGPC(ctx context.Context, subject, recordedBy string) ([]Event, error) {
	st, err := s.State(ctx, subject)
	if err != nil {
		return nil, err
	}
	var changes []Change
	for _, cp := range s.purposes {
		if cp.GPC && st.Purposes[cp.Name].Allowed {
			changes = append(changes, Change{Subject: subject, Purpose: cp.Name, Status: Denied, Source: SourceGPC, RecordedBy: recordedBy})
		}
	}
	return s.Record(ctx, changes)
}

// GPCPurposes lists the purposes a GPC signal opts out of.
func (s *Service) GPCPurposes() []string {
	var out []string
	for _, cp := range s.purposes {
		if cp.GPC {
			out = append(out, cp.Name)
		}
	}
	return out
}

// Link links an anonymous device to a known subject: the device's
// decisions that are newer than the subject's own (or that the subject
// lacks) are recorded for the subject (source link).
func (s *Service) Link(ctx context.Context, device, subject, recordedBy string) ([]Event, error) {
	if !strings.HasPrefix(device, DevicePrefix) {
		return nil, inputErr(ErrDeviceOnlyLinks, "device", "device id must start with %q", DevicePrefix)
	}
	if err := CheckSubject("device", device); err != nil {
		return nil, err
	}
	if err := CheckSubject("subject", subject); err != nil {
		return nil, err
	}
	if strings.HasPrefix(subject, DevicePrefix) {
		return nil, inputErr(ErrInvalid, "subject", "link a device to a known subject, not to another device")
	}
	dev, err := s.State(ctx, device)
	if err != nil {
		return nil, err
	}
	own, err := s.State(ctx, subject)
	if err != nil {
		return nil, err
	}
	var changes []Change
	for _, cp := range s.purposes {
		d, o := dev.Purposes[cp.Name], own.Purposes[cp.Name]
		if d.At == nil || (o.At != nil && !o.At.Before(*d.At)) {
			continue
		}
		changes = append(changes, Change{Subject: subject, Purpose: cp.Name, Status: d.Status, Source: SourceLink, RecordedBy: recordedBy})
	}
	now := s.now()
	events, receipts, err := s.eventsOf(changes, now)
	if err != nil {
		return nil, err
	}
	at := now.UTC().Truncate(time.Microsecond).UnixMicro()
	err = s.inTx(ctx, []string{subject, device}, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.st.Rebind(`INSERT INTO consent_links (device, subject, at, recorded_by) VALUES (?, ?, ?, ?)
			ON CONFLICT (device) DO UPDATE SET subject = excluded.subject, at = excluded.at, recorded_by = excluded.recorded_by`),
			device, subject, at, recordedBy); err != nil {
			return s.st.Wrap(err, "link device")
		}
		return s.insertEvents(ctx, tx, events, receipts)
	})
	if err != nil {
		return nil, fmt.Errorf("consent: link: %w", err)
	}
	return events, nil
}
