package consent

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
)

// erasedPrefix starts the pseudonym that replaces an erased subject.
const erasedPrefix = "erased:"

// Pseudonym is what an erased subject's remaining consent records are kept
// under: a keyed HMAC of the subject, so the records prove an opt-out for
// whoever can name the subject again (the same email signing up anew stays
// opted out) but name no one by themselves.
func (s *Service) Pseudonym(subject string) string {
	return erasedPrefix + hex.EncodeToString(s.k.MAC("consent erasure pseudonym", []byte(subject))[:16])
}

// Erasure says what [Service.Erase] did.
type Erasure struct {
	Subject string `json:"subject"`
	// Pseudonym is what the kept records are now filed under.
	Pseudonym string `json:"pseudonym"`
	// Kept counts the consent and preference events kept as proof of
	// opt-out (denials, withdrawals, unsubscriptions).
	Kept int64 `json:"kept"`
	// Deleted counts the events removed (grants, subscriptions).
	Deleted int64 `json:"deleted"`
	// Devices counts the device links removed.
	Devices int64 `json:"devices"`
}

// Erase reduces a subject's consent history to what the law requires
// keeping: proof of opt-out. Grants and subscriptions are deleted; denials,
// withdrawals and unsubscriptions are kept under the subject's pseudonym;
// links from devices are removed. The subject's effective state afterwards
// still honours the kept opt-outs. Erasing twice is harmless. The erasure
// executor calls it; it is one transaction.
func (s *Service) Erase(ctx context.Context, subject string) (Erasure, error) {
	if err := CheckSubject("subject", subject); err != nil {
		return Erasure{}, err
	}
	e := Erasure{Subject: subject, Pseudonym: s.Pseudonym(subject)}
	err := s.inTx(ctx, []string{subject}, func(tx *sql.Tx) error {
		steps := []struct {
			q string
			n *int64
		}{
			{`DELETE FROM consent_events WHERE subject = ? AND status = 'granted'`, &e.Deleted},
			{`DELETE FROM consent_current WHERE subject = ? AND status = 'granted'`, nil},
			{`DELETE FROM preference_events WHERE subject = ? AND status = 'subscribed'`, &e.Deleted},
			{`DELETE FROM preferences WHERE subject = ? AND status = 'subscribed'`, nil},
			{`DELETE FROM consent_links WHERE subject = ?`, &e.Devices},
		}
		for _, st := range steps {
			res, err := tx.ExecContext(ctx, s.st.Rebind(st.q), subject)
			if err != nil {
				return s.st.Wrap(err, "erase")
			}
			if st.n != nil {
				n, _ := res.RowsAffected()
				*st.n += n
			}
		}
		// Kept rows move under the pseudonym; where the pseudonym already
		// has a current row (an earlier erasure), the newer one stays.
		if _, err := tx.ExecContext(ctx, s.st.Rebind(`DELETE FROM consent_current WHERE subject = ? AND EXISTS (
			SELECT 1 FROM consent_current o WHERE o.subject = ? AND o.purpose = consent_current.purpose AND o.at >= consent_current.at)`),
			subject, e.Pseudonym); err != nil {
			return s.st.Wrap(err, "erase")
		}
		if _, err := tx.ExecContext(ctx, s.st.Rebind(`DELETE FROM consent_current WHERE subject = ? AND purpose IN (
			SELECT purpose FROM consent_current n WHERE n.subject = ?)`), e.Pseudonym, subject); err != nil {
			return s.st.Wrap(err, "erase")
		}
		if _, err := tx.ExecContext(ctx, s.st.Rebind(`DELETE FROM preferences WHERE subject = ? AND topic IN (
			SELECT topic FROM preferences n WHERE n.subject = ?)`), e.Pseudonym, subject); err != nil {
			return s.st.Wrap(err, "erase")
		}
		moves := []struct {
			q    string
			kept bool
		}{
			// A receipt names its subject: it goes (proof of opt-out is
			// the event, kept under the pseudonym).
			{`UPDATE consent_events SET subject = ?, receipt = NULL WHERE subject = ?`, true},
			{`UPDATE consent_current SET subject = ? WHERE subject = ?`, false},
			{`UPDATE preference_events SET subject = ? WHERE subject = ?`, true},
			{`UPDATE preferences SET subject = ? WHERE subject = ?`, false},
			{`UPDATE unsubscribe_uses SET subject = ? WHERE subject = ?`, false},
		}
		for _, m := range moves {
			res, err := tx.ExecContext(ctx, s.st.Rebind(m.q), e.Pseudonym, subject)
			if err != nil {
				return s.st.Wrap(err, "erase")
			}
			if m.kept {
				n, _ := res.RowsAffected()
				e.Kept += n
			}
		}
		return nil
	})
	if err != nil {
		return Erasure{}, fmt.Errorf("consent: erase: %w", err)
	}
	s.logger.InfoContext(ctx, "consent: erased", "pseudonym", e.Pseudonym, "kept", e.Kept, "deleted", e.Deleted)
	return e, nil
}

// Spellings returns the subjects consent and preferences are filed under
// that are the email address email in any case (Ada@Example.com for
// ada@example.com), so that an erasure reaches all of them. Applications
// name subjects as they like; an email address names one person however
// it is written.
func (s *Service) Spellings(ctx context.Context, email string) ([]string, error) {
	rows, err := s.st.DB().QueryContext(ctx, s.st.Rebind(`SELECT subject FROM consent_current WHERE lower(subject) = ?
		UNION SELECT subject FROM preferences WHERE lower(subject) = ?
		UNION SELECT subject FROM consent_links WHERE lower(subject) = ?`), email, email, email)
	if err != nil {
		return nil, s.st.Wrap(err, "spellings")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, s.st.Wrap(err, "spellings")
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
