// Package dsr executes data-subject requests: access (and portability),
// erasure, rectification, restriction and objection, across every system a
// policy declares.
//
// It owns a request's lifecycle in the state store (received → verifying →
// executing → completed, failed or cancelled, with a deadline from the
// policy, extensions and duplicate detection), identity verification
// (trusted callers, or a one-time code sent by email), the plan that finds a
// subject's rows by following the policy's relations, and the execution:
// streamed access packages, erasure in dependency order with a signed
// certificate, and resumption after a crash from the last completed step.
package dsr

import (
	"errors"
	"time"
)

// Type is a kind of request: a right the policy offers.
type Type string

// Request types.
const (
	Access        Type = "access"
	Portability   Type = "portability"
	Erasure       Type = "erasure"
	Rectification Type = "rectification"
	Restriction   Type = "restriction"
	Objection     Type = "objection"
)

// Types lists the request types in the order they are documented.
var Types = []Type{Access, Portability, Erasure, Rectification, Restriction, Objection}

// Status is where a request is in its lifecycle.
type Status string

// Statuses. Completed, Failed and Cancelled are final.
const (
	Received  Status = "received"
	Verifying Status = "verifying" // waiting for the subject to prove who they are
	Executing Status = "executing" // verified; being (or waiting to be) carried out
	Waiting   Status = "waiting"   // a datastore was down; retried at NextAttemptAt
	Scheduled Status = "scheduled" // an erasure in its grace period: runs at NextAttemptAt unless cancelled
	// AwaitingApproval: the brake stopped an erasure that would change
	// more than one person plausibly owns, or other people's rows; an
	// operator approves (it runs) or cancels it.
	AwaitingApproval Status = "awaiting_approval"
	Completed        Status = "completed"
	Failed           Status = "failed"
	Cancelled        Status = "cancelled"
)

// Final reports whether no further transition is possible.
func (s Status) Final() bool { return s == Completed || s == Failed || s == Cancelled }

// Verification methods.
const (
	// VerifyTrusted: the company's backend vouches for a user it has
	// already authenticated, with an API token.
	VerifyTrusted = "trusted"
	// VerifyEmailCode: Vow emails a one-time code to the subject.
	VerifyEmailCode = "email_code"
)

// Sentinel errors callers branch on.
var (
	// ErrInvalid: the input is malformed; the error names the field.
	ErrInvalid = errors.New("invalid request")
	// ErrNotFound: no request has that ID.
	ErrNotFound = errors.New("request not found")
	// ErrState: the request is not in a state that allows the operation.
	ErrState = errors.New("request state does not allow this")
	// ErrNoMatch: no field of the policy declares the given identities.
	ErrNoMatch = errors.New("no identity field matches")
	// ErrVerification: a wrong, expired or exhausted verification code.
	ErrVerification = errors.New("verification failed")
	// ErrTooManyCodes: a request, or an address, has been sent as many
	// verification codes as it may be for now.
	ErrTooManyCodes = errors.New("too many verification codes")
	// ErrNotOffered: the policy does not offer that right.
	ErrNotOffered = errors.New("right not offered")
)

// FieldError is an ErrInvalid naming the offending input field, so that
// the API can answer 400 with the field and the reason.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Request is one data-subject request.
type Request struct {
	ID     string `json:"id"`
	Type   Type   `json:"type"`
	Status Status `json:"status"`
	// Subject is the subject kind the request is for (customer,
	// team_member, …).
	Subject      string     `json:"subject,omitempty"`
	Identities   Identities `json:"identities,omitempty"`
	Verification string     `json:"verification"`
	// Changes holds the new values of a rectification, by
	// "system:table.column" or by bare column name.
	Changes        map[string]string `json:"changes,omitempty"`
	ReceivedAt     time.Time         `json:"received_at"`
	Deadline       time.Time         `json:"deadline"`
	VerifiedAt     *time.Time        `json:"verified_at,omitempty"`
	CompletedAt    *time.Time        `json:"completed_at,omitempty"`
	ExtendedReason string            `json:"extended_reason,omitempty"`
	DuplicateOf    string            `json:"duplicate_of,omitempty"`
	Attempts       int               `json:"attempts"`
	NextAttemptAt  *time.Time        `json:"next_attempt_at,omitempty"`
	LastError      string            `json:"last_error,omitempty"`
	Result         *Result           `json:"result,omitempty"`
	CreatedBy      string            `json:"created_by"`
	UpdatedAt      time.Time         `json:"updated_at"`
	// Approval is why the brake stopped the request and, once an operator
	// approved it, who did and when.
	Approval   *Approval `json:"approval,omitempty"`
	subjectKey string
	keys       *Keys
}

// Approval records the brake's stop of an erasure and its approval.
type Approval struct {
	// Reasons say what the erasure would have done that one person's
	// erasure should not.
	Reasons    []string   `json:"reasons"`
	StoppedAt  time.Time  `json:"stopped_at"`
	ApprovedBy string     `json:"approved_by,omitempty"`
	ApprovedAt *time.Time `json:"approved_at,omitempty"`
	Note       string     `json:"note,omitempty"`
}

// Result is what a completed request produced.
type Result struct {
	// Found reports whether any of the subject's data was found.
	Found bool `json:"found"`
	// Rows counts the rows read (access) or changed (erasure), per step.
	Rows map[string]int64 `json:"rows,omitempty"`
	// Export is the file name of the access package in the data
	// directory's exports folder, and ExportExpires when it is deleted.
	Export        string     `json:"export,omitempty"`
	ExportExpires *time.Time `json:"export_expires,omitempty"`
	// Certificate is the signed erasure certificate (JSON).
	Certificate []byte `json:"certificate,omitempty"`
	// Message says in one line what was done.
	Message string `json:"message"`
	// Held reports an erasure that a legal hold stopped: nothing was
	// erased.
	Held bool `json:"held,omitempty"`
}
