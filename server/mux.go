package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vowprivacy/vow/apitoken"
)

// Public is the scope of routes anyone may call without a token.
const Public = ""

// DefaultMaxBody caps request bodies of routes that set no limit.
const DefaultMaxBody = 1 << 20

// Authenticator checks a presented API token; *apitoken.Store is one.
type Authenticator interface {
	Authenticate(ctx context.Context, secret string) (apitoken.Token, error)
}

// HandlerFunc handles a request. A returned error becomes the response
// unless the handler has already written one.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Mux routes requests (stdlib ServeMux patterns, "GET /v1/consent/{subject}")
// and checks each route's token scope before its handler runs.
type Mux struct {
	mux    *http.ServeMux
	auth   Authenticator
	logger *slog.Logger

	mu       sync.Mutex
	checks   []healthCheck
	routes   []Route
	clientIP func(*http.Request) string
	// paths matches a route's path whatever the method, so that a path
	// asked with a method it does not serve gets 405, not 404; methods
	// lists each path's methods for the Allow header.
	paths   *http.ServeMux
	methods map[string][]string
	pathOf  map[string]string // wildcard-blind key → the path registered
}

// SetClientIP sets how rate limits tell clients apart: [RemoteIP] (the
// default) or, behind a reverse proxy, [ForwardedIP]. Call it before
// serving.
func (m *Mux) SetClientIP(fn func(*http.Request) string) { m.clientIP = fn }

// Route is a mounted route, as [Mux.Routes] lists it.
type Route struct {
	Pattern string // "GET /v1/consent/{subject}"
	Scope   string // token scope needed; "" for public routes
}

type healthCheck struct {
	name string
	fn   func(context.Context) error
}

// NewMux returns a mux authenticating with auth, with GET /healthz mounted.
func NewMux(auth Authenticator, logger *slog.Logger) *Mux {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &Mux{mux: http.NewServeMux(), auth: auth, logger: logger, clientIP: RemoteIP, paths: http.NewServeMux(), methods: map[string][]string{}, pathOf: map[string]string{}}
	m.Handle("GET /healthz", Public, m.healthz)
	m.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if _, path := m.paths.Handler(r); path != "" {
			m.mu.Lock()
			allow := strings.Join(m.methods[path], ", ")
			m.mu.Unlock()
			w.Header().Set("Allow", allow)
			WriteError(w, Errorf(http.StatusMethodNotAllowed, "method_not_allowed", "%s is not served here; use %s", r.Method, allow))
			return
		}
		WriteError(w, NotFound("no route for %s %s; see docs/api.md", r.Method, r.URL.Path))
	})
	return m
}

// addPath records a route's method for its path.
func (m *Mux) addPath(pattern string) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// Two routes may name one path's wildcards differently
	// ({id}, {token}); the path mux takes it once, under the first name.
	key := wildcard.ReplaceAllStringFunc(path, func(w string) string {
		if strings.HasSuffix(w, "...}") {
			return "{...}"
		}
		return "{}"
	})
	first, seen := m.pathOf[key]
	if !seen {
		if !registerPath(m.paths, path) {
			return
		}
		first = path
		m.pathOf[key] = path
	}
	m.methods[first] = append(m.methods[first], method)
	if method == http.MethodGet {
		m.methods[first] = append(m.methods[first], http.MethodHead)
	}
}

// registerPath adds path to the path-only mux that answers 405. Routes
// whose methods differ may have paths that overlap with neither more
// specific ("GET /a/{x}/b", "POST /a/c/{y}"): fine for the method mux, a
// panic for the path-only one. Such a path is left out, and a wrong method
// on it gets 404 instead of 405.
func registerPath(paths *http.ServeMux, path string) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			slog.Debug("server: no 405 for an overlapping path", "path", path, "conflict", r)
			ok = false
		}
	}()
	paths.HandleFunc(path, func(http.ResponseWriter, *http.Request) {})
	return true
}

var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// AddHealthCheck adds a check /healthz runs (with a 2 s limit); a failing
// check makes /healthz answer 503 naming it.
func (m *Mux) AddHealthCheck(name string, fn func(context.Context) error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.checks = append(m.checks, healthCheck{name, fn})
}

func (m *Mux) healthz(w http.ResponseWriter, r *http.Request) error {
	m.mu.Lock()
	checks := append([]healthCheck(nil), m.checks...)
	m.mu.Unlock()
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	out := map[string]string{}
	status := http.StatusOK
	for _, c := range checks {
		if err := c.fn(ctx); err != nil {
			m.logger.Warn("server: health check failed", "check", c.name, "err", err)
			out[c.name] = "failing"
			status = http.StatusServiceUnavailable
			continue
		}
		out[c.name] = "ok"
	}
	WriteJSON(w, status, map[string]any{"status": map[bool]string{true: "ok", false: "unavailable"}[status == http.StatusOK], "checks": out})
	return nil
}

// RouteOption adjusts one route.
type RouteOption func(*route)

type route struct {
	maxBody int64
	cors    bool
	limit   *limiter
}

// MaxBody sets the route's request body limit in bytes.
func MaxBody(n int64) RouteOption { return func(r *route) { r.maxBody = n } }

// CORS lets pages on any origin call the route from a browser (without
// credentials): for public endpoints such as the cookie banner's.
func CORS() RouteOption { return func(r *route) { r.cors = true } }

// Handle mounts h at pattern, callable with a token holding scope (or
// admin), or by anyone when scope is [Public].
func (m *Mux) Handle(pattern, scope string, h HandlerFunc, opts ...RouteOption) {
	rt := route{maxBody: DefaultMaxBody}
	for _, o := range opts {
		o(&rt)
	}
	m.mu.Lock()
	m.routes = append(m.routes, Route{Pattern: pattern, Scope: scope})
	m.mu.Unlock()
	m.addPath(pattern)
	m.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if rec, ok := w.(*recorder); ok {
			rec.route = pattern
		}
		// Refuse an oversize body by its declared length, before reading:
		// reading would first send "100 Continue" and then cut it off.
		if r.ContentLength > rt.maxBody {
			w.Header().Set("Connection", "close")
			m.fail(w, r, &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: fmt.Sprintf("the body is larger than %d bytes", rt.maxBody)})
			return
		}
		if rt.cors {
			hd := w.Header()
			hd.Set("Access-Control-Allow-Origin", "*")
			hd.Set("Access-Control-Allow-Headers", "Content-Type")
		}
		if rt.limit != nil {
			if ok, wait := rt.limit.allow(m.clientIP(r), time.Now()); !ok {
				w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
				m.fail(w, r, Errorf(http.StatusTooManyRequests, "rate_limited", "too many requests from this address; retry in a moment"))
				return
			}
		}
		if scope != Public {
			tok, err := m.authenticate(r)
			if err != nil {
				m.fail(w, r, err)
				return
			}
			if !tok.Allows(scope) {
				m.fail(w, r, Errorf(http.StatusForbidden, "forbidden", "token %q lacks the %q scope this route needs", tok.Name, scope))
				return
			}
			if rec, ok := w.(*recorder); ok {
				rec.token = tok.Name
			}
			r = r.WithContext(&callerCtx{Context: r.Context(), tok: tok})
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, rt.maxBody)
		}
		if err := h(w, r); err != nil {
			m.fail(w, r, err)
		}
	})
	if rt.cors {
		if method, path, ok := strings.Cut(pattern, " "); ok && method != "OPTIONS" {
			m.mux.HandleFunc("OPTIONS "+path, func(w http.ResponseWriter, r *http.Request) {
				hd := w.Header()
				hd.Set("Access-Control-Allow-Origin", "*")
				hd.Set("Access-Control-Allow-Methods", method+", OPTIONS")
				hd.Set("Access-Control-Allow-Headers", "Content-Type")
				hd.Set("Access-Control-Max-Age", "86400")
				w.WriteHeader(http.StatusNoContent)
			})
		}
	}
}

// Routes lists the mounted routes in mounting order, for documentation
// checks.
func (m *Mux) Routes() []Route {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Route(nil), m.routes...)
}

// fail writes err and logs its internal cause.
func (m *Mux) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := WriteError(w, err)
	// A 5xx is Vow's fault: Error, with the cause. A 4xx is the caller's:
	// the access log has it at Info; its internal cause, if any, goes at
	// Debug, once (the message the caller got is part of err).
	var e *Error
	switch {
	case status >= 500:
		m.logger.LogAttrs(r.Context(), slog.LevelError, "server: request failed",
			slog.String("method", r.Method), slog.String("path", logPath(r.Pattern)), slog.Int("status", status), slog.String("err", err.Error()))
	case errors.As(err, &e) && e.Err != nil:
		m.logger.LogAttrs(r.Context(), slog.LevelDebug, "server: request refused",
			slog.String("method", r.Method), slog.String("path", logPath(r.Pattern)), slog.Int("status", status), slog.String("cause", e.Err.Error()))
	}
}

func (m *Mux) authenticate(r *http.Request) (apitoken.Token, error) {
	// The scheme is case-insensitive (RFC 9110 §11.1).
	scheme, secret, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		return apitoken.Token{}, Errorf(http.StatusUnauthorized, "unauthorized", "send an API token: Authorization: Bearer vow_… (create one with vow token create)")
	}
	if m.auth == nil {
		return apitoken.Token{}, Errorf(http.StatusUnauthorized, "unauthorized", "this server accepts no tokens")
	}
	tok, err := m.auth.Authenticate(r.Context(), strings.TrimSpace(secret))
	switch {
	case errors.Is(err, apitoken.ErrUnauthorized):
		return apitoken.Token{}, Errorf(http.StatusUnauthorized, "unauthorized", "the API token is unknown or revoked")
	case err != nil:
		return apitoken.Token{}, err
	}
	return tok, nil
}

// ServeHTTP routes r. It is used bare by tests that need no logging;
// [Server.Handler] adds request IDs, recovery and logs.
func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mux.ServeHTTP(w, r)
}

type callerKey struct{}

// callerCtx carries the token that authenticated a request: what
// context.WithValue does, in one allocation where WithValue takes two
// (its context and the token boxed in an interface).
type callerCtx struct {
	context.Context
	tok apitoken.Token
}

func (c *callerCtx) Value(key any) any {
	if key == (callerKey{}) {
		return &c.tok
	}
	return c.Context.Value(key)
}

// Caller returns the token that authenticated the request, if any.
func Caller(ctx context.Context) (apitoken.Token, bool) {
	if t, ok := ctx.Value(callerKey{}).(*apitoken.Token); ok {
		return *t, true
	}
	return apitoken.Token{}, false
}

// CallerName is the name of the token of the request, or "anonymous".
func CallerName(ctx context.Context) string {
	if t, ok := Caller(ctx); ok {
		return t.Name
	}
	return "anonymous"
}
