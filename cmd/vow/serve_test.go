package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to read while a server writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs `vow serve` in-process on a free port and returns its
// base URL; the server stops when the test ends.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), &out, &errOut) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, errOut.String())
		}
		if !strings.Contains(out.String(), "vow serve: stopped") {
			t.Errorf("no graceful stop: %s", out.String())
		}
	})
	re := regexp.MustCompile(`listening on (http://\S+)`)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s %s", code, out.String(), errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not start: %s %s", out.String(), errOut.String())
	return ""
}

// httpCall sends a request to the API with an optional bearer token and
// JSON body, and returns the status and body.
func httpCall(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func demoPolicy(t *testing.T, dir string) string {
	t.Helper()
	src, err := os.ReadFile("../../demo/vow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The policy's sqlite system need not exist to serve.
	return writeFile(t, dir, "vow.yaml", string(src))
}

func TestTokenAndServe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	pol := demoPolicy(t, dir)
	code, out, errOut := vow(t, "token", "create", "backend", "--scope", "consent", "--data-dir", data, "--format", "json")
	if code != 0 {
		t.Fatalf("create: %d %s %s", code, out, errOut)
	}
	var created struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil || !strings.HasPrefix(created.Secret, "vow_") {
		t.Fatalf("create output %q: %v", out, err)
	}
	if code, _, errOut := vow(t, "token", "create", "backend", "--scope", "consent", "--data-dir", data); code != 2 || !strings.Contains(errOut, "exists") {
		t.Fatalf("duplicate: %d %s", code, errOut)
	}
	if code, _, errOut := vow(t, "token", "create", "x", "--scope", "root", "--data-dir", data); code != 2 || !strings.Contains(errOut, "unknown scope") {
		t.Fatalf("bad scope: %d %s", code, errOut)
	}
	if code, out, _ := vow(t, "token", "list", "--data-dir", data); code != 0 || !strings.Contains(out, "backend") || strings.Contains(out, created.Secret) {
		t.Fatalf("list: %d %s", code, out)
	}

	base := startServe(t, pol, "--data-dir", data)
	get := func(path, token string) (int, string) { return httpCall(t, "GET", base+path, token, "") }
	if code, body := get("/healthz", ""); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("healthz: %d %s", code, body)
	}
	if code, body := get("/v1/consent/user-1?purpose=marketing", created.Secret); code != 200 || !strings.Contains(body, `"allowed":false`) {
		t.Fatalf("consent: %d %s", code, body)
	}
	if code, body := get("/consent/banner.js", ""); code != 200 || !strings.Contains(body, `"organization":"Lumen"`) {
		t.Fatalf("banner: %d %.200s", code, body)
	}
	if code, body := get("/v1/nothing", ""); code != 404 || !strings.Contains(body, `"error"`) {
		t.Fatalf("404: %d %s", code, body)
	}
	if code, out, _ := vow(t, "token", "revoke", "backend", "--data-dir", data); code != 0 || !strings.Contains(out, "Revoked") {
		t.Fatalf("revoke: %d %s", code, out)
	}
}

func TestServeRefusesBrokenPolicy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := writeFile(t, dir, "vow.yaml", "version: 1\norganization: [unclosed\n")
	code, _, errOut := vow(t, "serve", bad, "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "d"))
	if code != 2 || !strings.Contains(errOut, "error(s)") {
		t.Fatalf("%d %s", code, errOut)
	}
}

func TestConsentCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	pol := demoPolicy(t, dir)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"set", []string{"consent", "set", "user-7", "marketing=granted", "analytics=denied"}, 0, "recorded marketing granted for user-7"},
		{"set unknown", []string{"consent", "set", "user-7", "ads=granted"}, 2, "marketing, analytics"},
		{"set essential", []string{"consent", "set", "user-7", "billing=withdrawn"}, 2, "essential"},
		{"set malformed", []string{"consent", "set", "user-7", "marketing"}, 2, "PURPOSE=STATUS"},
		{"show", []string{"consent", "show", "user-7"}, 0, "marketing  true     granted"},
		{"history", []string{"consent", "history", "user-7", "--format", "json"}, 0, `"recorded_by": "vow consent set"`},
		{"erase dry run", []string{"consent", "erase", "user-7", "--dry-run"}, 0, "would keep 1 consent event(s)"},
		{"erase", []string{"consent", "erase", "user-7"}, 0, "kept 1 opt-out event(s)"},
		{"show after", []string{"consent", "show", "user-7", "--format", "json"}, 0, `"status": "denied"`},
	}
	for _, tt := range tests {
		code, out, errOut := vow(t, append(tt.args, "--policy", pol, "--data-dir", data)...)
		if code != tt.code || !strings.Contains(out+errOut, tt.want) {
			t.Fatalf("%s: %d %s %s; want %d %q", tt.name, code, out, errOut, tt.code, tt.want)
		}
	}
}

// Consent records the published policy version it was given under, and
// the policy file's hash while the file is not a published version.
func TestConsentRecordsPolicyVersion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pol := demoPolicy(t, dir)
	common := []string{"--policy", pol, "--data-dir", filepath.Join(dir, "data")}
	version := func(subject string) string {
		t.Helper()
		if code, out, errOut := vow(t, append([]string{"consent", "set", subject, "marketing=granted"}, common...)...); code != 0 {
			t.Fatalf("consent set: %d %s %s", code, out, errOut)
		}
		code, out, errOut := vow(t, append([]string{"consent", "history", subject, "--format", "json"}, common...)...)
		if code != 0 {
			t.Fatalf("consent history: %d %s %s", code, out, errOut)
		}
		var h struct {
			Events []struct {
				PolicyVersion string `json:"policy_version"`
			} `json:"events"`
		}
		if err := json.Unmarshal([]byte(out), &h); err != nil || len(h.Events) != 1 {
			t.Fatalf("history %s: %v", out, err)
		}
		return h.Events[0].PolicyVersion
	}
	if got := version("user-1"); !strings.HasPrefix(got, "sha256:") {
		t.Errorf("before publishing: policy_version %q, want the file's sha256", got)
	}
	if code, out, errOut := vow(t, "policy", "publish", pol, "--data-dir", filepath.Join(dir, "data")); code != 0 {
		t.Fatalf("publish: %d %s %s", code, out, errOut)
	}
	if got := version("user-2"); got != "v1" {
		t.Errorf("after publishing: policy_version %q, want v1", got)
	}
}

// TestPagesSentCompressed: the cookie banner and the privacy policy go
// out gzip-compressed to clients that accept it — what is measured is
// what is sent — and the banner can be revalidated by its ETag.
func TestPagesSentCompressed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	pol := demoPolicy(t, dir)
	if code, out, errOut := vow(t, "policy", "publish", pol, "--data-dir", data); code != 0 {
		t.Fatalf("publish: %s %s", out, errOut)
	}
	base := startServe(t, pol, "--data-dir", data, "--no-retention")
	get := func(path string, header map[string]string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", base+path, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		// A transport that adds no Accept-Encoding of its own, and so
		// does not decompress: the bytes are those on the wire.
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	for _, path := range []string{"/consent/banner.js", "/privacy"} {
		plain, pb := get(path, nil)
		zipped, zb := get(path, map[string]string{"Accept-Encoding": "gzip, deflate, br"})
		if plain.Header.Get("Content-Encoding") != "" || zipped.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("%s: encodings %q and %q; want none, then gzip", path, plain.Header.Get("Content-Encoding"), zipped.Header.Get("Content-Encoding"))
		}
		if len(zb)*2 > len(pb) {
			t.Errorf("%s: %d bytes gzipped of %d; want less than half", path, len(zb), len(pb))
		}
		t.Logf("%s: %d bytes, %d gzipped", path, len(pb), len(zb))
	}
	_, body := get("/consent/banner.js", map[string]string{"Accept-Encoding": "gzip"})
	if len(body) > 4<<10 {
		t.Errorf("the banner is sent as %d bytes gzipped; the README promises about 3 KB", len(body))
	}
	// The two forms differ in bytes, so a strong ETag names one: a cache
	// holding the gzip form revalidates it, one asking for the plain form
	// with the gzip tag gets the plain body.
	for _, path := range []string{"/consent/banner.js", "/privacy"} {
		zipped, _ := get(path, map[string]string{"Accept-Encoding": "gzip"})
		plain, _ := get(path, nil)
		zt, pt := zipped.Header.Get("ETag"), plain.Header.Get("ETag")
		if zt == "" || pt == "" || zt == pt {
			t.Errorf("%s: ETags %q (gzip) and %q (plain); want two different tags", path, zt, pt)
		}
		again, _ := get(path, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": zt})
		if again.StatusCode != http.StatusNotModified || again.Header.Get("Vary") != "Accept-Encoding" || again.Header.Get("ETag") != zt {
			t.Errorf("%s: revalidating the gzip form: %d, Vary %q, ETag %q; want 304 with Vary and the tag", path, again.StatusCode, again.Header.Get("Vary"), again.Header.Get("ETag"))
		}
		other, ob := get(path, map[string]string{"If-None-Match": zt})
		if other.StatusCode != http.StatusOK || other.Header.Get("Content-Encoding") != "" || len(ob) == 0 {
			t.Errorf("%s: the plain form asked with the gzip tag: %d %q; want 200 and the plain body", path, other.StatusCode, other.Header.Get("Content-Encoding"))
		}
	}
}
