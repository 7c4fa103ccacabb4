package webhook

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	secret := []byte("s3cret")
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"type":"erasure"}`)
	h := Sign(secret, now, body)
	if err := Verify(secret, h, body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	bad := []struct {
		name   string
		secret string
		header string
		body   string
		now    time.Time
	}{
		{"other secret", "other", h, string(body), now},
		{"altered body", "s3cret", h, `{"type":"access"}`, now},
		{"too old", "s3cret", h, string(body), now.Add(6 * time.Minute)},
		{"from the future", "s3cret", h, string(body), now.Add(-6 * time.Minute)},
		{"no signature", "s3cret", "", string(body), now},
		{"garbage", "s3cret", "t=x,v1=zz", string(body), now},
	}
	for _, b := range bad {
		if err := Verify([]byte(b.secret), b.header, []byte(b.body), b.now, 5*time.Minute); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: err = %v, want ErrSignature", b.name, err)
		}
	}
}

func TestPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.216.34": true, "2606:2800:220:1::1": true,
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "100.64.1.1": false, "0.0.0.0": false, "::1": false,
		"fe80::1": false, "fd00::1": false, "::ffff:127.0.0.1": false, "224.0.0.1": false,
	} {
		if got := Public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Public(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestGuardRefusesLoopback(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	// localhost resolves to a loopback address: refused after DNS.
	url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	_, err := New(false, 5*time.Second).Post(t.Context(), url, []byte("k"), map[string]string{})
	if !errors.Is(err, ErrForbiddenAddress) || hits.Load() != 0 {
		t.Fatalf("Post to loopback: err = %v, hits %d; want ErrForbiddenAddress and no request", err, hits.Load())
	}
	if _, err := New(true, 5*time.Second).Post(t.Context(), url, []byte("k"), map[string]string{}); err != nil {
		t.Fatalf("with allow_private: %v", err)
	}
}

func TestPostRetriesAndSigns(t *testing.T) {
	secret := []byte("k")
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := Verify(secret, r.Header.Get(Header), body, time.Now(), time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if calls.Add(1) < 3 {
			http.Error(w, "warming up", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{"status":"completed"}`))
	}))
	defer srv.Close()
	c := New(true, 5*time.Second)
	c.Backoff = 10 * time.Millisecond
	resp, err := c.Post(t.Context(), srv.URL, secret, map[string]string{"type": "access"})
	if err != nil || resp.Status != 200 || calls.Load() != 3 {
		t.Fatalf("Post = %v, %v after %d calls; want success on the third", resp, err, calls.Load())
	}
	// A wrong secret is a 401: rejected at once, not retried.
	calls.Store(0)
	if _, err := c.Post(t.Context(), srv.URL, []byte("wrong"), map[string]string{}); !errors.Is(err, ErrRejected) {
		t.Errorf("wrong secret: %v, want ErrRejected", err)
	}
	if calls.Load() != 0 {
		t.Errorf("rejected request was retried")
	}
}

func TestPostGivesUp(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	c := New(true, 5*time.Second)
	c.Backoff, c.Attempts = time.Millisecond, 3
	if _, err := c.Post(t.Context(), srv.URL, []byte("k"), nil); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "3 attempts") {
		t.Errorf("err = %v, want ErrUnavailable after 3 attempts", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Post(ctx, srv.URL, []byte("k"), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

func TestNoRedirects(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("redirect was followed")
	}))
	defer target.Close()
	srv := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer srv.Close()
	c := New(true, 5*time.Second)
	if _, err := c.Post(t.Context(), srv.URL, []byte("k"), nil); !errors.Is(err, ErrRejected) {
		t.Errorf("redirect: %v, want ErrRejected", err)
	}
}

// FuzzVerify: the signature header parser never panics, and accepts a
// header only if it carries the MAC of this very body at its stated time.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	f.Add(Sign([]byte("k"), now, []byte("{}")), []byte("{}"))
	f.Add("t=1,v1=00,v1=zz", []byte("x"))
	f.Add(",,,=", []byte(""))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		if Verify([]byte("k"), header, body, now, time.Hour) != nil {
			return
		}
		var ts string
		for _, part := range strings.Split(header, ",") {
			if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok && k == "t" {
				ts = v
			}
		}
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			t.Fatalf("accepted %q without a time", header)
		}
		want := Sign([]byte("k"), time.Unix(sec, 0), body)
		_, mac, _ := strings.Cut(want, ",v1=")
		if !strings.Contains(strings.ToLower(header), mac) {
			t.Fatalf("accepted %q, which lacks the body's MAC %s", header, mac)
		}
	})
}
