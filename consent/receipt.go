package consent

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vowprivacy/vow/keyring"
)

// Receipt is a consent receipt with the fields of the Kantara Initiative
// Consent Receipt Specification v1.1, plus the decision itself (which the
// specification leaves to extensions).
type Receipt struct {
	Version          string              `json:"version"`
	Jurisdiction     string              `json:"jurisdiction"`
	ConsentTimestamp int64               `json:"consentTimestamp"`
	CollectionMethod string              `json:"collectionMethod"`
	ConsentReceiptID string              `json:"consentReceiptID"`
	PublicKey        string              `json:"publicKey"`
	Language         string              `json:"language"`
	PIIPrincipalID   string              `json:"piiPrincipalId"`
	PIIControllers   []ReceiptController `json:"piiControllers"`
	PolicyURL        string              `json:"policyUrl"`
	Services         []ReceiptService    `json:"services"`
	Sensitive        bool                `json:"sensitive"`
	SPICat           []string            `json:"spiCat"`

	// Vow's extensions: what was decided, under which policy, by whom.
	Status        Status `json:"vowStatus"`
	PolicyVersion string `json:"vowPolicyVersion"`
	RecordedBy    string `json:"vowRecordedBy"`
	Purpose       string `json:"vowPurpose"`
}

// ReceiptController is the controller in a receipt.
type ReceiptController struct {
	PIIController    string `json:"piiController"`
	Contact          string `json:"contact"`
	Address          string `json:"address,omitempty"`
	Email            string `json:"email"`
	PIIControllerURL string `json:"piiControllerUrl,omitempty"`
}

// ReceiptService is a service and its purposes in a receipt.
type ReceiptService struct {
	Service  string           `json:"service"`
	Purposes []ReceiptPurpose `json:"purposes"`
}

// ReceiptPurpose is one purpose consented to (or refused).
type ReceiptPurpose struct {
	Purpose              string   `json:"purpose"`
	PurposeCategory      []string `json:"purposeCategory"`
	ConsentType          string   `json:"consentType"`
	PIICategory          []string `json:"piiCategory"`
	PrimaryPurpose       bool     `json:"primaryPurpose"`
	Termination          string   `json:"termination"`
	ThirdPartyDisclosure bool     `json:"thirdPartyDisclosure"`
	ThirdPartyName       string   `json:"thirdPartyName,omitempty"`
}

// SignedReceipt is a receipt and Vow's Ed25519 signature of its JSON bytes
// exactly as given in Receipt.
type SignedReceipt struct {
	Receipt   json.RawMessage `json:"receipt"`
	Signature string          `json:"signature"` // base64 (std) Ed25519 signature of Receipt
	KeyID     string          `json:"key_id"`
}

// ErrNoReceipt is returned by [Service.Receipt] for an event that has no
// receipt: its subject was erased (a receipt names its subject), or it
// was recorded, before Vow stored receipts, under another policy version
// than today's — a receipt made now would claim today's purposes and
// processors.
var ErrNoReceipt = errors.New("consent: no receipt")

// Receipt returns the signed receipt of event id, as it was made when the
// decision was recorded.
func (s *Service) Receipt(ctx context.Context, id string) (SignedReceipt, error) {
	var stored sql.NullString
	err := s.st.DB().QueryRowContext(ctx, s.st.Rebind(`SELECT receipt FROM consent_events WHERE id = ?`), id).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		return SignedReceipt{}, fmt.Errorf("%w: no consent event %q", ErrNotFound, id)
	}
	if err != nil {
		return SignedReceipt{}, fmt.Errorf("consent: receipt: %w", s.st.Wrap(err, "query"))
	}
	if stored.Valid {
		var sr SignedReceipt
		if err := json.Unmarshal([]byte(stored.String), &sr); err != nil {
			return SignedReceipt{}, fmt.Errorf("consent: receipt of %s: stored receipt: %w", id, err)
		}
		return sr, nil
	}
	e, err := s.EventByID(ctx, id)
	if err != nil {
		return SignedReceipt{}, err
	}
	switch {
	case strings.HasPrefix(e.Subject, erasedPrefix):
		return SignedReceipt{}, fmt.Errorf("%w: the subject of consent event %s was erased, and its receipt with them", ErrNoReceipt, id)
	case e.PolicyVersion != s.version:
		return SignedReceipt{}, fmt.Errorf("%w: consent event %s was recorded under policy version %s, before Vow kept receipts; today's policy (%s) is not what the person saw", ErrNoReceipt, id, e.PolicyVersion, s.version)
	}
	// Recorded before receipts were stored, under the policy still in
	// force: made now, and kept.
	sr, err := s.signReceipt(s.receiptOf(e))
	if err != nil {
		return SignedReceipt{}, err
	}
	b, _ := json.Marshal(sr)
	if _, err := s.st.DB().ExecContext(ctx, s.st.Rebind(`UPDATE consent_events SET receipt = ? WHERE id = ? AND receipt IS NULL`), string(b), id); err != nil {
		return SignedReceipt{}, fmt.Errorf("consent: receipt: %w", s.st.Wrap(err, "store"))
	}
	return sr, nil
}

func (s *Service) receiptOf(e Event) Receipt {
	org := s.p.Organization
	title := e.Purpose
	for _, p := range s.p.Purposes {
		if p.Name == e.Purpose && p.Title != "" {
			title = strings.TrimSuffix(strings.TrimSpace(p.Title+". "+p.Description), ".")
		}
	}
	var third []string
	for _, pr := range s.p.Processors {
		for _, pp := range pr.Purposes {
			if pp == e.Purpose {
				third = append(third, pr.Name)
			}
		}
	}
	method := map[string]string{SourceBanner: "web form (cookie banner)", SourceAPI: "application (API)", SourceImport: "import", SourceGPC: "Global Privacy Control signal", SourceLink: "device linked to account"}[e.Source]
	ctype := "EXPLICIT"
	if e.Source == SourceGPC {
		ctype = "IMPLICIT"
	}
	return Receipt{
		Version:          "KI-CR-v1.1.0",
		Jurisdiction:     strings.Join(org.Locations, ", "),
		ConsentTimestamp: e.At.Unix(),
		CollectionMethod: method,
		ConsentReceiptID: e.ID,
		PublicKey:        base64.StdEncoding.EncodeToString(s.k.PublicKey()),
		Language:         "en",
		PIIPrincipalID:   e.Subject,
		PIIControllers: []ReceiptController{{
			PIIController: firstNonEmpty(org.LegalName, org.Name), Contact: org.Contacts.Privacy, Address: org.Address,
			Email: org.Contacts.Privacy, PIIControllerURL: org.Website,
		}},
		PolicyURL: org.Website,
		Services: []ReceiptService{{Service: org.Name, Purposes: []ReceiptPurpose{{
			Purpose: title, PurposeCategory: []string{e.Purpose}, ConsentType: ctype, PIICategory: []string{},
			Termination: "until withdrawn", ThirdPartyDisclosure: len(third) > 0, ThirdPartyName: strings.Join(third, ", "),
		}}}},
		SPICat:        []string{},
		Status:        e.Status,
		PolicyVersion: e.PolicyVersion,
		RecordedBy:    e.RecordedBy,
		Purpose:       e.Purpose,
	}
}

func firstNonEmpty(a ...string) string {
	for _, s := range a {
		if s != "" {
			return s
		}
	}
	return ""
}

func (s *Service) signReceipt(r Receipt) (SignedReceipt, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return SignedReceipt{}, fmt.Errorf("consent: receipt: %w", err)
	}
	return SignedReceipt{Receipt: b, Signature: base64.StdEncoding.EncodeToString(s.k.Sign(b)), KeyID: s.k.ID()}, nil
}

// receiptLinkTTL is how long a receipt link works: receipts are evidence
// people keep.
const receiptLinkTTL = 5 * 365 * 24 * time.Hour

// ReceiptToken is the signed, expiring token of a receipt link for event id.
func (s *Service) ReceiptToken(id string) string {
	return s.k.Token("consent receipt", []byte(id), s.now().Add(receiptLinkTTL))
}

// ReceiptByToken opens a receipt link's token and returns the receipt.
func (s *Service) ReceiptByToken(ctx context.Context, token string) (SignedReceipt, error) {
	id, err := s.k.OpenToken("consent receipt", token, s.now())
	if errors.Is(err, keyring.ErrExpired) {
		return SignedReceipt{}, fmt.Errorf("%w: the receipt link has expired", ErrBadLink)
	}
	if err != nil {
		return SignedReceipt{}, fmt.Errorf("%w: the receipt link is not valid", ErrBadLink)
	}
	return s.Receipt(ctx, string(id))
}
