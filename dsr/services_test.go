package dsr_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vowprivacy/vow/apitoken"
	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/server"
	"github.com/vowprivacy/vow/webhook"
)

// mailingService is a fake of the company's mailing service: it checks
// Vow's signature and answers as told.
type mailingService struct {
	t      *testing.T
	secret []byte
	mu     sync.Mutex
	calls  []dsr.ServiceCall
	answer func(dsr.ServiceCall) (int, string)
}

func (m *mailingService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := webhook.Verify(m.secret, r.Header.Get(webhook.Header), body, time.Now(), time.Minute); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var c dsr.ServiceCall
	json.Unmarshal(body, &c)
	m.mu.Lock()
	m.calls = append(m.calls, c)
	m.mu.Unlock()
	code, out := m.answer(c)
	w.WriteHeader(code)
	io.WriteString(w, out)
}

// withWebhook loads the fixture policy with a webhook system added and
// points the service at it.
func withWebhook(t *testing.T, f *fixture, url string, allowPrivate bool) {
	t.Helper()
	src := strings.Replace(string(mustRead(t, "testdata/policy.yaml")), "KIND", "sqlite", 1)
	ap := "false"
	if allowPrivate {
		ap = "true"
	}
	src = strings.Replace(src, "systems:\n", "systems:\n  mailing:\n    kind: webhook\n    connection: {env: MAILING_SECRET}\n    purposes: [service]\n"+
		"    webhook: {url: \""+url+"\", identities: [email], categories: [user.contact.email], erase: true, allow_private: "+ap+"}\n", 1)
	p, ds := policy.Parse("policy.yaml", []byte(src))
	if errs, _ := ds.Count(); errs > 0 {
		t.Fatalf("policy: %v", ds)
	}
	f.svc.Policy = p
	prev := f.resolver.LookupEnv
	f.resolver.LookupEnv = func(k string) (string, bool) {
		if k == "MAILING_SECRET" {
			return "mailing-secret", true
		}
		return prev(k)
	}
	f.svc.Datastores = f.resolver
	dsr.SetWebhookBackoff(f.svc, time.Millisecond)
}

func TestWebhookSync(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite")
	m := &mailingService{t: t, secret: []byte("mailing-secret"), answer: func(c dsr.ServiceCall) (int, string) {
		if c.Type == dsr.Access {
			return 200, `{"status":"completed","records":2,"data":{"lists":["news","beta"]}}`
		}
		return 200, `{"status":"completed","records":2,"kept":1,"message":"one bounce record is kept 30 days"}`
	}}
	srv := httptest.NewServer(m)
	defer srv.Close()
	withWebhook(t, f, srv.URL, true)

	r := run(t, f, create(t, f, trusted(dsr.Access, dsr.Identities{"email": "ada@example.com", "user_id": "1"})).ID)
	files := readZip(t, f.exports+"/"+r.Result.Export)
	if !strings.Contains(string(files["data/mailing.json"]), `"beta"`) {
		t.Errorf("package lacks the service's data: %s", files["data/mailing.json"])
	}
	if got := m.calls[0].Identities; len(got) != 1 || got["email"] != "ada@example.com" {
		t.Errorf("the service was sent identities %v, want only the email it accepts", got)
	}

	e := run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID)
	c, err := dsr.VerifyCertificate(e.Result.Certificate, f.keys.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tr := range c.Tables {
		if tr.System == "mailing" {
			got = append(got, tr.Action+" "+tr.Reason)
		}
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "deleted") || !strings.HasPrefix(got[1], "kept one bounce") {
		t.Errorf("certificate records of the service = %q", got)
	}
}

func TestWebhookAsyncCallback(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite")
	var callback string
	m := &mailingService{t: t, secret: []byte("mailing-secret"), answer: func(c dsr.ServiceCall) (int, string) {
		callback = c.CallbackURL
		return 202, `{"status":"accepted"}`
	}}
	svc := httptest.NewServer(m)
	defer svc.Close()
	withWebhook(t, f, svc.URL, true)
	tokens := apitoken.New(f.store)
	mux := server.NewMux(tokens, slog.New(slog.DiscardHandler))
	vow := httptest.NewServer(mux)
	defer vow.Close()
	f.svc.BaseURL = vow.URL
	f.svc.Mount(mux, vow.URL)

	r := create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"}))
	got, err := f.svc.Run(t.Context(), r.ID, nil)
	if !errors.Is(err, dsr.ErrWaiting) || got.Status != dsr.Waiting || callback == "" {
		t.Fatalf("Run = %v, %v; callback %q: want waiting for the service", got.Status, err, callback)
	}
	// The databases are done; running again does not call the service twice.
	f.svc.Run(t.Context(), r.ID, nil)
	if len(m.calls) != 1 {
		t.Errorf("service called %d times, want once", len(m.calls))
	}

	post := func(secret, body string) int {
		req, _ := http.NewRequest("POST", callback, strings.NewReader(body))
		req.Header.Set(webhook.Header, webhook.Sign([]byte(secret), time.Now(), []byte(body)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("forged", `{"status":"completed","records":9}`); code != 401 {
		t.Errorf("forged callback: %d, want 401", code)
	}
	if code := post("mailing-secret", `{"status":"completed","records":3}`); code != 204 {
		t.Fatalf("callback: %d, want 204", code)
	}
	done := run(t, f, r.ID)
	if !bytes.Contains(done.Result.Certificate, []byte(`"mailing"`)) {
		t.Errorf("certificate lacks the service:\n%s", done.Result.Certificate)
	}
	checkErased(t, f)
}

func TestWebhookDownAndSSRF(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite")
	m := &mailingService{t: t, secret: []byte("mailing-secret"), answer: func(dsr.ServiceCall) (int, string) { return 503, "maintenance" }}
	srv := httptest.NewServer(m)
	defer srv.Close()
	withWebhook(t, f, srv.URL, true)
	r := create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"}))
	got, err := f.svc.Run(t.Context(), r.ID, nil)
	if !errors.Is(err, webhook.ErrUnavailable) || got.Status != dsr.Waiting {
		t.Fatalf("service down: %v, %s; want waiting", err, got.Status)
	}

	// An https URL that resolves to loopback, without allow_private: refused
	// before any connection, and the request fails rather than waits.
	g := newFixture(t, "sqlite")
	withWebhook(t, g, strings.Replace(srv.URL, "http://127.0.0.1", "https://localhost", 1), false)
	r = create(t, g, trusted(dsr.Access, dsr.Identities{"email": "ada@example.com"}))
	got, err = g.svc.Run(t.Context(), r.ID, nil)
	if !errors.Is(err, webhook.ErrForbiddenAddress) || got.Status != dsr.Failed {
		t.Fatalf("SSRF: %v, %s; want failed with ErrForbiddenAddress", err, got.Status)
	}
}

// A service that accepts a call (202) and then never calls back is asked
// again each ServiceResend, and after 30 days of silence the request fails
// and says why, rather than waiting for ever. A repeat the service refuses
// (409: it is on it already) keeps the request waiting, and no callback
// link outlives the wait.
func TestWebhookResendAndGiveUp(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite")
	var mu sync.Mutex
	var lastCallback string
	m := &mailingService{t: t, secret: []byte("mailing-secret"), answer: func(c dsr.ServiceCall) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		first := lastCallback == ""
		lastCallback = c.CallbackURL
		if first {
			return 202, `{"status":"accepted"}`
		}
		return 409, `{"error":"already in progress"}`
	}}
	svc := httptest.NewServer(m)
	defer svc.Close()
	withWebhook(t, f, svc.URL, true)
	tokens := apitoken.New(f.store)
	mux := server.NewMux(tokens, slog.New(slog.DiscardHandler))
	vow := httptest.NewServer(mux)
	defer vow.Close()
	f.svc.BaseURL = vow.URL
	f.svc.Mount(mux, vow.URL)
	start := time.Now()
	now := start
	f.svc.Now = func() time.Time { return now }
	calls := func() int { m.mu.Lock(); defer m.mu.Unlock(); return len(m.calls) }

	r := create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"}))
	for _, step := range []struct { // each "after" is added to the clock
		after time.Duration
		calls int
	}{
		{0, 1},              // sent
		{time.Hour, 1},      // an hour later, still waiting: not sent again yet
		{24 * time.Hour, 2}, // a day after the call: sent again
		{time.Hour, 2},
		{24 * time.Hour, 3},
	} {
		now = now.Add(step.after)
		got, err := f.svc.Run(t.Context(), r.ID, nil)
		if !errors.Is(err, dsr.ErrWaiting) || got.Status != dsr.Waiting {
			t.Fatalf("+%s: Run = %s, %v; want waiting", step.after, got.Status, err)
		}
		if calls() != step.calls {
			t.Fatalf("+%s: service called %d times, want %d", step.after, calls(), step.calls)
		}
	}
	if ids := []string{m.calls[0].RequestID, m.calls[2].RequestID}; ids[0] != r.ID || ids[1] != r.ID {
		t.Errorf("re-sent calls carry request_id %q, want %s each time (so the service can tell a repeat)", ids, r.ID)
	}

	now = start.Add(30*24*time.Hour + time.Hour) // 30 days after the first call
	got, err := f.svc.Run(t.Context(), r.ID, nil)
	if err == nil || got.Status != dsr.Failed || !strings.Contains(got.LastError, "never answered") {
		t.Fatalf("after 30 days: Run = %s, %v (last error %q); want failed saying the service never answered", got.Status, err, got.LastError)
	}
	if calls() != 3 {
		t.Errorf("service called %d times after giving up, want 3", calls())
	}
	// The link sent with the last repeat expired with the wait: a late
	// answer is told so, not accepted for a request that has failed.
	body := `{"status":"completed","records":1}`
	req, _ := http.NewRequest("POST", lastCallback, strings.NewReader(body))
	req.Header.Set(webhook.Header, webhook.Sign([]byte("mailing-secret"), time.Now(), []byte(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone {
		t.Errorf("late callback: %d, want 410 (the link expired with the wait)", resp.StatusCode)
	}
}
