// Package server is the HTTP server of `vow serve`, shared by every
// capability: routing on the standard library's ServeMux, API-token
// authentication with per-route scopes, JSON error responses
// ({"error":{"code","message","field"}}), request size limits, timeouts,
// panic recovery, slog request logging, /healthz and graceful shutdown.
//
// Capabilities mount their routes on a [Mux] with [Mux.Handle], naming the
// token scope each route needs; handlers return an error, and an [*Error]
// becomes the response (anything else a 500 that hides the cause).
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Config holds the server's limits. Zero fields take the defaults in
// [DefaultConfig].
type Config struct {
	// ReadHeaderTimeout bounds reading a request's headers (slowloris).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response; a handler streaming a large
	// download extends its own deadline with http.ResponseController.
	WriteTimeout time.Duration
	// IdleTimeout bounds keep-alive connections between requests.
	IdleTimeout time.Duration
	// ShutdownTimeout is how long in-flight requests may take to finish
	// once the server is told to stop.
	ShutdownTimeout time.Duration
	// MaxHeaderBytes caps request headers.
	MaxHeaderBytes int
}

// DefaultConfig is what zero Config fields become.
var DefaultConfig = Config{
	ReadHeaderTimeout: 5 * time.Second,
	ReadTimeout:       30 * time.Second,
	WriteTimeout:      60 * time.Second,
	IdleTimeout:       120 * time.Second,
	ShutdownTimeout:   15 * time.Second,
	MaxHeaderBytes:    64 << 10,
}

func (c Config) withDefaults() Config {
	d := DefaultConfig
	if c.ReadHeaderTimeout > 0 {
		d.ReadHeaderTimeout = c.ReadHeaderTimeout
	}
	if c.ReadTimeout > 0 {
		d.ReadTimeout = c.ReadTimeout
	}
	if c.WriteTimeout > 0 {
		d.WriteTimeout = c.WriteTimeout
	}
	if c.IdleTimeout > 0 {
		d.IdleTimeout = c.IdleTimeout
	}
	if c.ShutdownTimeout > 0 {
		d.ShutdownTimeout = c.ShutdownTimeout
	}
	if c.MaxHeaderBytes > 0 {
		d.MaxHeaderBytes = c.MaxHeaderBytes
	}
	return d
}

// Server serves a Mux.
type Server struct {
	mux    *Mux
	cfg    Config
	logger *slog.Logger
	prefix string
	seq    atomic.Uint64
}

// New returns a server for mux. logger receives one line per request (at
// Info; 5xx and panics at Error); nil discards.
func New(mux *Mux, cfg Config, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	return &Server{mux: mux, cfg: cfg.withDefaults(), logger: logger, prefix: hex.EncodeToString(b[:]) + "-"}
}

// Handler is the whole server as an http.Handler: request IDs, panic
// recovery and logging around the mux. Tests serve it with httptest.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Serve accepts connections on ln until ctx is done, then stops accepting,
// lets in-flight requests finish (up to ShutdownTimeout) and returns nil. It
// returns an error if serving fails for another reason.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	s.logger.Info("server: shutting down", "grace", s.cfg.ShutdownTimeout)
	err := hs.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		_ = hs.Close()
		return fmt.Errorf("server: shutdown: %w", err)
	}
	return nil
}

// recorder notes the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	size   int
	token  string // name of the token that authenticated the request
	route  string // the pattern that matched, e.g. "GET /v1/consent/{subject}"
	// id backs the X-Request-Id header's value slice, and idBuf the id
	// made here: one allocation for the recorder and the id's slice on
	// the hot path instead of one each.
	id    [1]string
	idBuf [32]byte
}

// logPath is what the log says of a request's path: its route's pattern
// ("/v1/consent/{subject}"), never the path itself, whose segments carry
// subjects' emails and download or unsubscribe tokens; "(no route)" for
// a path that matched none.
func logPath(route string) string {
	if _, path, ok := strings.Cut(route, " "); ok {
		return path
	}
	if route != "" {
		return route
	}
	return "(no route)"
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.size += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	id := r.Header.Get("X-Request-Id")
	if id == "" || len(id) > 64 {
		// The prefix is 7 bytes and a uint64 at most 20 digits: the id
		// fits idBuf, and string() copies it once.
		b := append(rec.idBuf[:0], s.prefix...)
		id = string(strconv.AppendUint(b, s.seq.Add(1), 10))
	}
	rec.id[0] = id
	w.Header()["X-Request-Id"] = rec.id[:]
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.logger.Error("server: panic", "id", id, "method", r.Method, "path", logPath(rec.route), "panic", v, "stack", string(debug.Stack()))
			if rec.status == 0 {
				WriteError(rec, errors.New("panic"))
			}
		}
		// Client errors are the caller's business: Info, like successes.
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		if s.logger.Enabled(r.Context(), level) {
			s.logger.LogAttrs(r.Context(), level, "http",
				slog.String("id", id), slog.String("method", r.Method), slog.String("path", logPath(rec.route)),
				slog.Int("status", rec.status), slog.Int("bytes", rec.size),
				slog.Duration("took", time.Since(start)), slog.String("token", rec.token))
		}
	}()
	s.mux.ServeHTTP(rec, r)
}
