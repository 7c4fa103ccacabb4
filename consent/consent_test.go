package consent_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/apitoken"
	"github.com/vowprivacy/vow/consent"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/server"
	"github.com/vowprivacy/vow/state"
)

var kinds = []string{"sqlite", "postgres"}

func demoPolicy(t testing.TB) *policy.Policy { return consent.DemoPolicy(t) }

func newKeyring(t testing.TB) *keyring.Keyring {
	t.Helper()
	var master [32]byte
	_, _ = rand.Read(master[:])
	k, err := keyring.New(master[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func storeURL(t testing.TB, kind string) string {
	if kind == "postgres" {
		return testdb.Postgres(t)
	}
	return testdb.SQLite(t)
}

func openStore(t testing.TB, url string) *state.Store {
	t.Helper()
	st, err := state.Open(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// env is one Vow instance: a service and its API behind a real server.
type env struct {
	svc   *consent.Service
	srv   *httptest.Server
	vow   *server.Server // what srv serves, for serving it as `vow serve` does
	token string         // consent scope
	admin string
	store *state.Store
}

func newEnv(t testing.TB, url string, k *keyring.Keyring, p *policy.Policy) *env {
	t.Helper()
	ctx := context.Background()
	st := openStore(t, url)
	tokens := apitoken.New(st)
	e := &env{store: st}
	var err error
	name := "backend-" + strings.ToLower(rand.Text()[:6])
	if _, e.token, err = tokens.Create(ctx, name, []string{"consent"}); err != nil {
		t.Fatal(err)
	}
	if _, e.admin, err = tokens.Create(ctx, name+"-admin", []string{"admin"}); err != nil {
		t.Fatal(err)
	}
	e.svc = consent.New(st, p, k, nil, consent.Options{})
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = e.svc.Listen(lctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-e.svc.Listening():
	case <-time.After(10 * time.Second):
		t.Fatal("not listening")
	}
	mux := server.NewMux(tokens, nil)
	e.vow = server.New(mux, server.Config{}, nil)
	e.srv = httptest.NewServer(e.vow.Handler())
	t.Cleanup(e.srv.Close)
	if err := e.svc.Mount(mux, e.srv.URL); err != nil {
		t.Fatal(err)
	}
	return e
}

func setup(t testing.TB, kind string) *env {
	return newEnv(t, storeURL(t, kind), newKeyring(t), demoPolicy(t))
}

type call struct {
	method, path, body string
	header             map[string]string
	token              string // "" = the consent token, "-" = none
}

func (e *env) do(t testing.TB, c call) (int, []byte) {
	t.Helper()
	u := c.path
	if !strings.HasPrefix(u, "http") {
		u = e.srv.URL + c.path
	}
	req, _ := http.NewRequest(c.method, u, strings.NewReader(c.body))
	switch c.token {
	case "":
		req.Header.Set("Authorization", "Bearer "+e.token)
	case "-":
	default:
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type stateBody struct {
	Subject  string                          `json:"subject"`
	Purposes map[string]consent.PurposeState `json:"purposes"`
	Receipts []struct {
		ID, Purpose, URL string
		Status           consent.Status
		Source           string
	} `json:"receipts"`
}

func decode[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func TestConsentAPI(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := setup(t, kind)
			// Defaults follow the policy: marketing opt_in, analytics opt_out.
			code, b := e.do(t, call{method: "GET", path: "/v1/consent/user-1"})
			st := decode[stateBody](t, b)
			if code != 200 || st.Purposes["marketing"].Allowed || !st.Purposes["analytics"].Allowed || st.Purposes["marketing"].Source != "default" {
				t.Fatalf("defaults: %d %s", code, b)
			}
			code, b = e.do(t, call{method: "POST", path: "/v1/consent/user-1", body: `{"purposes":{"marketing":"granted","analytics":"denied"}}`})
			st = decode[stateBody](t, b)
			if code != 200 || !st.Purposes["marketing"].Allowed || st.Purposes["analytics"].Allowed || len(st.Receipts) != 2 {
				t.Fatalf("record: %d %s", code, b)
			}
			// The cached answer has changed with the write.
			code, b = e.do(t, call{method: "GET", path: "/v1/consent/user-1?purpose=marketing"})
			one := decode[struct {
				Purpose string `json:"purpose"`
				consent.PurposeState
			}](t, b)
			if code != 200 || one.Purpose != "marketing" || !one.Allowed || one.Source != "api" || !strings.HasPrefix(one.PolicyVersion, "sha256:") {
				t.Fatalf("get purpose: %d %s", code, b)
			}
			code, b = e.do(t, call{method: "POST", path: "/v1/consent/user-1", body: `{"purposes":{"marketing":"withdrawn"}}`})
			if code != 200 || decode[stateBody](t, b).Purposes["marketing"].Allowed {
				t.Fatalf("withdraw: %d %s", code, b)
			}
			code, b = e.do(t, call{method: "GET", path: "/v1/consent/user-1/history"})
			h := decode[struct{ Events []consent.Event }](t, b)
			if code != 200 || len(h.Events) != 3 || h.Events[2].Status != consent.Withdrawn || !strings.HasPrefix(h.Events[0].RecordedBy, "backend-") {
				t.Fatalf("history: %d %s", code, b)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t, "sqlite")
	tests := []struct {
		name   string
		c      call
		status int
		code   string
		field  string
		says   string
	}{
		{"unknown purpose", call{method: "POST", path: "/v1/consent/u", body: `{"purposes":{"ads":"granted"}}`}, 400, "unknown_purpose", "purposes.ads", "marketing, analytics"},
		{"essential purpose", call{method: "POST", path: "/v1/consent/u", body: `{"purposes":{"service":"withdrawn"}}`}, 400, "essential_purpose", "purposes.service", "essential"},
		{"bad status", call{method: "POST", path: "/v1/consent/u", body: `{"purposes":{"marketing":"maybe"}}`}, 400, "invalid", "purposes.marketing", "granted, denied or withdrawn"},
		{"no purposes", call{method: "POST", path: "/v1/consent/u", body: `{}`}, 400, "invalid", "purposes", "at least one"},
		{"bad source", call{method: "POST", path: "/v1/consent/u", body: `{"purposes":{"marketing":"granted"},"source":"gpc"}`}, 400, "invalid", "source", "Sec-GPC"},
		{"unknown field", call{method: "POST", path: "/v1/consent/u", body: `{"purpose":{"marketing":"granted"}}`}, 400, "invalid", "purpose", "unknown field"},
		{"get unknown purpose", call{method: "GET", path: "/v1/consent/u?purpose=ads"}, 400, "unknown_purpose", "purpose", "marketing, analytics"},
		{"reserved subject", call{method: "GET", path: "/v1/consent/erased:abc"}, 400, "invalid", "subject", "reserved"},
		{"long subject", call{method: "GET", path: "/v1/consent/" + strings.Repeat("x", 300)}, 400, "invalid", "subject", "longer than"},
		{"no token", call{method: "GET", path: "/v1/consent/u", token: "-"}, 401, "unauthorized", "", "API token"},
		{"erase needs admin", call{method: "POST", path: "/v1/consent/u/erase"}, 403, "forbidden", "", "admin"},
		{"batch no purpose", call{method: "POST", path: "/v1/consent/batch", body: `{"subjects":["a"]}`}, 400, "invalid", "purpose", "marketing, analytics"},
		{"batch essential", call{method: "POST", path: "/v1/consent/batch", body: `{"purpose":"billing","subjects":["a"]}`}, 400, "essential_purpose", "purpose", "essential"},
		{"batch bad subject", call{method: "POST", path: "/v1/consent/batch", body: `{"purpose":"marketing","subjects":["a",""]}`}, 400, "invalid", "subjects[1]", "empty"},
		{"receipt unknown", call{method: "GET", path: "/v1/receipts/nope"}, 404, "not_found", "", "nope"},
		{"forged receipt link", call{method: "GET", path: "/receipts/AAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA", token: "-"}, 400, "invalid_link", "", "not valid"},
		{"link to non-device", call{method: "POST", path: "/v1/consent/u/link", body: `{"device":"user-2"}`}, 400, "invalid", "device", "device:"},
		{"unknown topic", call{method: "PUT", path: "/v1/preferences/u", body: `{"topics":{"spam":false}}`}, 400, "unknown_topic", "topics.spam", "security_alerts, product_updates, newsletter"},
		{"essential topic", call{method: "PUT", path: "/v1/preferences/u", body: `{"topics":{"security_alerts":false}}`}, 400, "essential_topic", "topics.security_alerts", "cannot be unsubscribed"},
		{"essential topic link", call{method: "POST", path: "/v1/preferences/u/unsubscribe-link", body: `{"topic":"security_alerts"}`}, 400, "essential_topic", "topic", "essential"},
		{"banner known subject", call{method: "POST", path: "/consent/banner/choice", token: "-", body: `{"device":"user-1","choices":{"analytics":true}}`}, 400, "invalid", "device", "device:"},
		{"banner unknown category", call{method: "POST", path: "/consent/banner/choice", token: "-", body: `{"device":"device:1","choices":{"ads":true}}`}, 400, "invalid", "choices.ads", "analytics"},
		{"banner refuse essential", call{method: "POST", path: "/consent/banner/choice", token: "-", body: `{"device":"device:1","choices":{"essential":false}}`}, 400, "invalid", "choices.essential", "essential"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, b := e.do(t, tt.c)
			var eb struct {
				Error struct{ Code, Message, Field string } `json:"error"`
			}
			_ = json.Unmarshal(b, &eb)
			if status != tt.status || eb.Error.Code != tt.code || eb.Error.Field != tt.field || !strings.Contains(eb.Error.Message, tt.says) {
				t.Fatalf("got %d %s; want %d %s field %q saying %q", status, b, tt.status, tt.code, tt.field, tt.says)
			}
		})
	}
	// Nothing above changed any state.
	if h, err := e.svc.History(context.Background(), "u"); err != nil || len(h) != 0 {
		t.Fatalf("history after bad input: %v %v", h, err)
	}
}

func TestGPC(t *testing.T) {
	t.Parallel()
	p := demoPolicy(t)
	// Only analytics honours GPC in this variant, so the signal must not
	// touch marketing.
	for _, cp := range p.Consent.Purposes {
		cp.GPC = cp.Name == "analytics"
	}
	e := newEnv(t, storeURL(t, "sqlite"), newKeyring(t), p)
	gpc := map[string]string{"Sec-GPC": "1"}
	code, b := e.do(t, call{method: "POST", path: "/v1/consent/user-9", header: gpc, body: `{"purposes":{"marketing":"granted","analytics":"granted"}}`})
	st := decode[stateBody](t, b)
	if code != 200 || !st.Purposes["marketing"].Allowed || st.Purposes["analytics"].Allowed || st.Purposes["analytics"].Source != "gpc" {
		t.Fatalf("gpc: %d %s", code, b)
	}
	// A second signal records nothing more: the opt-out stands.
	e.do(t, call{method: "POST", path: "/v1/consent/user-9", header: gpc, body: `{}`})
	h, _ := e.svc.History(context.Background(), "user-9")
	if len(h) != 2 {
		t.Fatalf("history %+v", h)
	}
	// The banner honours it too.
	code, b = e.do(t, call{method: "POST", path: "/consent/banner/choice", token: "-", header: gpc, body: `{"device":"device:abc","choices":{"analytics":true}}`})
	if st := decode[stateBody](t, b); code != 200 || st.Purposes["analytics"].Allowed {
		t.Fatalf("banner gpc: %d %s", code, b)
	}
}

func TestBatch(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := setup(t, kind)
			ctx := context.Background()
			subjects := make([]string, consent.MaxBatch)
			var changes []consent.Change
			for i := range subjects {
				subjects[i] = "user-" + string(rune('a'+i%26)) + strings.Repeat("x", i%3) + "-" + strconv.Itoa(i)
				if i%20 == 0 {
					changes = append(changes, consent.Change{Subject: subjects[i], Purpose: "marketing", Status: consent.Granted, Source: "import", RecordedBy: "test"})
				}
			}
			if _, err := e.svc.Record(ctx, changes); err != nil {
				t.Fatal(err)
			}
			// Warm a few into the cache: mixed hits and misses.
			for _, s := range subjects[:50] {
				if _, err := e.svc.State(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			body, _ := json.Marshal(map[string]any{"purpose": "marketing", "subjects": append(subjects, subjects[0])})
			code, b := e.do(t, call{method: "POST", path: "/v1/consent/batch", body: string(body)})
			if code != 400 || !bytes.Contains(b, []byte("at most 10000")) {
				t.Fatalf("over the limit: %d %s", code, b)
			}
			body, _ = json.Marshal(map[string]any{"purpose": "marketing", "subjects": subjects})
			code, b = e.do(t, call{method: "POST", path: "/v1/consent/batch", body: string(body)})
			res := decode[struct{ Allowed, Refused []string }](t, b)
			if code != 200 || len(res.Allowed) != len(changes) || len(res.Allowed)+len(res.Refused) != len(subjects) || res.Allowed[1] != subjects[20] {
				t.Fatalf("batch: %d allowed %d refused %d", code, len(res.Allowed), len(res.Refused))
			}
		})
	}
}

func TestReceipts(t *testing.T) {
	t.Parallel()
	k := newKeyring(t)
	e := newEnv(t, storeURL(t, "postgres"), k, demoPolicy(t))
	_, b := e.do(t, call{method: "POST", path: "/v1/consent/ada@example.com", body: `{"purposes":{"marketing":"granted"}}`})
	st := decode[stateBody](t, b)
	if len(st.Receipts) != 1 {
		t.Fatalf("%s", b)
	}
	ref := st.Receipts[0]
	check := func(b []byte) consent.Receipt {
		t.Helper()
		sr := decode[consent.SignedReceipt](t, b)
		sig, _ := base64.StdEncoding.DecodeString(sr.Signature)
		if !keyring.Verify(k.PublicKey(), sr.Receipt, sig) || sr.KeyID != k.ID() {
			t.Fatalf("signature does not verify: %s", b)
		}
		return decode[consent.Receipt](t, sr.Receipt)
	}
	code, b := e.do(t, call{method: "GET", path: ref.URL, token: "-"})
	if code != 200 {
		t.Fatalf("link: %d %s", code, b)
	}
	r := check(b)
	if r.ConsentReceiptID != ref.ID || r.PIIPrincipalID != "ada@example.com" || r.Version != "KI-CR-v1.1.0" || r.Status != consent.Granted ||
		r.PIIControllers[0].Contact == "" || r.Services[0].Purposes[0].PurposeCategory[0] != "marketing" || r.ConsentTimestamp == 0 {
		t.Fatalf("receipt %+v", r)
	}
	code, b = e.do(t, call{method: "GET", path: "/v1/receipts/" + ref.ID})
	if code != 200 || check(b).ConsentReceiptID != ref.ID {
		t.Fatalf("by id: %d %s", code, b)
	}
	// A link altered by one character is refused.
	u, _ := url.Parse(ref.URL)
	forged := u.Path[:len(u.Path)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(u.Path, "AA")]
	if code, b := e.do(t, call{method: "GET", path: forged, token: "-"}); code != 400 {
		t.Fatalf("forged: %d %s", code, b)
	}
}

func TestPreferencesAndUnsubscribe(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := setup(t, kind)
			type prefs struct {
				Topics map[string]consent.TopicState `json:"topics"`
			}
			// Unset marketing topics follow the marketing consent (opt-in: off).
			_, b := e.do(t, call{method: "GET", path: "/v1/preferences/bob"})
			p := decode[prefs](t, b)
			if !p.Topics["security_alerts"].Subscribed || p.Topics["newsletter"].Subscribed || p.Topics["newsletter"].Source != "consent:marketing" {
				t.Fatalf("defaults %s", b)
			}
			code, b := e.do(t, call{method: "PUT", path: "/v1/preferences/bob", body: `{"topics":{"newsletter":true,"product_updates":true}}`})
			if p := decode[prefs](t, b); code != 200 || !p.Topics["newsletter"].Subscribed {
				t.Fatalf("set: %d %s", code, b)
			}
			code, b = e.do(t, call{method: "POST", path: "/v1/preferences/bob/unsubscribe-link", body: `{"topic":"newsletter"}`})
			link := decode[struct {
				URL     string
				Headers map[string]string
			}](t, b)
			if code != 200 || link.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" || link.Headers["List-Unsubscribe"] != "<"+link.URL+">" {
				t.Fatalf("link: %d %s", code, b)
			}
			form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
			// GET shows a confirmation and changes nothing (mail scanners).
			if code, b := e.do(t, call{method: "GET", path: link.URL, token: "-"}); code != 200 || !bytes.Contains(b, []byte("<form method=\"post\">")) {
				t.Fatalf("page: %d %s", code, b)
			}
			// The page's URL holds the token: it must not leak as a
			// referrer, nor be framed by another site.
			u := link.URL
			if !strings.HasPrefix(u, "http") {
				u = e.srv.URL + u
			}
			if resp, err := http.Get(u); err != nil {
				t.Fatal(err)
			} else {
				resp.Body.Close()
				if resp.Header.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
					t.Errorf("unsubscribe page headers: %v", resp.Header)
				}
			}
			forged := link.URL[:len(link.URL)-3] + "abc"
			steps := []struct {
				name, url, body string
				status          int
				subscribed      bool
			}{
				{"forged", forged, "List-Unsubscribe=One-Click", 400, true},
				{"wrong body", link.URL, "List-Unsubscribe=Maybe", 400, true},
				{"one click", link.URL, "List-Unsubscribe=One-Click", 200, false},
				// The mail provider's one-click POST, then the person's
				// own click: the second finds it done.
				{"second use", link.URL, "List-Unsubscribe=One-Click", 200, false},
				{"replay", link.URL, "List-Unsubscribe=One-Click", 410, false},
			}
			for _, s := range steps {
				if s.name == "replay" {
					// Re-subscribe first: a replayed link must not undo it.
					e.do(t, call{method: "PUT", path: "/v1/preferences/bob", body: `{"topics":{"newsletter":true}}`})
					s.subscribed = true
				}
				code, b := e.do(t, call{method: "POST", path: s.url, token: "-", header: form, body: s.body})
				if code != s.status {
					t.Fatalf("%s: %d %s", s.name, code, b)
				}
				_, pb := e.do(t, call{method: "GET", path: "/v1/preferences/bob"})
				if got := decode[prefs](t, pb).Topics["newsletter"].Subscribed; got != s.subscribed {
					t.Fatalf("%s: subscribed %v, want %v", s.name, got, s.subscribed)
				}
			}
			if !decode[prefs](t, func() []byte { _, b := e.do(t, call{method: "GET", path: "/v1/preferences/bob"}); return b }()).Topics["product_updates"].Subscribed {
				t.Fatal("unsubscribing one topic touched another")
			}
		})
	}
}

func TestLinkDevice(t *testing.T) {
	t.Parallel()
	e := setup(t, "sqlite")
	code, b := e.do(t, call{method: "POST", path: "/consent/banner/choice", token: "-", body: `{"device":"device:d1","choices":{"analytics":false}}`})
	if code != 200 {
		t.Fatalf("banner: %d %s", code, b)
	}
	code, b = e.do(t, call{method: "POST", path: "/v1/consent/user-5/link", body: `{"device":"device:d1"}`})
	st := decode[stateBody](t, b)
	if code != 200 || st.Purposes["analytics"].Allowed || st.Purposes["analytics"].Source != "link" || len(st.Receipts) != 1 {
		t.Fatalf("link: %d %s", code, b)
	}
}

func TestErase(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := setup(t, kind)
			ctx := context.Background()
			const sub = "erin@example.com"
			e.do(t, call{method: "POST", path: "/v1/consent/" + sub, body: `{"purposes":{"marketing":"granted","analytics":"granted"}}`})
			e.do(t, call{method: "POST", path: "/v1/consent/" + sub, body: `{"purposes":{"marketing":"withdrawn"}}`})
			e.do(t, call{method: "PUT", path: "/v1/preferences/" + sub, body: `{"topics":{"newsletter":false,"product_updates":true}}`})
			code, b := e.do(t, call{method: "POST", path: "/v1/consent/" + sub + "/erase", token: e.admin})
			er := decode[consent.Erasure](t, b)
			if code != 200 || er.Kept != 2 || er.Deleted != 3 || !strings.HasPrefix(er.Pseudonym, "erased:") {
				t.Fatalf("erase: %d %s", code, b)
			}
			// Nothing is left under the subject's name.
			var n int
			for _, tbl := range []string{"consent_events", "consent_current", "preference_events", "preferences"} {
				if err := e.store.DB().QueryRowContext(ctx, e.store.Rebind(`SELECT count(*) FROM `+tbl+` WHERE subject = ?`), sub).Scan(&n); err != nil || n != 0 {
					t.Fatalf("%s still has %d rows for the subject (%v)", tbl, n, err)
				}
			}
			// The opt-outs still hold for the same person coming back.
			st, err := e.svc.State(ctx, sub)
			if err != nil || st.Purposes["marketing"].Allowed || st.Purposes["marketing"].Status != consent.Withdrawn {
				t.Fatalf("after erasure %+v %v", st, err)
			}
			if !st.Purposes["analytics"].Allowed || st.Purposes["analytics"].Source != "default" {
				t.Fatalf("a grant survived erasure: %+v", st.Purposes["analytics"])
			}
			prefs, err := e.svc.Preferences(ctx, sub)
			if err != nil || prefs.Topics["newsletter"].Subscribed {
				t.Fatalf("unsubscription lost: %+v %v", prefs, err)
			}
			// Erasing again is harmless.
			if er2, err := e.svc.Erase(ctx, sub); err != nil || er2.Kept != 0 || er2.Deleted != 0 {
				t.Fatalf("second erase: %+v %v", er2, err)
			}
		})
	}
}

// TestInstancesSeeEachOther runs two instances (separate connections,
// caches and servers, as two processes would be) on one store, PostgreSQL
// or a SQLite file: a change through one is seen by the other within a
// second.
func TestInstancesSeeEachOther(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			testInstancesSeeEachOther(t, storeURL(t, kind))
		})
	}
}

func testInstancesSeeEachOther(t *testing.T, url string) {
	k, p := newKeyring(t), demoPolicy(t)
	a, b := newEnv(t, url, k, p), newEnv(t, url, k, p)
	get := func(e *env) bool {
		_, body := e.do(t, call{method: "GET", path: "/v1/consent/shared-1?purpose=marketing", token: e.token})
		return decode[consent.PurposeState](t, body).Allowed
	}
	for i, want := range []bool{true, false, true} {
		if get(a) == want || get(b) == want { // both now cache the old answer
			t.Fatalf("step %d: already %v", i, want)
		}
		status := map[bool]string{true: "granted", false: "withdrawn"}[want]
		writer := []*env{a, b}[i%2]
		if code, body := writer.do(t, call{method: "POST", path: "/v1/consent/shared-1", token: writer.token, body: `{"purposes":{"marketing":"` + status + `"}}`}); code != 200 {
			t.Fatalf("write: %d %s", code, body)
		}
		other := []*env{b, a}[i%2]
		deadline := time.Now().Add(time.Second)
		for get(other) != want {
			if time.Now().After(deadline) {
				t.Fatalf("step %d: the other instance did not see the change within a second", i)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func TestServiceErrors(t *testing.T) {
	t.Parallel()
	st := openStore(t, testdb.SQLite(t))
	svc := consent.New(st, demoPolicy(t), newKeyring(t), nil, consent.Options{})
	ctx := context.Background()
	_, err := svc.Record(ctx, []consent.Change{{Subject: "a", Purpose: "service", Status: consent.Withdrawn, Source: "api", RecordedBy: "x"}})
	if !errors.Is(err, consent.ErrEssential) {
		t.Fatalf("essential: %v", err)
	}
	_, err = svc.Record(ctx, []consent.Change{{Subject: "a", Purpose: "marketing", Status: consent.Granted, Source: "api", RecordedBy: "x"}, {Subject: "b", Purpose: "nope", Status: consent.Granted, Source: "api", RecordedBy: "x"}})
	var ie *consent.InputError
	if !errors.As(err, &ie) || ie.Field != "changes[1].purpose" || !errors.Is(err, consent.ErrUnknownPurpose) {
		t.Fatalf("unknown in batch: %v", err)
	}
	// A failed batch records nothing.
	if h, _ := svc.History(ctx, "a"); len(h) != 0 {
		t.Fatalf("partial batch recorded: %+v", h)
	}
	if _, _, err := svc.Unsubscribe(ctx, "garbage"); !errors.Is(err, consent.ErrBadLink) {
		t.Fatalf("garbage link: %v", err)
	}
}

// TestReceiptsKeptAsMade: a receipt is made and signed when the decision
// is recorded. After the policy changes (a new processor for the purpose)
// it still says what the person agreed to then; after the subject's
// erasure it is gone, as it names them; an event recorded before receipts
// were kept gets one only under the policy still in force.
func TestReceiptsKeptAsMade(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := newKeyring(t)
	st := openStore(t, storeURL(t, "sqlite"))
	before := consent.New(st, demoPolicy(t), k, nil, consent.Options{})
	evs, err := before.Record(ctx, []consent.Change{{Subject: "ada@example.com", Purpose: "marketing", Status: consent.Granted, Source: consent.SourceAPI, RecordedBy: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	id := evs[0].ID

	src, err := os.ReadFile("../demo/vow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src = bytes.Replace(src, []byte("processors:\n"), []byte("processors:\n  - {name: Sentry, purposes: [marketing], categories: [user.contact.email], location: United States, safeguard: scc}\n"), 1)
	p, ds := policy.Parse("vow.yaml", src)
	if errs, _ := ds.Count(); errs > 0 || p == nil {
		t.Fatalf("changed policy: %v", ds)
	}
	after := consent.New(st, p, k, nil, consent.Options{})
	sr, err := after.Receipt(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var r consent.Receipt
	if err := json.Unmarshal(sr.Receipt, &r); err != nil {
		t.Fatal(err)
	}
	if pur := r.Services[0].Purposes[0]; pur.ThirdPartyDisclosure || strings.Contains(pur.ThirdPartyName, "Sentry") || r.PolicyVersion != evs[0].PolicyVersion {
		t.Errorf("receipt read under the new policy: %+v, version %s; want it as made (no Sentry, version %s)", pur, r.PolicyVersion, evs[0].PolicyVersion)
	}
	sig, _ := base64.StdEncoding.DecodeString(sr.Signature)
	if !keyring.Verify(k.PublicKey(), sr.Receipt, sig) {
		t.Error("stored receipt does not verify")
	}

	// Events from before receipts were kept.
	if _, err := st.DB().ExecContext(ctx, `UPDATE consent_events SET receipt = NULL`); err != nil {
		t.Fatal(err)
	}
	if _, err := after.Receipt(ctx, id); !errors.Is(err, consent.ErrNoReceipt) {
		t.Errorf("old event, changed policy: %v, want ErrNoReceipt", err)
	}
	if _, err := before.Receipt(ctx, id); err != nil {
		t.Errorf("old event, policy still in force: %v, want a receipt made now", err)
	}

	if _, err := after.Erase(ctx, "ada@example.com"); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := st.DB().QueryRowContext(ctx, `SELECT count(*) FROM consent_events WHERE receipt LIKE '%ada@%'`).Scan(&left); err != nil || left != 0 {
		t.Errorf("receipts naming Ada after her erasure: %d, %v", left, err)
	}
}

// TestUnsubscribePageEscapesOnce: the confirmation names the topic
// escaped once — "news & offers", not "news &amp;amp; offers".
func TestUnsubscribePageEscapesOnce(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../demo/vow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), "    newsletter: {title: Newsletter, purpose: marketing}", `    "news & offers": {title: News and offers, purpose: marketing}`, 1)
	if edited == string(src) {
		t.Fatal("the demo policy has no newsletter topic to rename")
	}
	p, ds := policy.Parse("vow.yaml", []byte(edited))
	if errs, _ := ds.Count(); errs > 0 || p == nil {
		t.Fatalf("policy: %v", ds)
	}
	e := newEnv(t, storeURL(t, "sqlite"), newKeyring(t), p)
	if code, b := e.do(t, call{method: "PUT", path: "/v1/preferences/bob", body: `{"topics":{"news & offers":true}}`}); code != 200 {
		t.Fatalf("subscribe: %d %s", code, b)
	}
	code, b := e.do(t, call{method: "POST", path: "/v1/preferences/bob/unsubscribe-link", body: `{"topic":"news & offers"}`})
	link := decode[struct{ URL string }](t, b)
	if code != 200 {
		t.Fatalf("link: %d %s", code, b)
	}
	code, page := e.do(t, call{method: "POST", path: link.URL, token: "-",
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"}, body: "List-Unsubscribe=One-Click"})
	if code != 200 || !strings.Contains(string(page), "news &amp; offers messages") || strings.Contains(string(page), "&amp;amp;") {
		t.Errorf("confirmation page: %d %s", code, page)
	}
}
