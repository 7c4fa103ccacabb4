package versions

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/vowprivacy/vow/audit"
	"github.com/vowprivacy/vow/mailer"
	"github.com/vowprivacy/vow/render"
	"github.com/vowprivacy/vow/state"
	"github.com/vowprivacy/vow/webhook"
)

// Notice channels.
const (
	Email   = "email"
	Webhook = "webhook"
)

// MaxAttempts is how often a notice is tried before it stays failed.
const MaxAttempts = 5

// Notice is one scheduled notice of a material change.
type Notice struct {
	ID        int64      `json:"id"`
	VersionID string     `json:"version"`
	Channel   string     `json:"channel"`
	Recipient string     `json:"recipient"`
	DueAt     time.Time  `json:"due_at"`
	Status    string     `json:"status"` // pending, sent or failed
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error,omitempty"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
}

// Recipients say who is told of a change.
type Recipients struct {
	// Emails are addresses to write to. When empty, every subject that
	// accepted an earlier version and is an email address.
	Emails []string
	// Webhooks are URLs that receive one JSON POST per version (for
	// in-app notices).
	Webhooks []string
}

// Schedule schedules the notices of version ref (the latest when empty):
// each is due change_notice_days (as promised by the version before it)
// before the version takes effect, or now if that day has passed.
// Recipients already scheduled for the version are skipped; it returns the
// number of notices added. Scheduling a version without material changes
// is refused: nobody needs to be told.
func (s *Service) Schedule(ctx context.Context, ref string, to Recipients) (int, error) {
	var v *Version
	var err error
	if ref == "" {
		v, err = s.Latest(ctx)
	} else {
		v, err = s.Get(ctx, ref)
	}
	if err != nil {
		return 0, err
	}
	if !v.Material {
		return 0, fmt.Errorf("versions: %s has no material change; no notice is needed", v.ID)
	}
	days, err := s.noticeDays(ctx, v)
	if err != nil {
		return 0, err
	}
	due := v.EffectiveDate().AddDate(0, 0, -days)
	if now := s.now(); due.Before(now) {
		due = now
	}
	emails := to.Emails
	if len(emails) == 0 {
		if emails, err = s.acceptedBefore(ctx, v.Seq); err != nil {
			return 0, err
		}
	}
	type row struct{ channel, recipient string }
	var rows []row
	for _, e := range emails {
		a, err := mail.ParseAddress(e)
		if err != nil {
			return 0, fmt.Errorf("versions: schedule: recipient %q is not an email address: %v", e, err)
		}
		rows = append(rows, row{Email, strings.ToLower(a.Address)})
	}
	for _, w := range to.Webhooks {
		u, err := url.Parse(w)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return 0, fmt.Errorf("versions: schedule: webhook %q must be an http(s) URL", w)
		}
		rows = append(rows, row{Webhook, w})
	}
	added := 0
	for _, r := range rows {
		res, err := s.Store.DB().ExecContext(ctx, s.Store.Rebind(`INSERT INTO policy_notices (version_id, channel, recipient, due_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (version_id, channel, recipient) DO NOTHING`), v.ID, r.channel, r.recipient, due.UnixMicro())
		if err != nil {
			return added, s.Store.Wrap(err, "versions: schedule notice")
		}
		if n, _ := res.RowsAffected(); n > 0 {
			added++
		}
	}
	if added > 0 {
		data, _ := json.Marshal(map[string]any{"version": v.ID, "notices": added, "due_at": due.Format(time.RFC3339)})
		if _, err := s.Store.Append(ctx, state.Event{Kind: "policy.notices_scheduled", Subject: v.ID, Actor: "vow", Data: data}); err != nil {
			return added, err
		}
	}
	return added, nil
}

// noticeDays is the notice the policy in force before v promises.
func (s *Service) noticeDays(ctx context.Context, v *Version) (int, error) {
	ref := v
	if v.Seq > 1 {
		prev, err := s.Get(ctx, fmt.Sprint(v.Seq-1))
		if err != nil {
			return 0, err
		}
		ref = prev
	}
	p, err := ref.Policy()
	if err != nil {
		return 0, err
	}
	return p.Notices.ChangeNoticeDays, nil
}

// acceptedBefore lists subjects that accepted a version before seq and are
// email addresses.
func (s *Service) acceptedBefore(ctx context.Context, seq int64) ([]string, error) {
	rows, err := s.Store.DB().QueryContext(ctx, s.Store.Rebind(`SELECT DISTINCT a.subject FROM policy_acceptances a
		JOIN policy_versions v ON v.id = a.version_id WHERE v.seq < ? ORDER BY a.subject`), seq)
	if err != nil {
		return nil, s.Store.Wrap(err, "versions: recipients")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var subj string
		if err := rows.Scan(&subj); err != nil {
			return nil, s.Store.Wrap(err, "versions: recipients")
		}
		if a, err := mail.ParseAddress(subj); err == nil && a.Address == subj {
			out = append(out, subj)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.Store.Wrap(err, "versions: recipients")
	}
	return out, nil
}

// Notices lists the notices of version ref (all versions when empty).
func (s *Service) Notices(ctx context.Context, ref string) ([]Notice, error) {
	q, args := `SELECT id, version_id, channel, recipient, due_at, status, attempts, last_error, sent_at FROM policy_notices ORDER BY id`, []any{}
	if ref != "" {
		v, err := s.Get(ctx, ref)
		if err != nil {
			return nil, err
		}
		q, args = `SELECT id, version_id, channel, recipient, due_at, status, attempts, last_error, sent_at FROM policy_notices WHERE version_id = ? ORDER BY id`, []any{v.ID}
	}
	return s.queryNotices(ctx, q, args...)
}

func (s *Service) queryNotices(ctx context.Context, q string, args ...any) ([]Notice, error) {
	rows, err := s.Store.DB().QueryContext(ctx, s.Store.Rebind(q), args...)
	if err != nil {
		return nil, s.Store.Wrap(err, "versions: notices")
	}
	defer rows.Close()
	var out []Notice
	for rows.Next() {
		var n Notice
		var due int64
		var sent *int64
		if err := rows.Scan(&n.ID, &n.VersionID, &n.Channel, &n.Recipient, &due, &n.Status, &n.Attempts, &n.LastError, &sent); err != nil {
			return nil, s.Store.Wrap(err, "versions: notices")
		}
		n.DueAt = time.UnixMicro(due).UTC()
		if sent != nil {
			t := time.UnixMicro(*sent).UTC()
			n.SentAt = &t
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, s.Store.Wrap(err, "versions: notices")
	}
	return out, nil
}

// Mailer sends an email; *mailer.SMTP is one.
type Mailer interface {
	Send(ctx context.Context, m mailer.Message) error
}

// Sender delivers notices.
type Sender struct {
	// Mail sends the email notices; nil leaves them pending.
	Mail Mailer
	// Webhooks posts the webhook notices, through its SSRF guard: one try
	// each (SendDue retries a failed notice on its next run). A client
	// that reaches public addresses only, when nil.
	Webhooks *webhook.Client
	// Secret signs each webhook notice (the Vow-Signature header: a
	// timestamped HMAC the receiver checks with the same secret, as for
	// request webhooks). Webhook notices stay pending without it.
	Secret []byte
	// BaseURL is where `vow serve` publishes the policy (links in notices);
	// no link when empty.
	BaseURL string
	// DryRun lists what is due without sending or recording anything.
	DryRun bool
}

// SendDue sends every notice that is due and not yet sent (failed ones
// again, up to MaxAttempts), records each outcome on the notice and in the
// event log, and returns the notices it handled. One failure does not stop
// the others; the error is for the store only.
func (s *Service) SendDue(ctx context.Context, snd Sender) ([]Notice, error) {
	due, err := s.queryNotices(ctx, `SELECT id, version_id, channel, recipient, due_at, status, attempts, last_error, sent_at
		FROM policy_notices WHERE status <> 'sent' AND attempts < ? AND due_at <= ? ORDER BY id LIMIT 1000`, MaxAttempts, s.now().UnixMicro())
	if err != nil {
		return nil, err
	}
	if snd.DryRun {
		return due, nil
	}
	cache := map[string]*composed{}
	var out []Notice
	for _, n := range due {
		if n.Channel == Email && snd.Mail == nil {
			continue
		}
		if n.Channel == Email && s.Keys == nil {
			return out, errNoKeys
		}
		if n.Channel == Webhook && len(snd.Secret) == 0 {
			continue
		}
		// Claim the notice, so that two senders never both send it.
		res, err := s.Store.DB().ExecContext(ctx, s.Store.Rebind(`UPDATE policy_notices SET attempts = attempts + 1 WHERE id = ? AND attempts = ? AND status <> 'sent'`), n.ID, n.Attempts)
		if err != nil {
			return out, s.Store.Wrap(err, "versions: claim notice %d", n.ID)
		}
		if k, _ := res.RowsAffected(); k == 0 {
			continue
		}
		n.Attempts++
		c := cache[n.VersionID]
		if c == nil {
			if c, err = s.compose(ctx, n.VersionID, snd.BaseURL); err != nil {
				return out, err
			}
			cache[n.VersionID] = c
		}
		sendErr := s.deliver(ctx, snd, n, c)
		now := s.now().Truncate(time.Microsecond)
		kind := "policy.notice_sent"
		if sendErr != nil {
			n.Status, n.LastError, kind = "failed", oneLine(sendErr.Error()), "policy.notice_failed"
			_, err = s.Store.DB().ExecContext(ctx, s.Store.Rebind(`UPDATE policy_notices SET status = 'failed', last_error = ? WHERE id = ?`), n.LastError, n.ID)
		} else {
			n.Status, n.LastError, n.SentAt = "sent", "", &now
			_, err = s.Store.DB().ExecContext(ctx, s.Store.Rebind(`UPDATE policy_notices SET status = 'sent', last_error = '', sent_at = ? WHERE id = ?`), now.UnixMicro(), n.ID)
		}
		if err != nil {
			return out, s.Store.Wrap(err, "versions: record notice %d", n.ID)
		}
		// The log names an email recipient by pseudonym only; a
		// webhook's URL names no one.
		subject, recipient := n.VersionID, n.Recipient
		if n.Channel == Email {
			subject = audit.Subject(s.Keys, n.Recipient)
			recipient = subject
		}
		data, _ := json.Marshal(map[string]any{"notice": n.ID, "version": n.VersionID, "channel": n.Channel, "recipient": recipient, "attempt": n.Attempts, "error": scrubAddress(n.LastError, n.Recipient, recipient)})
		if _, err := s.Store.Append(ctx, state.Event{Kind: kind, Subject: subject, Actor: "vow", Data: data}); err != nil {
			return out, err
		}
		out = append(out, n)
	}
	return out, nil
}

// scrubAddress replaces addr, in any case, in msg (a mail server's error
// often quotes the recipient) by replacement.
func scrubAddress(msg, addr, replacement string) string {
	if addr == "" {
		return msg
	}
	lower, a := strings.ToLower(msg), strings.ToLower(addr)
	var b strings.Builder
	for {
		i := strings.Index(lower, a)
		if i < 0 {
			b.WriteString(msg)
			return b.String()
		}
		b.WriteString(msg[:i])
		b.WriteString(replacement)
		msg, lower = msg[i+len(a):], lower[i+len(a):]
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 500 {
		s = s[:500]
	}
	return s
}

// composed is a version's notice, rendered once for all its recipients.
type composed struct {
	version             *Version
	url                 string
	subject, text, html string
	changes             []render.Change
	described           []string
	effective           string
}

func (s *Service) compose(ctx context.Context, id, base string) (*composed, error) {
	v, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	p, err := v.Policy()
	if err != nil {
		return nil, err
	}
	c := &composed{version: v, effective: v.Effective}
	if base != "" {
		c.url = strings.TrimRight(base, "/") + "/privacy/versions/" + v.ID
	}
	// Material changes first: they are why the notice is sent.
	changes := slices.Clone(v.Changes)
	slices.SortStableFunc(changes, func(a, b Change) int {
		switch {
		case a.Material == b.Material:
			return 0
		case a.Material:
			return -1
		}
		return 1
	})
	for _, ch := range changes {
		rc := render.Change{Kind: ch.Kind, Subject: ch.Subject, From: ch.From, To: ch.To, Material: ch.Material}
		c.changes = append(c.changes, rc)
		d, err := s.Renderer.DescribeChange(rc)
		if err != nil {
			return nil, err
		}
		c.described = append(c.described, d)
	}
	c.subject, c.text, c.html, err = s.Renderer.Notice(render.Notice{Org: p.Organization, VersionID: v.ID, Effective: v.EffectiveDate(), URL: c.url, Changes: c.changes})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (s *Service) deliver(ctx context.Context, snd Sender, n Notice, c *composed) error {
	switch n.Channel {
	case Email:
		return snd.Mail.Send(ctx, mailer.Message{To: []string{n.Recipient}, Subject: c.subject, Text: c.text, HTML: c.html})
	case Webhook:
		type change struct {
			Change
			Text string `json:"text"`
		}
		payload := struct {
			ID        string   `json:"id"`
			Type      string   `json:"type"`
			Version   string   `json:"version"`
			Hash      string   `json:"hash"`
			Effective string   `json:"effective"`
			URL       string   `json:"url,omitempty"`
			Subject   string   `json:"subject"`
			Changes   []change `json:"changes"`
		}{ID: fmt.Sprintf("vow-notice-%d", n.ID), Type: "policy.change_notice", Version: c.version.ID, Hash: c.version.Hash, Effective: c.effective, URL: c.url, Subject: c.subject}
		for i, ch := range c.changes {
			payload.Changes = append(payload.Changes, change{Change{Kind: ch.Kind, Subject: ch.Subject, From: ch.From, To: ch.To, Material: ch.Material}, c.described[i]})
		}
		client := snd.Webhooks
		if client == nil {
			client = webhook.New(false, 10*time.Second)
			client.Attempts = 1
		}
		if _, err := client.Post(ctx, n.Recipient, snd.Secret, payload); err != nil {
			// The client's error names the URL, whose query may hold a
			// token.
			return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), n.Recipient, redactURL(n.Recipient)))
		}
		return nil
	}
	return fmt.Errorf("unknown channel %q", n.Channel)
}

// redactURL drops a webhook URL's query and credentials, which may hold secrets.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(invalid URL)"
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}
