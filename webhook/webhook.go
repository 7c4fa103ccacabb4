// Package webhook calls the company's own services for Vow: a request to
// export or erase a subject is POSTed as JSON, signed with a secret the two
// share, retried with backoff while the service is down, and answered at
// once or later through a signed callback.
//
// Signatures follow the scheme of Stripe's webhooks: the header
//
//	Vow-Signature: t=1732350000,v1=<hex HMAC-SHA256 of "1732350000." + body>
//
// binds the body to a time, so a captured request cannot be replayed after
// the tolerance. Services verify it with [Verify] (or the same few lines in
// their own language); Vow verifies their callbacks the same way.
//
// The client refuses to connect to private, loopback, link-local and other
// non-public addresses unless allowed — checked on the address actually
// dialled, after DNS, so a hostname that resolves to 169.254.169.254 or
// 127.0.0.1 cannot turn Vow against its own network (SSRF) — and it never
// follows redirects or uses a proxy.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Header is the name of the signature header.
const Header = "Vow-Signature"

// MaxResponse caps the body Vow reads from a service.
const MaxResponse = 32 << 20

// Errors callers branch on.
var (
	// ErrForbiddenAddress: the URL resolves to an address the SSRF guard
	// refuses. Permanent: retrying does not help.
	ErrForbiddenAddress = errors.New("webhook: address not allowed")
	// ErrRejected: the service answered with a 4xx other than 408/429, so
	// the request itself is wrong. Permanent.
	ErrRejected = errors.New("webhook: request rejected by the service")
	// ErrUnavailable: the service could not be reached or kept failing
	// (network errors, 5xx, 408, 429) after all retries. Retry later.
	ErrUnavailable = errors.New("webhook: service unavailable")
	// ErrSignature: a signature is missing, malformed, wrong or too old.
	ErrSignature = errors.New("webhook: bad signature")
)

// Sign returns the Vow-Signature header value for body sent at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a Vow-Signature header against body: the MAC must match
// and its time must be within tolerance of now (either side).
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return fmt.Errorf("%w: want %s: t=<unix time>,v1=<hex hmac>", ErrSignature, Header)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed at %s, more than %s from now", ErrSignature, time.Unix(sec, 0).UTC().Format(time.RFC3339), tolerance)
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return fmt.Errorf("%w: the signature does not match the body", ErrSignature)
}

// Client posts signed requests. The zero value is not usable; use New.
type Client struct {
	http *http.Client
	// Attempts is how many times a request is tried; Backoff the first
	// wait between tries, doubled after each.
	Attempts int
	Backoff  time.Duration
	Now      func() time.Time
}

// New returns a client. allowPrivate lets it reach private, loopback and
// link-local addresses (a service on the company's own network, or tests);
// without it only public addresses are dialled.
func New(allowPrivate bool, timeout time.Duration) *Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = guard
	}
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us, past the guard
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
	}
	return &Client{
		http: &http.Client{
			Transport: tr,
			Timeout:   timeout,
			// A signed request is for the URL the policy names, not wherever
			// a redirect points.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		Attempts: 4,
		Backoff:  500 * time.Millisecond,
	}
}

// guard refuses, at dial time, any address that is not public unicast.
func guard(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
	}
	if !Public(ap.Addr()) {
		return fmt.Errorf("%w: %s is not a public address (set allow_private on the webhook to permit it)", ErrForbiddenAddress, ap.Addr())
	}
	return nil
}

// nonPublic are ranges that are neither private nor loopback by Go's
// definitions but are still not the public internet.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
}

// Public reports whether addr is a public unicast address.
func Public(addr netip.Addr) bool {
	addr = addr.Unmap()
	if !addr.IsValid() || addr.IsLoopback() || addr.IsPrivate() || addr.IsUnspecified() ||
		addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() || addr.IsMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

// Response is a service's answer.
type Response struct {
	Status int
	Body   []byte
}

// Post sends payload as signed JSON to url and returns the service's 2xx
// answer. Network errors, 5xx, 408 and 429 are retried with backoff; the
// final error wraps ErrUnavailable. Other 4xx wrap ErrRejected, and a
// refused address ErrForbiddenAddress, without retrying.
func (c *Client) Post(ctx context.Context, url string, secret []byte, payload any) (*Response, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("webhook: encode request: %w", err)
	}
	wait := c.Backoff
	var last error
	for attempt := 1; attempt <= max(c.Attempts, 1); attempt++ {
		if attempt > 1 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
			wait *= 2
		}
		resp, err := c.once(ctx, url, secret, body)
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, ErrForbiddenAddress) || errors.Is(err, ErrRejected) {
			return nil, err
		}
		last = err
	}
	return nil, fmt.Errorf("%w after %d attempts: %w", ErrUnavailable, max(c.Attempts, 1), last)
}

func (c *Client) once(ctx context.Context, url string, secret []byte, body []byte) (*Response, error) {
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRejected, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "vow-webhook/1")
	req.Header.Set(Header, Sign(secret, now, body))
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, ErrForbiddenAddress) {
			return nil, fmt.Errorf("webhook: POST %s: %w", url, ErrForbiddenAddress)
		}
		return nil, fmt.Errorf("webhook: POST %s: %v", url, oneLine(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("webhook: POST %s: read answer: %v", url, err)
	}
	if len(b) > MaxResponse {
		return nil, fmt.Errorf("%w: POST %s: the answer is larger than %d bytes", ErrRejected, url, MaxResponse)
	}
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return &Response{Status: s, Body: b}, nil
	case s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500:
		return nil, fmt.Errorf("webhook: POST %s: %s: %s", url, resp.Status, snippet(b))
	default:
		return nil, fmt.Errorf("%w: POST %s: %s: %s", ErrRejected, url, resp.Status, snippet(b))
	}
}

func snippet(b []byte) string {
	s := oneLine(errors.New(string(b)))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
