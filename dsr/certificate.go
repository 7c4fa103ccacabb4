package dsr

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vowprivacy/vow/keyring"
)

// Certificate is the evidence of one erasure: what was deleted, masked and
// kept (and why), per table, when, under which policy. It names the
// subject only by a keyed hash, so the certificate itself holds no
// personal data and can be kept after the erasure.
type Certificate struct {
	Version      int           `json:"version"`
	RequestID    string        `json:"request_id"`
	Subject      string        `json:"subject"`
	Organization string        `json:"organization"`
	PolicySHA256 string        `json:"policy_sha256"`
	StoreID      string        `json:"store_id"`
	ReceivedAt   time.Time     `json:"received_at"`
	StartedAt    time.Time     `json:"started_at"`
	CompletedAt  time.Time     `json:"completed_at"`
	Tables       []TableRecord `json:"tables"`
	// Verified says that the subject's data was read again after the
	// erasure — by the plan's conditions and by the keys saved before
	// anything changed, several relations down — and nothing erasable
	// remained, and that no column the policy declares as one of the
	// subject's identities still holds it outside rows kept on purpose.
	Verified bool `json:"verified"`
	// Remaining lists where the subject's identity was still found after
	// the erasure; entries with Kept are held on purpose.
	Remaining []Residual `json:"remaining,omitempty"`
	// Searched lists the columns searched for the subject's identities
	// after the erasure.
	Searched []string `json:"searched,omitempty"`
	// Backups says when erased data is gone from backups too; absent when
	// nothing was erased.
	Backups string `json:"backups,omitempty"`
	// Approval is the operator's approval of an erasure the brake had
	// stopped, and why it stopped.
	Approval *Approval `json:"approval,omitempty"`
}

// verification is what the re-read after an erasure found, for certify.
type verification struct {
	held      bool // nothing was erased: a legal hold
	remaining []Residual
	searched  []string
}

// Signed is a certificate with its signature, as stored and handed out.
// The signature covers the exact bytes of Certificate.
type Signed struct {
	Certificate json.RawMessage `json:"certificate"`
	Signature   Signature       `json:"signature"`
}

// Signature is an Ed25519 signature and the key that made it.
type Signature struct {
	Algorithm string `json:"alg"`
	KeyID     string `json:"key_id"`
	PublicKey string `json:"public_key"` // base64
	Value     string `json:"value"`      // base64
}

// Errors of [VerifyCertificate].
var (
	ErrBadCertificate = errors.New("certificate is not valid")
	ErrUnknownKey     = errors.New("certificate was signed by another key")
)

func (s *Service) certify(ctx context.Context, r *Request, records []TableRecord, started time.Time, v verification) ([]byte, error) {
	storeID, err := s.Store.ID(ctx)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(s.Policy.Source)
	c := Certificate{
		Version:      1,
		RequestID:    r.ID,
		Subject:      r.subjectKey,
		Organization: s.Policy.Organization.Name,
		PolicySHA256: hex.EncodeToString(sum[:]),
		StoreID:      storeID,
		ReceivedAt:   r.ReceivedAt,
		StartedAt:    started,
		CompletedAt:  s.now(),
		Tables:       records,
		Verified:     !v.held,
		Remaining:    v.remaining,
		Searched:     v.searched,
		Approval:     r.Approval,
	}
	for _, x := range v.remaining {
		if x.Kept == "" {
			c.Verified = false
		}
	}
	if !v.held && !s.Policy.Retention.Backups.IsZero() {
		c.Backups = fmt.Sprintf("erased data leaves backups within %s, as backups expire", s.Policy.Retention.Backups)
	}
	return SignCertificate(s.Keys, c)
}

// SignCertificate signs c with the keyring's signing key and returns the
// Signed document, indented for people.
func SignCertificate(k *keyring.Keyring, c Certificate) ([]byte, error) {
	body, err := json.MarshalIndent(c, "  ", "  ")
	if err != nil {
		return nil, fmt.Errorf("dsr: encode certificate: %w", err)
	}
	signed := Signed{
		Certificate: body,
		Signature: Signature{
			Algorithm: "Ed25519",
			KeyID:     k.ID(),
			PublicKey: base64.StdEncoding.EncodeToString(k.PublicKey()),
			Value:     base64.StdEncoding.EncodeToString(k.Sign(body)),
		},
	}
	var buf bytes.Buffer
	buf.WriteString("{\n  \"certificate\": ")
	buf.Write(body)
	sig, _ := json.MarshalIndent(signed.Signature, "  ", "  ")
	buf.WriteString(",\n  \"signature\": ")
	buf.Write(sig)
	buf.WriteString("\n}\n")
	return buf.Bytes(), nil
}

// VerifyCertificate checks a signed certificate and returns its content.
// trusted lists the public keys to accept; a certificate signed by any
// other key fails with ErrUnknownKey even if its signature is sound, since
// anyone can sign with a key of their own.
func VerifyCertificate(doc []byte, trusted ...ed25519.PublicKey) (*Certificate, error) {
	var s Signed
	if err := json.Unmarshal(doc, &s); err != nil {
		return nil, fmt.Errorf("%w: not a certificate document: %v", ErrBadCertificate, err)
	}
	if s.Signature.Algorithm != "Ed25519" {
		return nil, fmt.Errorf("%w: unknown signature algorithm %q", ErrBadCertificate, s.Signature.Algorithm)
	}
	pub, err1 := base64.StdEncoding.DecodeString(s.Signature.PublicKey)
	sig, err2 := base64.StdEncoding.DecodeString(s.Signature.Value)
	if err1 != nil || err2 != nil || len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: malformed signature", ErrBadCertificate)
	}
	known := false
	for _, t := range trusted {
		known = known || bytes.Equal(t, pub)
	}
	if !known {
		return nil, fmt.Errorf("%w: key %s", ErrUnknownKey, keyring.KeyID(pub))
	}
	if !keyring.Verify(pub, s.Certificate, sig) {
		return nil, fmt.Errorf("%w: the signature does not match the content (it was altered after signing)", ErrBadCertificate)
	}
	var c Certificate
	if err := json.Unmarshal(s.Certificate, &c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCertificate, err)
	}
	return &c, nil
}
