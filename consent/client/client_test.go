package client_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vowprivacy/vow/apitoken"
	"github.com/vowprivacy/vow/consent"
	"github.com/vowprivacy/vow/consent/client"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/server"
	"github.com/vowprivacy/vow/state"
)

// serve starts a real Vow consent API on a fresh SQLite store and counts
// the requests it answers.
func serve(t *testing.T) (url, token string, hits *atomic.Int64) {
	t.Helper()
	ctx := context.Background()
	src, err := os.ReadFile("../../demo/vow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := policy.Parse("vow.yaml", src)
	st, err := state.Open(ctx, testdb.SQLite(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var master [32]byte
	_, _ = rand.Read(master[:])
	k, _ := keyring.New(master[:])
	tokens := apitoken.New(st)
	_, token, err = tokens.Create(ctx, "app", []string{"consent"})
	if err != nil {
		t.Fatal(err)
	}
	mux := server.NewMux(tokens, nil)
	h := server.New(mux, server.Config{}, nil).Handler()
	hits = new(atomic.Int64)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1); h.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	if err := consent.New(st, p, k, nil, consent.Options{}).Mount(mux, ts.URL); err != nil {
		t.Fatal(err)
	}
	return ts.URL, token, hits
}

func TestClient(t *testing.T) {
	t.Parallel()
	url, token, hits := serve(t)
	ctx := context.Background()
	c := client.New(url, token, client.WithCacheTTL(time.Minute))

	ok, err := c.Allowed(ctx, "user-1", "marketing")
	if err != nil || ok {
		t.Fatalf("default: %v %v", ok, err)
	}
	// Served from the local cache: no second request.
	before := hits.Load()
	if ok, _ := c.Allowed(ctx, "user-1", "analytics"); !ok {
		t.Fatal("analytics is opt-out: allowed by default")
	}
	if hits.Load() != before {
		t.Fatal("cached answer went to the server")
	}
	if _, err := c.Set(ctx, "user-1", map[string]string{"marketing": "granted"}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Allowed(ctx, "user-1", "marketing"); !ok {
		t.Fatal("own change not seen through the cache")
	}
	allowed, err := c.Batch(ctx, "marketing", []string{"user-1", "user-2", "user-1"})
	if err != nil || len(allowed) != 1 || allowed[0] != "user-1" {
		t.Fatalf("batch: %v %v", allowed, err)
	}

	var apiErr *client.Error
	_, err = c.Set(ctx, "user-1", map[string]string{"ads": "granted"})
	if !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.Code != "unknown_purpose" || apiErr.Field != "purposes.ads" {
		t.Fatalf("unknown purpose: %v", err)
	}
	if _, err := c.Allowed(ctx, "user-1", "ads"); !errors.As(err, &apiErr) || apiErr.Code != "unknown_purpose" {
		t.Fatalf("allowed unknown purpose: %v", err)
	}
	bad := client.New(url, "vow_wrong")
	if _, err := bad.State(ctx, "user-1"); !errors.As(err, &apiErr) || apiErr.Status != 401 {
		t.Fatalf("bad token: %v", err)
	}
}

func TestClientTTL(t *testing.T) {
	t.Parallel()
	url, token, hits := serve(t)
	ctx := context.Background()
	c := client.New(url, token, client.WithCacheTTL(0))
	for range 3 {
		if _, err := c.State(ctx, "u"); err != nil {
			t.Fatal(err)
		}
	}
	if hits.Load() != 3 {
		t.Fatalf("TTL 0 still cached: %d requests", hits.Load())
	}
}
