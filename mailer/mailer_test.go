package mailer_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/internal/testsmtp"
	"github.com/vowprivacy/vow/mailer"
)

func TestSend(t *testing.T) {
	t.Parallel()
	srv := testsmtp.Start(t)
	tests := []struct {
		name string
		to   string
		msg  mailer.Message
		auth bool
		want func(t *testing.T, m testsmtp.Message)
	}{
		{
			name: "plain text",
			to:   "plain@example.com",
			msg:  mailer.Message{Subject: "Your code", Text: "Your code is 123456.\nIt expires in 15 minutes."},
			want: func(t *testing.T, m testsmtp.Message) {
				if !strings.Contains(m.Text, "Your code is 123456.") || !strings.Contains(m.Text, "expires in 15 minutes") {
					t.Errorf("text = %q", m.Text)
				}
				if m.HTML != "" {
					t.Errorf("unexpected HTML %q", m.HTML)
				}
			},
		},
		{
			name: "multipart with headers",
			to:   "Jo Ünicode <multi@example.com>",
			msg: mailer.Message{
				Subject: "Änderung unserer Datenschutzerklärung",
				Text:    "We changed our privacy policy. A very long line that has to be wrapped by quoted-printable because it is well over seventy-six characters long.",
				HTML:    "<p>We changed our <a href=\"https://example.com/privacy\">privacy policy</a>.</p>",
				Headers: map[string]string{"List-Unsubscribe": "<https://example.com/u?t=abc>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
			},
			want: func(t *testing.T, m testsmtp.Message) {
				if m.Subject != "Änderung unserer Datenschutzerklärung" {
					t.Errorf("subject = %q", m.Subject)
				}
				if !strings.Contains(m.Text, "well over seventy-six characters long.") {
					t.Errorf("text = %q", m.Text)
				}
				if !strings.Contains(m.HTML, `<a href="https://example.com/privacy">privacy policy</a>`) {
					t.Errorf("html = %q", m.HTML)
				}
				if got := m.Headers["List-Unsubscribe"]; len(got) != 1 || got[0] != "<https://example.com/u?t=abc>" {
					t.Errorf("List-Unsubscribe = %q", got)
				}
				if got := m.Headers["List-Unsubscribe-Post"]; len(got) != 1 || got[0] != "List-Unsubscribe=One-Click" {
					t.Errorf("List-Unsubscribe-Post = %q", got)
				}
			},
		},
		{
			name: "authenticated",
			to:   "auth@example.com",
			auth: true,
			msg:  mailer.Message{Subject: "hi", Text: "hello"},
			want: func(t *testing.T, m testsmtp.Message) {
				if m.From != "privacy@lumen.example" {
					t.Errorf("from = %q", m.From)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := "smtp://" + srv.Addr() + "?from=Lumen+Privacy+%3Cprivacy@lumen.example%3E"
			if tc.auth {
				url = "smtp://user:secret@" + srv.Addr() + "?from=privacy@lumen.example"
			}
			s, err := mailer.FromURL(url)
			if err != nil {
				t.Fatal(err)
			}
			tc.msg.To = []string{tc.to}
			if err := s.Send(context.Background(), tc.msg); err != nil {
				t.Fatal(err)
			}
			addr := tc.to
			if i := strings.IndexByte(addr, '<'); i >= 0 {
				addr = strings.Trim(addr[i:], "<>")
			}
			ms := srv.WaitFor(t, addr)
			if len(ms) != 1 {
				t.Fatalf("%d messages to %s, want 1", len(ms), addr)
			}
			tc.want(t, ms[0])
		})
	}
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	s := &mailer.SMTP{Addr: addr, From: "privacy@example.com", Timeout: 5 * time.Second}
	err = s.Send(context.Background(), mailer.Message{To: []string{"a@example.com"}, Subject: "x", Text: "x"})
	if !errors.Is(err, mailer.ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, addr) || !strings.Contains(msg, "connection refused") {
		t.Errorf("want a one-line error naming %s and the cause, got %q", addr, msg)
	}
}

func TestStartTLSRequired(t *testing.T) {
	t.Parallel()
	srv := testsmtp.Start(t) // Mailpit here offers no STARTTLS
	s, err := mailer.FromURL("smtp://" + srv.Addr() + "?from=privacy@example.com&starttls=require")
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), mailer.Message{To: []string{"tls@example.com"}, Subject: "x", Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") {
		t.Fatalf("err = %v, want a refusal without STARTTLS", err)
	}
}

func TestInvalid(t *testing.T) {
	t.Setenv("VOW_SMTP_FROM", "")
	tests := []struct {
		url, want string
	}{
		{"http://host:25?from=a@b.c", "scheme must be smtp://"},
		{"smtp://:25?from=a@b.c", "no host"},
		{"smtp://host:25", "no sender"},
		{"smtp://u:hunter2@host:25?from=nope", `sender "nope"`},
		{"smtp://host:25?from=a@b.c&starttls=maybe", "starttls must be"},
	}
	for _, tc := range tests {
		_, err := mailer.FromURL(tc.url)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("FromURL(%q) = %v, want %q", tc.url, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error leaks the password: %v", err)
		}
	}
	s := &mailer.SMTP{Addr: "127.0.0.1:1", From: "a@b.c"}
	for _, m := range []mailer.Message{
		{Subject: "x", Text: "x"},
		{To: []string{"not an address"}, Subject: "x", Text: "x"},
		{To: []string{"a@b.c"}, Subject: "x"},
		{To: []string{"a@b.c"}, Subject: "x", Text: "x", Headers: map[string]string{"From": "evil@x"}},
		{To: []string{"a@b.c"}, Subject: "x", Text: "x", Headers: map[string]string{"X-A": "a\r\nBcc: evil@x"}},
	} {
		err := s.Send(context.Background(), m)
		if err == nil || errors.Is(err, mailer.ErrUnreachable) {
			t.Errorf("Send(%+v) = %v, want a refusal before dialing", m, err)
		}
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv("VOW_SMTP_URL", "")
	if _, err := mailer.FromEnv(); !errors.Is(err, mailer.ErrNotConfigured) {
		t.Errorf("err = %v, want ErrNotConfigured", err)
	}
	t.Setenv("VOW_SMTP_URL", "smtp://mail.example.com")
	t.Setenv("VOW_SMTP_FROM", "privacy@example.com")
	s, err := mailer.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if s.Addr != "mail.example.com:587" || s.From != "privacy@example.com" {
		t.Errorf("got %+v", s)
	}
}
