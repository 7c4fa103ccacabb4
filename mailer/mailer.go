// Package mailer sends email over SMTP: a plain-text body with an optional
// HTML alternative, extra headers (List-Unsubscribe and the like), STARTTLS
// whenever the server offers it. It owns nothing else: what to send, to
// whom and when is decided by the packages that call it (request
// verification codes, policy change notices).
package mailer

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// ErrUnreachable is returned (wrapped) when the SMTP server cannot be
// reached at all: nothing was sent, and retrying later may succeed.
var ErrUnreachable = errors.New("SMTP server unreachable")

// ErrNotConfigured is returned by FromEnv when VOW_SMTP_URL is not set.
var ErrNotConfigured = errors.New("mailer: VOW_SMTP_URL is not set (want smtp://user:pass@host:port?from=privacy@example.com)")

// Message is one email.
type Message struct {
	// To are the recipients' addresses ("a@example.com" or "Name <a@example.com>").
	To []string
	// Subject is the subject line; non-ASCII is encoded as RFC 2047 words.
	Subject string
	// Text is the plain-text body. It is required: every message can be read without HTML.
	Text string
	// HTML is an optional HTML alternative of the same content.
	HTML string
	// Headers are extra headers such as List-Unsubscribe. They may not
	// replace the structural ones (From, To, Subject, MIME and encoding headers).
	Headers map[string]string
}

// SMTP sends messages through one SMTP server.
type SMTP struct {
	// Addr is the server's host:port.
	Addr string
	// From is the envelope and header sender ("privacy@example.com" or "Lumen <privacy@example.com>").
	From string
	// Username and Password authenticate with PLAIN auth when Username is set
	// (net/smtp refuses to send them unencrypted except to localhost).
	Username string
	Password string
	// TLS configures STARTTLS; nil means verify the server's name against Addr's host.
	TLS *tls.Config
	// StartTLS is "" (use it when the server offers it), "require" (fail
	// when it does not) or "off" (never; for local test servers).
	StartTLS string
	// Timeout bounds the whole conversation; 30s when zero.
	Timeout time.Duration
	// HelloName is the name sent in EHLO; "localhost" when empty.
	HelloName string
}

// FromEnv configures an SMTP sender from VOW_SMTP_URL.
func FromEnv() (*SMTP, error) {
	raw := os.Getenv("VOW_SMTP_URL")
	if raw == "" {
		return nil, ErrNotConfigured
	}
	return FromURL(raw)
}

// FromURL configures an SMTP sender from a URL:
//
//	smtp://user:pass@host:port?from=privacy@example.com&starttls=require
//
// The port defaults to 587. from may also come from VOW_SMTP_FROM.
// starttls is "", "require" or "off".
func FromURL(raw string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// The parse error quotes the URL, password and all: show only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("mailer: SMTP URL is not valid (%v); want smtp://user:pass@host:port?from=privacy@example.com", err)
	}
	if u.Scheme != "smtp" {
		return nil, fmt.Errorf("mailer: SMTP URL %s: scheme must be smtp://, not %q", redact(raw), u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("mailer: SMTP URL %s: no host", redact(raw))
	}
	port := u.Port()
	if port == "" {
		port = "587"
	}
	s := &SMTP{Addr: net.JoinHostPort(u.Hostname(), port)}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	q := u.Query()
	s.From = q.Get("from")
	if s.From == "" {
		s.From = os.Getenv("VOW_SMTP_FROM")
	}
	s.StartTLS = q.Get("starttls")
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, redact(raw))
	}
	return s, nil
}

// redact shows an SMTP URL for errors: scheme, user and host only, never
// the password, query or fragment.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	out := u.Scheme + "://"
	if u.User != nil {
		out += url.User(u.User.Username()).String() + ":xxxxx@"
	}
	return out + u.Host
}

func (s *SMTP) validate() error {
	if s.Addr == "" {
		return errors.New("mailer: no SMTP server address")
	}
	if s.From == "" {
		return errors.New("mailer: no sender: set from= in VOW_SMTP_URL or VOW_SMTP_FROM")
	}
	if _, err := mail.ParseAddress(s.From); err != nil {
		return fmt.Errorf("mailer: sender %q: %v", s.From, err)
	}
	switch s.StartTLS {
	case "", "require", "off":
	default:
		return fmt.Errorf("mailer: starttls must be require or off, not %q", s.StartTLS)
	}
	return nil
}

// reserved headers are built by Send and cannot be overridden.
var reserved = []string{"From", "To", "Subject", "Date", "Message-Id", "Mime-Version", "Content-Type", "Content-Transfer-Encoding", "Bcc", "Cc"}

// Send delivers m to every recipient in one SMTP transaction.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if err := s.validate(); err != nil {
		return err
	}
	from, _ := mail.ParseAddress(s.From)
	if len(m.To) == 0 {
		return errors.New("mailer: message has no recipient")
	}
	rcpts := make([]string, 0, len(m.To))
	for _, to := range m.To {
		a, err := mail.ParseAddress(to)
		if err != nil {
			return fmt.Errorf("mailer: recipient %q: %v", to, err)
		}
		rcpts = append(rcpts, a.Address)
	}
	body, err := build(from, m, time.Now())
	if err != nil {
		return err
	}

	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("mailer: %w at %s: %v", ErrUnreachable, s.Addr, dialCause(err))
	}
	// net/smtp has no context: the deadline bounds every read and write,
	// and cancelling ctx closes the connection.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("mailer: %w at %s: no SMTP greeting: %v", ErrUnreachable, s.Addr, err)
	}
	defer c.Close()
	if err := s.converse(c, host, from.Address, rcpts, body); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("mailer: send via %s: %w", s.Addr, ctx.Err())
		}
		return fmt.Errorf("mailer: send via %s: %w", s.Addr, err)
	}
	return nil
}

func (s *SMTP) converse(c *smtp.Client, host, from string, rcpts []string, body []byte) error {
	if err := c.Hello(cmpOr(s.HelloName, "localhost")); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok && s.StartTLS != "off" {
		cfg := s.TLS
		if cfg == nil {
			cfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	} else if s.StartTLS == "require" {
		return errors.New("the server does not offer STARTTLS, and starttls=require")
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", r, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	return c.Quit()
}

// dialCause shortens a dial error to its cause ("connection refused").
func dialCause(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// build renders the message in RFC 5322 form with CRLF line ends.
func build(from *mail.Address, m Message, now time.Time) ([]byte, error) {
	if strings.TrimSpace(m.Text) == "" {
		return nil, errors.New("mailer: message has no text body")
	}
	var b bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("From", from.String())
	to := make([]string, len(m.To))
	for i, t := range m.To {
		a, _ := mail.ParseAddress(t)
		to[i] = a.String()
	}
	hdr("To", strings.Join(to, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	hdr("Date", now.Format(time.RFC1123Z))
	hdr("Message-ID", "<"+randomID()+"@"+domainOf(from.Address)+">")
	hdr("MIME-Version", "1.0")
	keys := make([]string, 0, len(m.Headers))
	for k := range m.Headers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		v := m.Headers[k]
		if slices.Contains(reserved, ck) {
			return nil, fmt.Errorf("mailer: header %s is set by the mailer and cannot be overridden", ck)
		}
		if !validFieldName(k) || strings.ContainsAny(v, "\r\n") {
			return nil, fmt.Errorf("mailer: header %q: the name must be letters, digits and -, and the value one line", k)
		}
		hdr(ck, mime.QEncoding.Encode("utf-8", v))
	}
	if m.HTML == "" {
		part(&b, "text/plain; charset=utf-8", m.Text)
		return b.Bytes(), nil
	}
	boundary := "vow-" + randomID()
	hdr("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	fmt.Fprintf(&b, "--%s\r\n", boundary)
	part(&b, "text/plain; charset=utf-8", m.Text)
	fmt.Fprintf(&b, "\r\n--%s\r\n", boundary)
	part(&b, "text/html; charset=utf-8", m.HTML)
	fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	return b.Bytes(), nil
}

// validFieldName reports whether s is a header name every mail parser
// accepts: an RFC 7230 token (letters, digits and !#$%&'*+-.^_`|~), a
// subset of what RFC 5322 allows.
func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// part writes Content-Type, quoted-printable encoding and the body.
func part(b *bytes.Buffer, ctype, body string) {
	fmt.Fprintf(b, "Content-Type: %s\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", ctype)
	w := quotedprintable.NewWriter(b)
	body = strings.ReplaceAll(body, "\r\n", "\n")
	_, _ = w.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n")))
	_ = w.Close()
}

func randomID() string {
	var r [12]byte
	_, _ = rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "localhost"
}

// String describes the sender without its password.
func (s *SMTP) String() string {
	u := "smtp://" + s.Addr
	if s.Username != "" {
		u = "smtp://" + url.User(s.Username).String() + "@" + s.Addr
	}
	return u + "?from=" + url.QueryEscape(s.From) + ifSet("&starttls=", s.StartTLS)
}

func ifSet(prefix, v string) string {
	if v == "" {
		return ""
	}
	return prefix + v
}
