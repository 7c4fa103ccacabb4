package dsr

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/big"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vowprivacy/vow/audit"
	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/identity"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/mailer"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/state"
)

// Opener opens the datastore of a policy system; datastore.Resolver is one.
type Opener interface {
	Open(ctx context.Context, sys *policy.System) (connector.SQL, error)
}

// Mailer sends email; the verification codes go through it. *mailer.SMTP
// is one.
type Mailer interface {
	Send(ctx context.Context, m mailer.Message) error
}

// Service carries out requests. Its fields are its dependencies; set them
// all except Mailer (needed only for email verification), Now and Logger.
type Service struct {
	Policy     *policy.Policy
	Store      *state.Store
	Keys       *keyring.Keyring
	Datastores Opener
	Mailer     Mailer
	// ExportDir is where access packages are written.
	ExportDir string
	// ExportTTL is how long an access package and its link live; 7 days
	// when zero.
	ExportTTL time.Duration
	// Pause is slept between steps of an execution, to spare a live
	// workload (and, in tests, to interrupt a run at a known point).
	Pause time.Duration
	// EraseHooks erase what Vow itself holds about a subject (consent
	// history, …) as part of every erasure; each reports what it did as
	// records for the certificate. They must be safe to run twice.
	EraseHooks []func(ctx context.Context, ids Identities) ([]TableRecord, error)
	// BaseURL is Vow's public URL, for the callback links services may
	// answer through; without it services must answer at once.
	BaseURL string
	// ServiceResend is how long Vow waits for a service's callback before
	// it sends the call again (the service may have lost it); 24 hours
	// when zero. A service silent for 30 days fails the request.
	ServiceResend time.Duration
	Now           func() time.Time
	Logger        *slog.Logger
	// Holds lists the subjects under an open legal hold (hold.Book); an
	// erasure of one of them erases nothing and says why. Nil means none.
	Holds HoldSource
	// KeepConnections keeps each datastore's connection pool open across
	// runs (a server's worker); Close releases them. Without it each run
	// opens and closes its own.
	KeepConnections bool
	// webhookBackoff shortens the wait between webhook retries (tests).
	webhookBackoff time.Duration
	poolMu         sync.Mutex
	pools          map[string]connector.SQL
	schemas        map[string]cachedSchema
	// preparing holds, per system, a channel Prepare closes when it is
	// done with the system's pool and schema.
	preparing   map[string]chan struct{}
	prepareErr  map[string]error
	stopPrepare context.CancelFunc
	// crashHook, when set (tests), is called at each step boundary of an
	// erasure with the point's name; it may panic to simulate a crash.
	crashHook func(point string)
}

const timeLayout = "2006-01-02T15:04:05.000000Z"

// now is the current time at the precision the store keeps.
func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func ts(t time.Time) string { return t.UTC().Format(timeLayout) }

func nullTS(t *time.Time) sql.NullString {
	if t == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: ts(*t), Valid: true}
}

func parseTS(s sql.NullString) *time.Time {
	if !s.Valid {
		return nil
	}
	t, err := time.Parse(timeLayout, s.String)
	if err != nil {
		return nil
	}
	return &t
}

// HoldSource lists the subjects with an open legal hold, by identity kind.
type HoldSource interface {
	Subjects(ctx context.Context) (map[string][]string, error)
}

// NewRequest is what a caller submits.
type NewRequest struct {
	Type Type `json:"type"`
	// Subject is the subject kind (customer, team_member, …); it may be
	// omitted when the policy has only one.
	Subject      string            `json:"subject,omitempty"`
	Identities   Identities        `json:"identities"`
	Changes      map[string]string `json:"changes,omitempty"`
	Verification string            `json:"verification,omitempty"`
	// CreatedBy names the caller: an API token's name, "cli", ….
	CreatedBy string `json:"-"`
}

// Validate checks a new request against the policy; errors are
// *FieldError naming the field.
func (s *Service) Validate(n *NewRequest) error {
	if !slices.Contains(Types, n.Type) {
		return &FieldError{"type", fmt.Sprintf("%q is not a request type; use one of %s", n.Type, joinTypes())}
	}
	right := string(n.Type)
	if (n.Type == Restriction || n.Type == Objection) && len(s.rightActions(n.Type)) == 0 {
		return &FieldError{"type", fmt.Sprintf("the policy names no column that records a %s (rights.%s); Vow cannot carry it out", n.Type, n.Type)}
	}
	if !s.Policy.Offers(right) && !(n.Type == Portability && s.Policy.Offers("access")) {
		return &FieldError{"type", fmt.Sprintf("the policy does not offer %s (rights.offered: %s)", right, strings.Join(s.Policy.Rights.Offered, ", "))}
	}
	if len(n.Identities) == 0 {
		return &FieldError{"identities", "at least one identity is needed, e.g. {\"email\": \"ada@example.com\"}"}
	}
	kind, err := SubjectKind(s.Policy, n.Subject)
	if err != nil {
		return &FieldError{"subject", strings.TrimPrefix(err.Error(), ErrSubjectKind.Error()+": ")}
	}
	n.Subject = kind
	if kind == "" && slices.ContainsFunc(s.Policy.Systems, func(sys *policy.System) bool {
		return slices.ContainsFunc(sys.Tables, func(t *policy.Table) bool {
			return slices.ContainsFunc(t.Fields, func(f *policy.Field) bool { return f.Identity != "" })
		})
	}) {
		return &FieldError{"subject", "the policy's tables with identity columns name no subject, so Vow cannot tell whose rows they are; add subject: customer (or the kind of person they are about) to them"}
	}
	declared := declaredIdentities(s.Policy, kind)
	n.Identities = maps.Clone(n.Identities) // normalised below; the caller's map stays as sent
	for _, k := range slices.Sorted(maps.Keys(n.Identities)) {
		v, err := identity.Normalize(k, n.Identities[k])
		if err != nil {
			return &FieldError{"identities." + k, strings.TrimPrefix(err.Error(), identity.ErrInvalid.Error()+": ")}
		}
		if !slices.Contains(declared, k) {
			who := "subject " + kind
			if kind == "" {
				who = "the policy"
			}
			return &FieldError{"identities." + k, fmt.Sprintf("no table of %s declares identity %s, so nothing could be found by it (declared: %s)", who, k, strings.Join(declared, ", "))}
		}
		n.Identities[k] = v
	}
	switch n.Verification {
	case "":
		n.Verification = s.Policy.Rights.Verification
		if n.Verification == "" {
			n.Verification = VerifyEmailCode
		}
	case VerifyTrusted, VerifyEmailCode:
	default:
		return &FieldError{"verification", fmt.Sprintf("%q is not a verification method; use trusted or email_code", n.Verification)}
	}
	if n.Verification == VerifyEmailCode && n.Identities["email"] == "" {
		return &FieldError{"identities.email", "email_code verification needs an email identity"}
	}
	if n.Type == Rectification {
		if len(n.Changes) == 0 {
			return &FieldError{"changes", "a rectification needs the new values, e.g. {\"name\": \"Ada Lovelace\"}"}
		}
		if err := s.checkChanges(n.Changes); err != nil {
			return err
		}
	} else if len(n.Changes) > 0 {
		return &FieldError{"changes", "only a rectification carries changes"}
	}
	return nil
}

// checkTypes refuses identities that no column they would be matched
// with can hold ("1abc" for an integer key, "x" for a uuid), reading the
// columns' types from the live databases. A database that cannot be
// reached now is checked when the request runs.
func (s *Service) checkTypes(ctx context.Context, n *NewRequest) error {
	if s.Datastores == nil {
		return nil
	}
	plan, err := NewPlan(s.Policy, n.Subject, kindsOf(n.Identities))
	if err != nil {
		return nil // Validate has said what it could; the run says the rest
	}
	cs := &conns{s: s, open: map[string]connector.SQL{}}
	defer cs.close()
	why := map[string][]string{}
	fits := map[string]bool{}
	for _, st := range plan.Steps {
		if st.Role != RoleSubject {
			continue
		}
		for _, m := range st.Matches {
			if m.Identity == "" {
				continue
			}
			c, err := cs.get(ctx, st.System)
			if err != nil {
				return nil
			}
			sc, err := s.schema(ctx, st.System, c)
			if err != nil {
				return nil
			}
			col := sc.Table(st.Table).Column(m.Column())
			if col == nil {
				continue
			}
			if err := identity.Fits(n.Identities[m.Identity], col.Base()); err != nil {
				why[m.Identity] = append(why[m.Identity], fmt.Sprintf("%s.%s is %s", st.ID(), m.Column(), col.Type))
				continue
			}
			fits[m.Identity] = true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(why)) {
		if !fits[k] {
			return &FieldError{"identities." + k, fmt.Sprintf("%q cannot be the subject's %s: no column it is matched with can hold it (%s)", n.Identities[k], k, strings.Join(why[k], ", "))}
		}
	}
	if len(why) > 0 {
		return nil // an identity does not fit some column: the run leaves it out there
	}
	for _, st := range plan.Steps {
		idents := 0
		for _, m := range st.Matches {
			if m.Identity != "" {
				idents++
			}
		}
		if st.Role != RoleSubject || idents < 2 {
			continue
		}
		c, err := cs.get(ctx, st.System)
		if err != nil {
			return nil
		}
		sc, err := s.schema(ctx, st.System, c)
		if err != nil {
			return nil
		}
		one := *st
		if len(one.PrimaryKey) == 0 {
			if lt := sc.Table(st.Table); lt != nil {
				one.PrimaryKey = lt.PrimaryKey
			}
		}
		if len(one.PrimaryKey) != 1 {
			continue
		}
		if err := s.agree(ctx, plan, &one, &Request{Identities: n.Identities}, nil, c); err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				return err
			}
			return nil // unreachable now: the run checks again
		}
	}
	return nil
}

func joinTypes() string {
	out := make([]string, len(Types))
	for i, t := range Types {
		out[i] = string(t)
	}
	return strings.Join(out, ", ")
}

// subjectKey is a keyed hash of the identities, so that Vow can tell two
// requests of one subject apart from others' without keeping the
// identities after an erasure.
func (s *Service) subjectKey(kind string, ids Identities) string {
	keys := make([]string, 0, len(ids))
	for k := range ids {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	if kind != "" {
		// Kept out when empty, so keys of requests from before subject
		// kinds still find their duplicates.
		b.WriteString("subject=" + kind + "\n")
	}
	for _, k := range keys {
		b.WriteString(k + "=" + strings.ToLower(strings.TrimSpace(ids[k])) + "\n")
	}
	return hex.EncodeToString(s.Keys.MAC("dsr subject", []byte(b.String())))
}

// Create records a new request. A trusted request is verified at once; an
// email_code request gets its code sent. An open request of the same type
// for the same subject makes the new one a duplicate: it is recorded,
// linked to the first, and completed without running again.
func (s *Service) Create(ctx context.Context, n NewRequest) (*Request, error) {
	if err := s.Validate(&n); err != nil {
		return nil, err
	}
	if err := s.checkTypes(ctx, &n); err != nil {
		return nil, err
	}
	now := s.now()
	r := &Request{
		ID:           newRequestID(),
		Type:         n.Type,
		Subject:      n.Subject,
		Status:       Received,
		Identities:   n.Identities,
		Changes:      n.Changes,
		Verification: n.Verification,
		ReceivedAt:   now,
		Deadline:     now.AddDate(0, 0, s.Policy.DeadlineDays()),
		CreatedBy:    n.CreatedBy,
		UpdatedAt:    now,
		subjectKey:   s.subjectKey(n.Subject, n.Identities),
	}
	dup, err := s.openDuplicate(ctx, r)
	if err != nil {
		return nil, err
	}
	if dup != "" {
		r.DuplicateOf = dup
		r.Status = Completed
		r.CompletedAt = &now
		r.Result = &Result{Message: "duplicate of open request " + dup + "; answered there"}
	} else if n.Verification == VerifyTrusted {
		r.Status = Executing
		r.VerifiedAt = &now
		r.NextAttemptAt = &now
	} else {
		r.Status = Verifying
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.insert(ctx, tx, r); err != nil {
			return err
		}
		// The log names the subject by pseudonyms only, by which an
		// auditor who holds an identity finds the request
		// (audit.IdentitiesKey).
		pseudonyms := map[string]string{}
		for kind, v := range r.Identities {
			pseudonyms[kind] = audit.Identity(s.Keys, kind, v)
		}
		// A duplicate is answered by the request it duplicates: it ends
		// now, and keeps no identity.
		if r.Status == Completed {
			if _, err := tx.ExecContext(ctx, s.Store.Rebind(`UPDATE requests SET identities = '{}', changes = '{}' WHERE id = ?`), r.ID); err != nil {
				return s.Store.Wrap(err, "dsr: record request")
			}
		}
		if err := s.eventTx(ctx, tx, r.ID, "request.received", map[string]any{"type": r.Type, "verification": r.Verification, "duplicate_of": r.DuplicateOf,
			audit.IdentitiesKey: pseudonyms, "by": r.CreatedBy}); err != nil {
			return err
		}
		if r.Status == Executing {
			return s.eventTx(ctx, tx, r.ID, "request.verified", map[string]any{"method": VerifyTrusted})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if r.Status == Verifying {
		if err := s.SendCode(ctx, r.ID); err != nil {
			return r, err
		}
	}
	return r, nil
}

func (s *Service) openDuplicate(ctx context.Context, r *Request) (string, error) {
	var id string
	err := s.Store.DB().QueryRowContext(ctx, s.Store.Rebind(
		`SELECT id FROM requests WHERE subject_key = ? AND type = ? AND status NOT IN ('completed', 'failed', 'cancelled') ORDER BY received_at LIMIT 1`),
		r.subjectKey, string(r.Type)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", s.Store.Wrap(err, "dsr: find duplicate")
	}
	return id, nil
}

// pseudonyms are the keyed pseudonyms of a request's identities, as the
// audit log names the person: kind and value, so that user_id 7 never
// matches customer_id 7 (audit.Identity).
func (s *Service) pseudonyms(ids Identities) []string {
	var out []string
	for kind, v := range ids {
		out = append(out, audit.Identity(s.Keys, kind, v))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func newRequestID() string {
	var b [10]byte
	rand.Read(b[:])
	return "req_" + strings.ToLower(hex.EncodeToString(b[:]))
}

func (s *Service) insert(ctx context.Context, tx *sql.Tx, r *Request) error {
	ids, _ := json.Marshal(r.Identities)
	changes, _ := json.Marshal(r.Changes)
	result, err := marshalResult(r.Result)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, s.Store.Rebind(`INSERT INTO requests
		(id, type, status, subject, subject_key, identities, changes, verification, received_at, deadline, verified_at,
		 completed_at, duplicate_of, next_attempt_at, result, created_by, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		r.ID, string(r.Type), string(r.Status), r.Subject, r.subjectKey, string(ids), string(changes), r.Verification,
		ts(r.ReceivedAt), ts(r.Deadline), nullTS(r.VerifiedAt), nullTS(r.CompletedAt),
		sql.NullString{String: r.DuplicateOf, Valid: r.DuplicateOf != ""}, nullTS(r.NextAttemptAt), result,
		r.CreatedBy, ts(r.UpdatedAt))
	if err != nil {
		return s.Store.Wrap(err, "dsr: record request")
	}
	for _, ps := range s.pseudonyms(r.Identities) {
		if _, err := tx.ExecContext(ctx, s.Store.Rebind(`INSERT INTO request_pseudonyms (request_id, pseudonym) VALUES (?, ?) ON CONFLICT DO NOTHING`), r.ID, ps); err != nil {
			return s.Store.Wrap(err, "dsr: record request")
		}
	}
	return nil
}

func marshalResult(res *Result) (sql.NullString, error) {
	if res == nil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(res)
	if err != nil {
		return sql.NullString{}, fmt.Errorf("dsr: encode result: %w", err)
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

const requestColumns = `id, type, status, subject, subject_key, identities, changes, verification, received_at, deadline,
	verified_at, completed_at, extended_reason, duplicate_of, attempts, next_attempt_at, last_error, keys, result,
	created_by, updated_at, approval`

func scanRequest(row interface{ Scan(...any) error }) (*Request, error) {
	var (
		r                                            Request
		typ, status, ids, changes, received, dl, upd string
		verified, completed, ext, dup, next, lastErr sql.NullString
		keys, result, approval                       sql.NullString
	)
	if err := row.Scan(&r.ID, &typ, &status, &r.Subject, &r.subjectKey, &ids, &changes, &r.Verification, &received, &dl,
		&verified, &completed, &ext, &dup, &r.Attempts, &next, &lastErr, &keys, &result, &r.CreatedBy, &upd, &approval); err != nil {
		return nil, err
	}
	if approval.Valid {
		r.Approval = &Approval{}
		if err := json.Unmarshal([]byte(approval.String), r.Approval); err != nil {
			return nil, fmt.Errorf("dsr: request %s: stored approval: %w", r.ID, err)
		}
	}
	r.Type, r.Status = Type(typ), Status(status)
	_ = json.Unmarshal([]byte(ids), &r.Identities)
	_ = json.Unmarshal([]byte(changes), &r.Changes)
	r.ReceivedAt = *parseTS(sql.NullString{String: received, Valid: true})
	r.Deadline = *parseTS(sql.NullString{String: dl, Valid: true})
	r.UpdatedAt = *parseTS(sql.NullString{String: upd, Valid: true})
	r.VerifiedAt, r.CompletedAt, r.NextAttemptAt = parseTS(verified), parseTS(completed), parseTS(next)
	r.ExtendedReason, r.DuplicateOf, r.LastError = ext.String, dup.String, lastErr.String
	if keys.Valid {
		k, err := decodeKeys(keys.String)
		if err != nil {
			return nil, fmt.Errorf("dsr: request %s: stored keys: %w", r.ID, err)
		}
		r.keys = k
	}
	if result.Valid {
		r.Result = &Result{}
		if err := json.Unmarshal([]byte(result.String), r.Result); err != nil {
			return nil, fmt.Errorf("dsr: request %s: stored result: %w", r.ID, err)
		}
	}
	return &r, nil
}

// Get returns a request by ID.
func (s *Service) Get(ctx context.Context, id string) (*Request, error) {
	r, err := scanRequest(s.Store.DB().QueryRowContext(ctx, s.Store.Rebind(`SELECT `+requestColumns+` FROM requests WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("dsr: %w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, s.Store.Wrap(err, "dsr: read request %s", id)
	}
	return r, nil
}

// ListFilter selects requests for [Service.List].
type ListFilter struct {
	Status Status
	// Overdue keeps open requests past their deadline.
	Overdue bool
	Limit   int
}

// List returns requests, newest first.
func (s *Service) List(ctx context.Context, f ListFilter) ([]*Request, error) {
	q := `SELECT ` + requestColumns + ` FROM requests WHERE 1 = 1`
	var args []any
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, string(f.Status))
	}
	if f.Overdue {
		q += ` AND status NOT IN ('completed', 'failed', 'cancelled') AND deadline < ?`
		args = append(args, ts(s.now()))
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q += fmt.Sprintf(` ORDER BY received_at DESC LIMIT %d`, limit)
	rows, err := s.Store.DB().QueryContext(ctx, s.Store.Rebind(q), args...)
	if err != nil {
		return nil, s.Store.Wrap(err, "dsr: list requests")
	}
	defer rows.Close()
	var out []*Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, s.Store.Wrap(err, "dsr: list requests")
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.Store.Wrap(err, "dsr: list requests")
	}
	return out, nil
}

// Due returns the IDs of verified requests whose time has come: new ones,
// interrupted ones, and those waiting to retry a datastore. Oldest first.
func (s *Service) Due(ctx context.Context) ([]string, error) {
	rows, err := s.Store.DB().QueryContext(ctx, s.Store.Rebind(
		`SELECT id FROM requests WHERE status IN ('executing', 'waiting', 'scheduled') AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY received_at`),
		ts(s.now()))
	if err != nil {
		return nil, s.Store.Wrap(err, "dsr: due requests")
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, s.Store.Wrap(err, "dsr: due requests")
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// transition moves a request from one of the allowed statuses to another,
// setting extra columns, atomically: a request changed by someone else in
// between is not overwritten.
func (s *Service) transition(ctx context.Context, id string, from []Status, to Status, set map[string]any) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return s.transitionTx(ctx, tx, id, from, to, set) })
}

// transitionTx is transition inside tx, so that the events recording it
// commit with it.
func (s *Service) transitionTx(ctx context.Context, tx *sql.Tx, id string, from []Status, to Status, set map[string]any) error {
	q := `UPDATE requests SET status = ?, updated_at = ?`
	args := []any{string(to), ts(s.now())}
	cols := make([]string, 0, len(set))
	for c := range set {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	for _, c := range cols {
		q += `, ` + c + ` = ?`
		args = append(args, set[c])
	}
	q += ` WHERE id = ? AND status IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(from)), ", ") + `)`
	args = append(args, id)
	for _, f := range from {
		args = append(args, string(f))
	}
	res, err := tx.ExecContext(ctx, s.Store.Rebind(q), args...)
	if err != nil {
		return s.Store.Wrap(err, "dsr: update request %s", id)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// Read through tx: on SQLite the pool has one connection, and tx
		// holds it.
		var status string
		if err := tx.QueryRowContext(ctx, s.Store.Rebind(`SELECT status FROM requests WHERE id = ?`), id).Scan(&status); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("dsr: %w: %s", ErrNotFound, id)
		} else if err != nil {
			return s.Store.Wrap(err, "dsr: read request %s", id)
		}
		return fmt.Errorf("dsr: request %s is %s: %w", id, status, ErrState)
	}
	return nil
}

// move is transition and the event that records it, in one commit.
func (s *Service) move(ctx context.Context, id string, from []Status, to Status, set map[string]any, kind string, data map[string]any) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.transitionTx(ctx, tx, id, from, to, set); err != nil {
			return err
		}
		return s.eventTx(ctx, tx, id, kind, data)
	})
}

// inTx runs fn in one state-store transaction: a change to a request and
// the events that record it commit together, and in one commit (one fsync
// on SQLite) rather than one each.
func (s *Service) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.Store.InTx(ctx, fn)
}

var openStatuses = []Status{Received, Verifying, Executing, Waiting, Scheduled, AwaitingApproval}

// Cancel cancels an open request. Steps already done stay done: an erasure
// cannot be undone, and its progress so far is recorded. An erasure in its
// grace period is the exception: cancelling it recovers the account, by
// clearing the columns that marked it.
func (s *Service) Cancel(ctx context.Context, id, reason, by string) error {
	r, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if r.Status == Scheduled {
		if err := s.recover(ctx, r); err != nil {
			return err
		}
	}
	return s.move(ctx, id, openStatuses, Cancelled, map[string]any{"completed_at": ts(s.now()), "last_error": reason,
		"identities": "{}", "keys": nil, "changes": "{}"},
		"request.cancelled", map[string]any{"reason": reason, "by": by})
}

// Approve lets an erasure the brake stopped run: an operator has looked at
// the reasons and decided the erasure is right. The approval (who, when,
// the note) is kept with the request and its events; the run that follows
// does what the brake stopped, and its certificate reports it.
func (s *Service) Approve(ctx context.Context, id, by, note string) (*Request, error) {
	if strings.TrimSpace(by) == "" {
		return nil, &FieldError{"by", "say who approves the erasure"}
	}
	r, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Status != AwaitingApproval || r.Approval == nil {
		return r, fmt.Errorf("dsr: request %s is %s, not awaiting approval: %w", id, r.Status, ErrState)
	}
	now := s.now()
	ap := *r.Approval
	ap.ApprovedBy, ap.ApprovedAt, ap.Note = by, &now, note
	b, _ := json.Marshal(ap)
	err = s.move(ctx, id, []Status{AwaitingApproval}, Executing, map[string]any{"approval": string(b), "next_attempt_at": ts(now)},
		"request.approved", map[string]any{"by": by, "note": note, "reasons": ap.Reasons})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// Retry runs a failed request again, typically after the policy was
// fixed (a strategy for a column a foreign key protects). What the failed
// run recorded as done stays done; the keys it resolved are kept, so rows
// it already masked are still found.
func (s *Service) Retry(ctx context.Context, id, by string) (*Request, error) {
	r, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Status != Failed {
		return r, fmt.Errorf("dsr: request %s is %s; only a failed request can be retried: %w", id, r.Status, ErrState)
	}
	if r.Type == Erasure && len(r.Identities) == 0 {
		return r, fmt.Errorf("dsr: request %s no longer holds the identities it was for: %w", id, ErrState)
	}
	now := s.now()
	// An approval was given for what the brake saw then; after a fix the
	// erasure may reach other rows: the brake looks again.
	err = s.move(ctx, id, []Status{Failed}, Executing, map[string]any{"completed_at": nil, "last_error": nil, "next_attempt_at": ts(now), "attempts": 0, "approval": nil},
		"request.retried", map[string]any{"by": by, "error": r.LastError})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// MaxExtensionDays is how far a deadline may be extended in total (GDPR
// art. 12(3): two further months).
const MaxExtensionDays = 60

// Extend moves an open request's deadline by days, with a reason that the
// subject must be told.
func (s *Service) Extend(ctx context.Context, id string, days int, reason string) (*Request, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, &FieldError{"reason", "an extension needs a reason the subject is told"}
	}
	r, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	limit := r.ReceivedAt.AddDate(0, 0, s.Policy.DeadlineDays()+MaxExtensionDays)
	dl := r.Deadline.AddDate(0, 0, days)
	if days <= 0 || dl.After(limit) {
		return nil, &FieldError{"days", fmt.Sprintf("must be 1 to %d in total (the deadline may move to %s at the latest)", MaxExtensionDays, limit.Format("2006-01-02"))}
	}
	if err := s.move(ctx, id, openStatuses, r.Status, map[string]any{"deadline": ts(dl), "extended_reason": reason},
		"request.extended", map[string]any{"days": days, "reason": reason, "deadline": ts(dl)}); err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// Code verification: six digits, valid 15 minutes, five attempts.
const (
	codeTTL      = 15 * time.Minute
	codeAttempts = 5
	// codeSends is the most codes one request is sent, codeResendAfter
	// how long after one the next may go, codesPerAddress the most codes
	// one address is sent in an hour, across requests.
	codeSends       = 5
	codeResendAfter = time.Minute
	codesPerAddress = 10
)

// SendCode emails a fresh one-time code to the request's email identity,
// replacing any earlier code.
func (s *Service) SendCode(ctx context.Context, id string) error {
	r, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if r.Status != Verifying {
		return fmt.Errorf("dsr: request %s is %s, not waiting for verification: %w", id, r.Status, ErrState)
	}
	if s.Mailer == nil {
		return fmt.Errorf("dsr: request %s needs an email code but no mail server is configured (set VOW_SMTP_URL)", id)
	}
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000))
	code := fmt.Sprintf("%06d", n.Int64())
	now := s.now()
	mac := hex.EncodeToString(s.Keys.MAC("dsr code", []byte(id+":"+code)))
	address := hex.EncodeToString(s.Keys.MAC("dsr code address", []byte(strings.ToLower(r.Identities["email"]))))
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		// The limits are read, then raised: concurrent sends to one
		// address take turns, or each would see room for one more.
		if err := s.Store.LockTx(ctx, tx, "dsr code "+address); err != nil {
			return err
		}
		var sends int
		var sentAt string
		err := tx.QueryRowContext(ctx, s.Store.Rebind(`SELECT sends, sent_at FROM verification_codes WHERE request_id = ?`), id).Scan(&sends, &sentAt)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return s.Store.Wrap(err, "dsr: read code")
		case sends >= codeSends:
			return fmt.Errorf("dsr: request %s has been sent %d codes, the most one request gets: %w", id, sends, ErrTooManyCodes)
		case ts(now.Add(-codeResendAfter)) < sentAt:
			return fmt.Errorf("dsr: a code for %s was sent less than a minute ago; wait for it: %w", id, ErrTooManyCodes)
		}
		var recent int
		if err := tx.QueryRowContext(ctx, s.Store.Rebind(`SELECT count(*) FROM code_sends WHERE address = ? AND sent_at > ?`), address, ts(now.Add(-time.Hour))).Scan(&recent); err != nil {
			return s.Store.Wrap(err, "dsr: count codes")
		}
		if recent >= codesPerAddress {
			return fmt.Errorf("dsr: %d codes were sent to this address in the last hour, the most it gets: %w", recent, ErrTooManyCodes)
		}
		// A new code starts with fresh attempts; the sends cap bounds the
		// guesses one request can buy.
		if _, err := tx.ExecContext(ctx, s.Store.Rebind(`DELETE FROM verification_codes WHERE request_id = ?`), id); err != nil {
			return s.Store.Wrap(err, "dsr: store code")
		}
		if _, err := tx.ExecContext(ctx, s.Store.Rebind(`INSERT INTO verification_codes (request_id, code_mac, expires_at, attempts, sent_at, sends) VALUES (?, ?, ?, 0, ?, ?)`),
			id, mac, ts(now.Add(codeTTL)), ts(now), sends+1); err != nil {
			return s.Store.Wrap(err, "dsr: store code")
		}
		if _, err := tx.ExecContext(ctx, s.Store.Rebind(`DELETE FROM code_sends WHERE sent_at < ?`), ts(now.Add(-time.Hour))); err != nil {
			return s.Store.Wrap(err, "dsr: store code")
		}
		if _, err := tx.ExecContext(ctx, s.Store.Rebind(`INSERT INTO code_sends (address, sent_at) VALUES (?, ?)`), address, ts(now)); err != nil {
			return s.Store.Wrap(err, "dsr: store code")
		}
		return nil
	})
	if err != nil {
		return err
	}
	org := s.Policy.Organization.Name
	body := fmt.Sprintf("Your %s privacy request code is %s.\n\nIt confirms your %s request (%s) and expires in %d minutes.\n"+
		"If you did not make this request, ignore this email and nothing will happen.\n", org, code, r.Type, r.ID, int(codeTTL.Minutes()))
	msg := mailer.Message{To: []string{r.Identities["email"]}, Subject: org + ": confirm your privacy request", Text: body}
	if err := s.Mailer.Send(ctx, msg); err != nil {
		return fmt.Errorf("dsr: send code for %s: %w", id, err)
	}
	s.event(ctx, r, "request.code_sent", nil)
	return nil
}

// Verify checks a one-time code. A right code verifies the request and
// queues it for execution; a wrong one counts against the attempts.
func (s *Service) Verify(ctx context.Context, id, code string) error {
	var mac, expires string
	var attempts int
	err := s.Store.DB().QueryRowContext(ctx, s.Store.Rebind(`SELECT code_mac, expires_at, attempts FROM verification_codes WHERE request_id = ?`), id).
		Scan(&mac, &expires, &attempts)
	if errors.Is(err, sql.ErrNoRows) {
		if _, gerr := s.Get(ctx, id); gerr != nil {
			return gerr
		}
		return fmt.Errorf("dsr: request %s has no code to check (ask for a new one): %w", id, ErrVerification)
	}
	if err != nil {
		return s.Store.Wrap(err, "dsr: read code")
	}
	if ts(s.now()) >= expires {
		return fmt.Errorf("dsr: the code for %s has expired (ask for a new one): %w", id, ErrVerification)
	}
	// Count the attempt before comparing, in one statement: concurrent
	// guesses each take one of the attempts, and none gets past the last.
	res, err := s.Store.DB().ExecContext(ctx, s.Store.Rebind(`UPDATE verification_codes SET attempts = attempts + 1 WHERE request_id = ? AND code_mac = ? AND attempts < ?`), id, mac, codeAttempts)
	if err != nil {
		return s.Store.Wrap(err, "dsr: count attempt")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("dsr: too many wrong codes for %s (ask for a new one): %w", id, ErrVerification)
	}
	want, _ := hex.DecodeString(mac)
	if !hmac.Equal(want, s.Keys.MAC("dsr code", []byte(id+":"+strings.TrimSpace(code)))) {
		s.eventID(ctx, id, "request.code_rejected", map[string]any{"attempt": attempts + 1})
		return fmt.Errorf("dsr: wrong code for %s (at most %d attempts left): %w", id, max(codeAttempts-attempts-1, 0), ErrVerification)
	}
	now := ts(s.now())
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.transitionTx(ctx, tx, id, []Status{Verifying}, Executing, map[string]any{"verified_at": now, "next_attempt_at": now}); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.Store.Rebind(`DELETE FROM verification_codes WHERE request_id = ?`), id); err != nil {
			return s.Store.Wrap(err, "dsr: delete code")
		}
		return s.eventTx(ctx, tx, id, "request.verified", map[string]any{"method": VerifyEmailCode})
	})
}

// event records a transition in the state store's event log. The log is
// evidence, so a failure to record is logged loudly, but does not undo
// the transition already committed.
func (s *Service) event(ctx context.Context, r *Request, kind string, data map[string]any) {
	s.eventID(ctx, r.ID, kind, data)
}

func (s *Service) eventID(ctx context.Context, id, kind string, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	b, _ := json.Marshal(data)
	if _, err := s.Store.Append(ctx, state.Event{Kind: kind, Subject: id, Actor: actorOf(data), Data: b}); err != nil {
		s.log().ErrorContext(ctx, "dsr: record event", "kind", kind, "request", id, "err", err)
	}
}

// actorOf is who caused an event: the data's "by" (the token or user that
// created, approved or cancelled a request), else Vow itself.
func actorOf(data map[string]any) string {
	if by, ok := data["by"].(string); ok && by != "" {
		return by
	}
	return "vow"
}

// eventTx records an event inside tx: it commits with the change it
// records, or neither does.
func (s *Service) eventTx(ctx context.Context, tx *sql.Tx, id, kind string, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	b, _ := json.Marshal(data)
	if _, err := s.Store.AppendTx(ctx, tx, state.Event{Kind: kind, Subject: id, Actor: actorOf(data), Data: b}); err != nil {
		return fmt.Errorf("dsr: record event %s of %s: %w", kind, id, err)
	}
	return nil
}
