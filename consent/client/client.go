// Package client is the Go client of Vow's consent API for applications:
// it asks a `vow serve` instance whether a subject's consent allows a
// purpose, records decisions, and answers batch questions, keeping answers
// in a local cache for a short time so that hot code paths do not wait on
// the network.
//
//	c := client.New("https://privacy.example.com", os.Getenv("VOW_TOKEN"))
//	ok, err := c.Allowed(ctx, "user-42", "marketing")
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// PurposeState is a subject's consent for one purpose, as the API gives it.
type PurposeState struct {
	Allowed       bool       `json:"allowed"`
	Status        string     `json:"status"`
	Source        string     `json:"source"`
	At            *time.Time `json:"at,omitempty"`
	PolicyVersion string     `json:"policy_version,omitempty"`
	EventID       string     `json:"event_id,omitempty"`
}

// State is a subject's consent for every consent purpose.
type State struct {
	Subject  string                  `json:"subject"`
	Purposes map[string]PurposeState `json:"purposes"`
}

// Error is an error answer of the API.
type Error struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("vow: %d %s: %s (field %s)", e.Status, e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("vow: %d %s: %s", e.Status, e.Code, e.Message)
}

// Client talks to one Vow server. It is safe for concurrent use.
type Client struct {
	base  string
	token string
	http  *http.Client
	ttl   time.Duration
	now   func() time.Time

	mu    sync.RWMutex
	cache map[string]cached
	max   int
}

type cached struct {
	state   State
	expires time.Time
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: one with a 5 s timeout).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithCacheTTL sets how long an answer is reused locally (default 5 s; 0
// disables the cache). A change made through this client is seen at once;
// one made elsewhere after at most the TTL.
func WithCacheTTL(d time.Duration) Option { return func(c *Client) { c.ttl = d } }

// WithCacheSize caps the subjects cached (default 100,000).
func WithCacheSize(n int) Option { return func(c *Client) { c.max = n } }

// New returns a client of the server at baseURL authenticating with token
// (a token with the consent scope).
func New(baseURL, token string, opts ...Option) *Client {
	c := &Client{
		base: strings.TrimSuffix(baseURL, "/"), token: token,
		http: &http.Client{Timeout: 5 * time.Second},
		ttl:  5 * time.Second, now: time.Now,
		cache: map[string]cached{}, max: 100_000,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// State returns the subject's consent, from the local cache when fresh.
func (c *Client) State(ctx context.Context, subject string) (State, error) {
	if c.ttl > 0 {
		c.mu.RLock()
		e, ok := c.cache[subject]
		c.mu.RUnlock()
		if ok && c.now().Before(e.expires) {
			return e.state, nil
		}
	}
	var st State
	if err := c.do(ctx, "GET", "/v1/consent/"+url.PathEscape(subject), nil, &st); err != nil {
		return State{}, err
	}
	c.store(subject, st)
	return st, nil
}

func (c *Client) store(subject string, st State) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cache) >= c.max {
		for k := range c.cache {
			delete(c.cache, k)
			break
		}
	}
	c.cache[subject] = cached{state: st, expires: c.now().Add(c.ttl)}
}

// Allowed reports whether the subject's consent allows purpose. An unknown
// purpose is an *Error naming the valid ones.
func (c *Client) Allowed(ctx context.Context, subject, purpose string) (bool, error) {
	st, err := c.State(ctx, subject)
	if err != nil {
		return false, err
	}
	ps, ok := st.Purposes[purpose]
	if !ok {
		names := make([]string, 0, len(st.Purposes))
		for n := range st.Purposes {
			names = append(names, n)
		}
		return false, &Error{Status: 400, Code: "unknown_purpose", Field: "purpose", Message: fmt.Sprintf("unknown consent purpose %q; the policy's consent purposes are: %s", purpose, strings.Join(names, ", "))}
	}
	return ps.Allowed, nil
}

// Set records decisions (purpose → granted, denied or withdrawn) for the
// subject and returns the new state; the local cache is updated.
func (c *Client) Set(ctx context.Context, subject string, decisions map[string]string) (State, error) {
	var st State
	body := map[string]any{"purposes": decisions}
	if err := c.do(ctx, "POST", "/v1/consent/"+url.PathEscape(subject), body, &st); err != nil {
		c.Forget(subject)
		return State{}, err
	}
	st.Subject = subject
	c.store(subject, st)
	return st, nil
}

// Forget drops the subject from the local cache.
func (c *Client) Forget(subject string) {
	c.mu.Lock()
	delete(c.cache, subject)
	c.mu.Unlock()
}

// Batch returns which subjects may be processed for purpose (at most
// 10,000 per call; larger lists are split).
func (c *Client) Batch(ctx context.Context, purpose string, subjects []string) (allowed []string, err error) {
	allowed = []string{}
	for len(subjects) > 0 {
		n := min(len(subjects), 10_000)
		var res struct {
			Allowed []string `json:"allowed"`
		}
		if err := c.do(ctx, "POST", "/v1/consent/batch", map[string]any{"purpose": purpose, "subjects": subjects[:n]}, &res); err != nil {
			return nil, err
		}
		allowed = append(allowed, res.Allowed...)
		subjects = subjects[n:]
	}
	return allowed, nil
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("vow: encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("vow: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("vow: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("vow: %s %s: read: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var eb struct {
			Error Error `json:"error"`
		}
		if json.Unmarshal(b, &eb) != nil || eb.Error.Code == "" {
			return &Error{Status: resp.StatusCode, Code: "http", Message: strings.TrimSpace(string(b))}
		}
		eb.Error.Status = resp.StatusCode
		return &eb.Error
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("vow: %s %s: decode: %w", method, path, err)
	}
	return nil
}
