package consent

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vowprivacy/vow/keyring"
)

// TopicState is whether a subject receives messages of one topic.
type TopicState struct {
	Subscribed bool       `json:"subscribed"`
	Essential  bool       `json:"essential,omitempty"`
	Source     string     `json:"source"`
	At         *time.Time `json:"at,omitempty"`
}

// Preferences are a subject's communication preferences, one per topic of
// the policy.
type Preferences struct {
	Subject string                `json:"subject"`
	Topics  map[string]TopicState `json:"topics"`
}

// Topics lists the policy's topics in policy order.
func (s *Service) Topics() []string {
	out := []string{}
	for _, t := range s.p.Communications.Topics {
		out = append(out, t.Name)
	}
	return out
}

func (s *Service) checkTopic(field, topic string, unsubscribe bool) error {
	t := s.topics[topic]
	switch {
	case t == nil:
		return inputErr(ErrUnknownTopic, field, "unknown topic %q; the policy's topics are: %s", topic, strings.Join(s.Topics(), ", "))
	case t.Essential && unsubscribe:
		return inputErr(ErrEssentialTopic, field, "topic %q is essential (service messages such as %s) and cannot be unsubscribed from", topic, firstNonEmpty(t.Title, t.Name))
	}
	return nil
}

// Preferences returns the subject's preferences. A topic with no recorded
// choice follows its purpose's consent when that purpose rests on consent,
// and is subscribed otherwise; essential topics are always subscribed.
func (s *Service) Preferences(ctx context.Context, subject string) (Preferences, error) {
	if err := CheckSubject("subject", subject); err != nil {
		return Preferences{}, err
	}
	cs, err := s.State(ctx, subject)
	if err != nil {
		return Preferences{}, err
	}
	rows, err := s.st.DB().QueryContext(ctx, s.st.Rebind(`SELECT subject, topic, status, source, at FROM preferences WHERE subject IN (?, ?)`), subject, s.Pseudonym(subject))
	if err != nil {
		return Preferences{}, fmt.Errorf("consent: preferences: %w", s.st.Wrap(err, "query"))
	}
	defer rows.Close()
	got := map[string]TopicState{}
	for rows.Next() {
		var sub, topic, status, source string
		var at int64
		if err := rows.Scan(&sub, &topic, &status, &source, &at); err != nil {
			return Preferences{}, fmt.Errorf("consent: preferences: %w", s.st.Wrap(err, "scan"))
		}
		t := time.UnixMicro(at).UTC()
		if old, ok := got[topic]; !ok || old.At.Before(t) {
			got[topic] = TopicState{Subscribed: status == "subscribed", Source: source, At: &t}
		}
	}
	if err := rows.Err(); err != nil {
		return Preferences{}, fmt.Errorf("consent: preferences: %w", s.st.Wrap(err, "rows"))
	}
	out := Preferences{Subject: subject, Topics: map[string]TopicState{}}
	for _, t := range s.p.Communications.Topics {
		ts, ok := got[t.Name]
		switch {
		case t.Essential:
			ts = TopicState{Subscribed: true, Essential: true, Source: "essential"}
		case ok:
		case s.byName[t.Purpose] != nil:
			ps := cs.Purposes[t.Purpose]
			ts = TopicState{Subscribed: ps.Allowed, Source: "consent:" + t.Purpose}
		default:
			ts = TopicState{Subscribed: true, Source: SourceDefault}
		}
		out.Topics[t.Name] = ts
	}
	return out, nil
}

// SetPreferences records the subject's choices (topic → subscribed) in one
// transaction. Unsubscribing from an essential topic is refused.
func (s *Service) SetPreferences(ctx context.Context, subject string, topics map[string]bool, source, recordedBy string) (Preferences, error) {
	if err := CheckSubject("subject", subject); err != nil {
		return Preferences{}, err
	}
	if len(topics) == 0 {
		return Preferences{}, inputErr(ErrInvalid, "topics", "give at least one topic; the policy's topics are: %s", strings.Join(s.Topics(), ", "))
	}
	names := make([]string, 0, len(topics))
	for t, sub := range topics {
		if err := s.checkTopic("topics."+t, t, !sub); err != nil {
			return Preferences{}, err
		}
		names = append(names, t)
	}
	slices.Sort(names)
	at := s.now().UTC().UnixMicro()
	err := s.inTx(ctx, []string{subject}, func(tx *sql.Tx) error {
		for _, t := range names {
			if err := s.setPref(ctx, tx, subject, t, topics[t], source, recordedBy, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Preferences{}, fmt.Errorf("consent: preferences: %w", err)
	}
	return s.Preferences(ctx, subject)
}

func (s *Service) setPref(ctx context.Context, tx *sql.Tx, subject, topic string, subscribed bool, source, by string, at int64) error {
	status := "unsubscribed"
	if subscribed {
		status = "subscribed"
	}
	if _, err := tx.ExecContext(ctx, s.st.Rebind(`INSERT INTO preference_events (subject, topic, status, source, at, recorded_by) VALUES (?, ?, ?, ?, ?, ?)`),
		subject, topic, status, source, at, by); err != nil {
		return s.st.Wrap(err, "insert preference event")
	}
	if _, err := tx.ExecContext(ctx, s.st.Rebind(`INSERT INTO preferences (subject, topic, status, source, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (subject, topic) DO UPDATE SET status = excluded.status, source = excluded.source, at = excluded.at`),
		subject, topic, status, source, at); err != nil {
		return s.st.Wrap(err, "update preference")
	}
	return s.record(ctx, tx, "preference.recorded", subject, by, map[string]any{"topic": topic, "status": status, "source": source})
}

// unsubscribeTTL is how long an unsubscribe link works: old emails are
// read late.
const unsubscribeTTL = 2 * 365 * 24 * time.Hour

type unsubPayload struct {
	Subject string `json:"s"`
	Topic   string `json:"t"`
	Nonce   string `json:"n"`
}

// UnsubscribeToken makes the signed token of a one-click unsubscribe link
// (RFC 8058) for subject and topic. Each link works once.
func (s *Service) UnsubscribeToken(subject, topic string) (string, error) {
	if err := CheckSubject("subject", subject); err != nil {
		return "", err
	}
	if err := s.checkTopic("topic", topic, true); err != nil {
		return "", err
	}
	b, _ := json.Marshal(unsubPayload{subject, topic, newID()[:16]})
	return s.k.Token("unsubscribe", b, s.now().Add(unsubscribeTTL)), nil
}

// OpenUnsubscribe checks an unsubscribe token without using it.
func (s *Service) OpenUnsubscribe(token string) (subject, topic string, err error) {
	p, err := s.openUnsub(token)
	return p.Subject, p.Topic, err
}

func (s *Service) openUnsub(token string) (unsubPayload, error) {
	var p unsubPayload
	b, err := s.k.OpenToken("unsubscribe", token, s.now())
	switch {
	case errors.Is(err, keyring.ErrExpired):
		return p, fmt.Errorf("%w: the unsubscribe link has expired; manage your preferences instead", ErrBadLink)
	case err != nil:
		return p, fmt.Errorf("%w: the unsubscribe link is not valid", ErrBadLink)
	}
	if err := json.Unmarshal(b, &p); err != nil || p.Nonce == "" || s.topics[p.Topic] == nil {
		return p, fmt.Errorf("%w: the unsubscribe link is not valid", ErrBadLink)
	}
	return p, nil
}

// Unsubscribe uses a one-click unsubscribe token: the subject is
// unsubscribed from the topic. Using it again succeeds and changes
// nothing while the subject stays unsubscribed; once they have subscribed
// again it gives ErrLinkUsed, and a forged token ErrBadLink: neither
// changes anything.
func (s *Service) Unsubscribe(ctx context.Context, token string) (subject, topic string, err error) {
	p, err := s.openUnsub(token)
	if err != nil {
		return "", "", err
	}
	at := s.now().UTC().UnixMicro()
	err = s.inTx(ctx, []string{p.Subject}, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.st.Rebind(`INSERT INTO unsubscribe_uses (nonce, subject, topic, used_at) VALUES (?, ?, ?, ?) ON CONFLICT (nonce) DO NOTHING`),
			p.Nonce, p.Subject, p.Topic, at)
		if err != nil {
			return s.st.Wrap(err, "record unsubscribe link use")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			// Used before (a mail provider's one-click POST, then the
			// person's own click): done already, if they are still
			// unsubscribed. If they subscribed again since, the old link
			// must not undo that.
			var status string
			err := tx.QueryRowContext(ctx, s.st.Rebind(`SELECT status FROM preferences WHERE subject = ? AND topic = ?`), p.Subject, p.Topic).Scan(&status)
			if err == nil && status == "unsubscribed" {
				return errDone
			}
			return fmt.Errorf("%w: this unsubscribe link has been used already", ErrLinkUsed)
		}
		return s.setPref(ctx, tx, p.Subject, p.Topic, false, "unsubscribe_link", "unsubscribe link", at)
	})
	if err != nil && !errors.Is(err, errDone) {
		return "", "", fmt.Errorf("consent: unsubscribe: %w", err)
	}
	return p.Subject, p.Topic, nil
}

// errDone rolls back a transaction that has nothing to do.
var errDone = errors.New("nothing to do")
