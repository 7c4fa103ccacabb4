package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vowprivacy/vow/apitoken"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/server"
	"github.com/vowprivacy/vow/state"
)

type body struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// tokenStore returns a token store on a state store of the test's own.
func tokenStore(t *testing.T) (*apitoken.Store, *state.Store) {
	t.Helper()
	st, err := state.Open(context.Background(), testdb.SQLite(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return apitoken.New(st), st
}

func setup(t *testing.T) (*httptest.Server, map[string]string) {
	t.Helper()
	ctx := context.Background()
	tokens, st := tokenStore(t)
	secrets := map[string]string{}
	for name, scope := range map[string]string{"c": "consent", "r": "requests", "a": "admin"} {
		_, s, err := tokens.Create(ctx, name, []string{scope})
		if err != nil {
			t.Fatal(err)
		}
		secrets[name] = s
	}
	mux := server.NewMux(tokens, nil)
	mux.AddHealthCheck("state", func(ctx context.Context) error { return st.DB().PingContext(ctx) })
	mux.Handle("POST /v1/echo", apitoken.ScopeConsent, func(w http.ResponseWriter, r *http.Request) error {
		var b body
		if err := server.DecodeJSON(r, &b); err != nil {
			return err
		}
		if b.Name == "" {
			return server.BadRequest("name", "name is required")
		}
		server.WriteJSON(w, http.StatusOK, map[string]any{"name": b.Name, "by": server.CallerName(r.Context())})
		return nil
	}, server.MaxBody(64))
	// Paths that overlap with neither more specific, under different
	// methods: the method mux takes both; the 405 lookup must not panic.
	mux.Handle("GET /v1/o/{x}/b", server.Public, func(w http.ResponseWriter, r *http.Request) error {
		server.WriteJSON(w, http.StatusOK, map[string]any{"route": "x-b"})
		return nil
	})
	mux.Handle("POST /v1/o/c/{y}", server.Public, func(w http.ResponseWriter, r *http.Request) error {
		server.WriteJSON(w, http.StatusOK, map[string]any{"route": "c-y"})
		return nil
	})
	mux.Handle("GET /v1/panic", server.Public, func(w http.ResponseWriter, r *http.Request) error { panic("boom") })
	mux.Handle("GET /v1/fail", server.Public, func(w http.ResponseWriter, r *http.Request) error {
		return errors.New("secret internal detail")
	})
	ts := httptest.NewServer(server.New(mux, server.Config{}, nil).Handler())
	t.Cleanup(ts.Close)
	return ts, secrets
}

func TestServer(t *testing.T) {
	t.Parallel()
	ts, secrets := setup(t)
	tests := []struct {
		name, method, path, token, body string
		status                          int
		want                            string // substring of the body
	}{
		{"health", "GET", "/healthz", "", "", 200, `"state":"ok"`},
		{"ok", "POST", "/v1/echo", "c", `{"name":"x"}`, 200, `"by":"c"`},
		{"admin allowed", "POST", "/v1/echo", "a", `{"name":"x"}`, 200, `"by":"a"`},
		{"no token", "POST", "/v1/echo", "", `{"name":"x"}`, 401, `"code":"unauthorized"`},
		{"bad token", "POST", "/v1/echo", "vow_nope", `{"name":"x"}`, 401, `unknown or revoked`},
		{"wrong scope", "POST", "/v1/echo", "r", `{"name":"x"}`, 403, `lacks the \"consent\" scope`},
		{"missing field", "POST", "/v1/echo", "c", `{}`, 400, `"field":"name"`},
		{"unknown field", "POST", "/v1/echo", "c", `{"name":"x","nam":1}`, 400, `"field":"nam"`},
		{"wrong type", "POST", "/v1/echo", "c", `{"name":"x","count":"7"}`, 400, `count must be a number`},
		{"not json", "POST", "/v1/echo", "c", `{"name":`, 400, `not valid JSON`},
		{"two values", "POST", "/v1/echo", "c", `{"name":"x"}{}`, 400, `one JSON value`},
		{"empty", "POST", "/v1/echo", "c", ``, 400, `body is empty`},
		{"too large", "POST", "/v1/echo", "c", `{"name":"` + strings.Repeat("x", 100) + `"}`, 413, `larger than 64 bytes`},
		{"duplicate key", "POST", "/v1/echo", "c", `{"name":"x","name":"y"}`, 400, `"field":"name"`},
		{"duplicate key in another case", "POST", "/v1/echo", "c", `{"name":"x","NAME":"y"}`, 400, `"field":"NAME"`},
		{"invalid UTF-8", "POST", "/v1/echo", "c", "{\"name\":\"\xff\"}", 400, `not valid UTF-8`},
		{"array body", "POST", "/v1/echo", "c", `[{"name":"x"}]`, 400, `must be a JSON object`},
		{"lower-case scheme", "POST", "/v1/echo", "lower:c", `{"name":"x"}`, 200, `"by":"c"`},
		{"method not allowed", "DELETE", "/v1/echo", "", "", 405, `"code":"method_not_allowed"`},
		{"not found", "GET", "/v1/nope", "", "", 404, `"code":"not_found"`},
		{"overlapping paths, first", "GET", "/v1/o/z/b", "", "", 200, `"route":"x-b"`},
		{"overlapping paths, second", "POST", "/v1/o/c/z", "", "", 200, `"route":"c-y"`},
		{"overlapping paths, wrong method", "DELETE", "/v1/o/z/b", "", "", 405, `method_not_allowed`},
		{"panic", "GET", "/v1/panic", "", "", 500, `"code":"internal"`},
		{"internal error hidden", "GET", "/v1/fail", "", "", 500, `internal error`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(tt.method, ts.URL+tt.path, strings.NewReader(tt.body))
			if tt.token != "" {
				scheme, name := "Bearer ", tt.token
				if n, ok := strings.CutPrefix(tt.token, "lower:"); ok {
					scheme, name = "bearer ", n
				}
				tok := secrets[name]
				if tok == "" {
					tok = name
				}
				req.Header.Set("Authorization", scheme+tok)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !bytes.Contains(b, []byte(tt.want)) {
				t.Fatalf("%d %s, want %d containing %s", resp.StatusCode, b, tt.status, tt.want)
			}
			if resp.StatusCode >= 400 {
				var e struct {
					Error struct{ Code, Message string } `json:"error"`
				}
				if err := json.Unmarshal(b, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
					t.Errorf("error body %s: %v", b, err)
				}
				if bytes.Contains(b, []byte("secret internal")) {
					t.Errorf("internal cause leaked: %s", b)
				}
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
		})
	}
}

func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	mux := server.NewMux(nil, nil)
	mux.Handle("GET /slow", server.Public, func(w http.ResponseWriter, r *http.Request) error {
		close(started)
		time.Sleep(300 * time.Millisecond)
		_, err := io.WriteString(w, "done")
		return err
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- server.New(mux, server.Config{}, nil).Serve(ctx, ln) }()
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-started
	cancel()
	if s := <-got; s != "done" {
		t.Fatalf("in-flight request got %q", s)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/slow"); err == nil {
		t.Fatal("server still accepts after shutdown")
	}
}

func TestRateLimitAndHealth(t *testing.T) {
	t.Parallel()
	mux := server.NewMux(nil, nil)
	mux.AddHealthCheck("broken", func(context.Context) error { return errors.New("down") })
	mux.Handle("POST /public", server.Public, func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}, server.RateLimit(1, 3))
	ts := httptest.NewServer(server.New(mux, server.Config{}, nil).Handler())
	defer ts.Close()
	var codes []int
	for range 5 {
		resp, err := http.Post(ts.URL+"/public", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if fmt.Sprint(codes) != "[204 204 204 429 429]" {
		t.Fatalf("codes %v", codes)
	}
	resp, err := http.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !bytes.Contains(b, []byte(`"broken":"failing"`)) || bytes.Contains(b, []byte("down")) {
		t.Fatalf("healthz: %d %s", resp.StatusCode, b)
	}
}

func TestForwardedIP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		xff  []string
		want string
	}{
		{nil, "10.0.0.1"},
		{[]string{"203.0.113.7"}, "203.0.113.7"},
		{[]string{"1.1.1.1, 203.0.113.7"}, "203.0.113.7"},
		{[]string{"1.1.1.1", "198.51.100.2"}, "198.51.100.2"},
		{[]string{" "}, "10.0.0.1"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "10.0.0.1:1234"
		for _, v := range tt.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := server.ForwardedIP(r); got != tt.want {
			t.Errorf("%q: %q, want %q", tt.xff, got, tt.want)
		}
	}
}

// TestLogsNoPathValues: the access log and the error log name a request's
// route, never the values in its path — subjects' emails, download and
// unsubscribe tokens.
func TestLogsNoPathValues(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	mux := server.NewMux(nil, logger)
	mux.Handle("GET /v1/consent/{subject}", server.Public, func(w http.ResponseWriter, r *http.Request) error {
		return errors.New("internal")
	})
	mux.Handle("GET /unsubscribe/{token}", server.Public, func(w http.ResponseWriter, r *http.Request) error {
		server.WriteJSON(w, http.StatusOK, map[string]string{})
		return nil
	})
	ts := httptest.NewServer(server.New(mux, server.Config{}, logger).Handler())
	t.Cleanup(ts.Close)
	for _, p := range []string{"/v1/consent/ada.lovelace@example.com", "/unsubscribe/tok_SECRET123", "/nowhere/bob@example.com"} {
		resp, err := http.Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	for _, secret := range []string{"ada.lovelace", "SECRET123", "bob@example.com"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "/v1/consent/{subject}") {
		t.Errorf("the log does not name the route:\n%s", logs.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestOversizeBodyRefusedBeforeReading: a body declared larger than the
// route takes is refused with 413 at once, not after "100 Continue".
func TestOversizeBodyRefusedBeforeReading(t *testing.T) {
	t.Parallel()
	ts, secrets := setup(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 52428800\r\nExpect: 100-continue\r\n\r\n", secrets["c"])
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(line, "413") {
		t.Fatalf("first response line %q (%v); want 413", line, err)
	}
}

// TestClientErrorsNotLoggedAsErrors: a 4xx is the caller's mistake: no
// Error line for it, and its message is not logged twice.
func TestClientErrorsNotLoggedAsErrors(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelInfo}))
	mux := server.NewMux(nil, logger)
	mux.Handle("GET /v1/thing", server.Public, func(w http.ResponseWriter, r *http.Request) error {
		return &server.Error{Status: http.StatusConflict, Code: "conflict", Message: "request is completed", Err: errors.New("dsr: request is completed: not possible")}
	})
	ts := httptest.NewServer(server.New(mux, server.Config{}, logger).Handler())
	t.Cleanup(ts.Close)
	resp, err := http.Get(ts.URL + "/v1/thing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(logs.String(), "level=ERROR") || strings.Count(logs.String(), "request is completed") > 0 {
		t.Errorf("a 409 was logged as an error, or its message logged:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "status=409") {
		t.Errorf("the access log lacks the 409:\n%s", logs.String())
	}
}

// TestRequestIDs: each request gets an id of its own, made here unless the
// caller sent one of at most 64 bytes; and the caller's token reaches the
// handler through its context and contexts derived from it.
func TestRequestIDs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tokens, _ := tokenStore(t)
	_, secret, err := tokens.Create(ctx, "caller", []string{apitoken.ScopeConsent})
	if err != nil {
		t.Fatal(err)
	}
	mux := server.NewMux(tokens, nil)
	mux.Handle("GET /v1/who", apitoken.ScopeConsent, func(w http.ResponseWriter, r *http.Request) error {
		dctx, cancel := context.WithTimeout(r.Context(), time.Minute)
		defer cancel()
		tok, ok := server.Caller(dctx)
		server.WriteJSON(w, http.StatusOK, map[string]any{"name": tok.Name, "ok": ok, "scopes": tok.Scopes})
		return nil
	})
	h := server.New(mux, server.Config{}, nil).Handler()
	seen := map[string]bool{}
	for _, tt := range []struct {
		name, sent string
		echoed     bool
	}{
		{"none sent", "", false},
		{"none sent again", "", false},
		{"sent", "client-id-1", true},
		{"too long", strings.Repeat("x", 65), false},
	} {
		req := httptest.NewRequest("GET", "/v1/who", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		if tt.sent != "" {
			req.Header.Set("X-Request-Id", tt.sent)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		id := rec.Header().Get("X-Request-Id")
		if rec.Code != 200 || rec.Body.String() != `{"name":"caller","ok":true,"scopes":["consent"]}`+"\n" {
			t.Errorf("%s: %d %s", tt.name, rec.Code, rec.Body)
		}
		switch {
		case tt.echoed && id != tt.sent:
			t.Errorf("%s: id %q, want %q", tt.name, id, tt.sent)
		case !tt.echoed && (id == "" || id == tt.sent || len(id) > 28 || seen[id]):
			t.Errorf("%s: id %q (seen before: %v)", tt.name, id, seen[id])
		}
		seen[id] = true
	}
	if _, ok := server.Caller(ctx); ok {
		t.Error("a context without a token has a caller")
	}
}
