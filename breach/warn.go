package breach

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/vowprivacy/vow/mailer"
	"github.com/vowprivacy/vow/webhook"
)

// Warning levels, in rising urgency: a day left, six hours left, past the
// deadline.
const (
	DayLeft   = "24h"
	HoursLeft = "6h"
	Overdue   = "overdue"
)

var levels = []string{"", DayLeft, HoursLeft, Overdue}

func levelFor(left time.Duration) string {
	switch {
	case left <= 0:
		return Overdue
	case left <= 6*time.Hour:
		return HoursLeft
	case left <= 24*time.Hour:
		return DayLeft
	}
	return ""
}

// Warning says an incident's deadline nears or has passed while the
// authority is still to be told.
type Warning struct {
	Incident Incident `json:"incident"`
	Level    string   `json:"level"`
	// Left is the time to the deadline, negative once it has passed.
	Left time.Duration `json:"left"`
}

// Due returns the warnings owed: incidents whose deadline is a day or six
// hours away, or past, while the authority is still to be told, at a
// level more urgent than the last warning delivered. Nothing is recorded:
// deliver each ([Alerter.Send]) and then [Register.Warned] it, so that a
// warning that could not be delivered is owed again on the next check.
func (r *Register) Due(ctx context.Context) ([]Warning, error) {
	open, err := r.List(ctx, false)
	if err != nil {
		return nil, err
	}
	now := r.now()
	var out []Warning
	for _, inc := range open {
		level := levelFor(inc.Deadline.Sub(now))
		if inc.Awaiting() && slices.Index(levels, level) > slices.Index(levels, inc.Warned) {
			out = append(out, Warning{Incident: inc, Level: level, Left: inc.Deadline.Sub(now)})
		}
	}
	return out, nil
}

// Warned records in the register and the audit log that w was delivered.
// A warning at a level delivered already (by another instance) records
// nothing.
func (r *Register) Warned(ctx context.Context, w Warning) error {
	return r.step(ctx, w.Incident.ID, "vow", func(tx *sql.Tx, cur *Incident) (string, map[string]any, error) {
		if slices.Index(levels, w.Level) <= slices.Index(levels, cur.Warned) {
			return "", nil, nil
		}
		cur.Warned = w.Level
		return "incident.deadline_warning", map[string]any{"level": w.Level, "deadline": cur.Deadline, "left_seconds": int64(w.Left.Seconds())}, nil
	})
}

// Check delivers the warnings owed through al and records each one
// delivered; one that could not be delivered is owed again next time. It
// returns the warnings delivered and the delivery failures.
func (r *Register) Check(ctx context.Context, al *Alerter) ([]Warning, error) {
	due, err := r.Due(ctx)
	if err != nil {
		return nil, err
	}
	var sent []Warning
	var errs []error
	for _, w := range due {
		if err := al.Send(ctx, w); err != nil {
			errs = append(errs, fmt.Errorf("incident %s: %w", w.Incident.ID, err))
			continue
		}
		if err := r.Warned(ctx, w); err != nil {
			return sent, err
		}
		sent = append(sent, w)
	}
	return sent, errors.Join(errs...)
}

// Alerter tells people of a [Warning]: in the log always, and by a signed
// webhook and by email when they are configured.
type Alerter struct {
	Logger *slog.Logger
	// Webhook is a URL to POST each warning to, signed with Secret as
	// request webhooks are (webhook.Sign), through Client (whose SSRF
	// guard refuses private addresses unless it was built to allow them).
	Webhook string
	Secret  []byte
	Client  *webhook.Client
	// Mail sends to To (the security contact, the DPO).
	Mail interface {
		Send(ctx context.Context, m mailer.Message) error
	}
	To []string
}

// Send delivers w on every configured channel and returns the failures.
func (a *Alerter) Send(ctx context.Context, w Warning) error {
	inc := w.Incident
	what := fmt.Sprintf("the supervisory authority must be told of incident %s (%q) by %s", inc.ID, inc.Title, inc.Deadline.Format(time.RFC3339))
	if w.Level == Overdue {
		what = fmt.Sprintf("the deadline to tell the supervisory authority of incident %s (%q) passed %s ago (%s)", inc.ID, inc.Title, (-w.Left).Round(time.Minute), inc.Deadline.Format(time.RFC3339))
	}
	if a.Logger != nil {
		a.Logger.WarnContext(ctx, "breach: "+what, "incident", inc.ID, "level", w.Level, "left", w.Left.Round(time.Minute).String())
	}
	var errs []error
	if a.Webhook != "" && a.Client != nil {
		payload := map[string]any{"event": "incident.deadline_warning", "level": w.Level, "incident": inc.ID, "title": inc.Title,
			"deadline": inc.Deadline, "left_seconds": int64(w.Left.Seconds()), "status": inc.Status}
		if _, err := a.Client.Post(ctx, a.Webhook, a.Secret, payload); err != nil {
			errs = append(errs, fmt.Errorf("breach: warning webhook: %w", err))
		}
	}
	if a.Mail != nil && len(a.To) > 0 {
		subject := fmt.Sprintf("[Vow] Breach %s: %s left to notify the authority", inc.ID, w.Left.Round(time.Minute))
		if w.Level == Overdue {
			subject = fmt.Sprintf("[Vow] Breach %s: the notification deadline has passed", inc.ID)
		}
		text := "Hello,\n\n" + what + ".\n\nvow incident show " + inc.ID + " shows where it stands; vow incident draft " + inc.ID +
			" drafts the notice. Once it is sent: vow incident notified " + inc.ID + " --to authority.\n"
		if err := a.Mail.Send(ctx, mailer.Message{To: a.To, Subject: subject, Text: text}); err != nil {
			errs = append(errs, fmt.Errorf("breach: warning email: %w", err))
		}
	}
	return errors.Join(errs...)
}
