package keyring

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func fixed(b byte) *Keyring {
	k, err := New(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		panic(err)
	}
	return k
}

func TestLoadCreatesThenReusesKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	noEnv := func(string) (string, bool) { return "", false }
	k1, err := Load(dir, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", info.Mode().Perm())
	}
	k2, err := Load(dir, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if k1.ID() != k2.ID() {
		t.Errorf("reloaded key ID %s, want %s", k2.ID(), k1.ID())
	}
}

func TestLoadFromEnv(t *testing.T) {
	master := bytes.Repeat([]byte{7}, 32)
	env := func(k string) (string, bool) {
		return base64.StdEncoding.EncodeToString(master), k == EnvVar
	}
	k, err := Load(t.TempDir(), env)
	if err != nil {
		t.Fatal(err)
	}
	if k.ID() != fixed(7).ID() {
		t.Errorf("key from env has ID %s, want %s", k.ID(), fixed(7).ID())
	}
	bad := func(string) (string, bool) { return "c2hvcnQ=", true }
	if _, err := Load(t.TempDir(), bad); err == nil || !strings.Contains(err.Error(), EnvVar) {
		t.Errorf("short env key: err = %v, want one naming %s", err, EnvVar)
	}
}

func TestSignVerify(t *testing.T) {
	k := fixed(1)
	msg := []byte("erasure certificate")
	sig := k.Sign(msg)
	if !Verify(k.PublicKey(), msg, sig) {
		t.Fatal("signature does not verify")
	}
	if Verify(k.PublicKey(), []byte("erasure certificatE"), sig) {
		t.Error("signature verifies an altered message")
	}
	if Verify(fixed(2).PublicKey(), msg, sig) {
		t.Error("signature verifies under another key")
	}
}

func TestMACSeparatesPurposes(t *testing.T) {
	k := fixed(1)
	if bytes.Equal(k.MAC("a", []byte("x")), k.MAC("b", []byte("x"))) {
		t.Error("MAC is the same for two purposes")
	}
	if !bytes.Equal(k.MAC("a", []byte("x")), fixed(1).MAC("a", []byte("x"))) {
		t.Error("MAC is not deterministic")
	}
}

func TestPseudonym(t *testing.T) {
	k := fixed(1)
	p := k.Pseudonym("ada@example.com")
	if !strings.HasPrefix(p, PseudonymPrefix) || len(p) != 37 {
		t.Errorf("Pseudonym = %q, want hmac: and 32 hex digits", p)
	}
	if p != fixed(1).Pseudonym("ada@example.com") || p == k.Pseudonym("bob@example.com") || p == fixed(2).Pseudonym("ada@example.com") {
		t.Error("Pseudonym is not a keyed function of its value")
	}
}

func TestToken(t *testing.T) {
	k := fixed(1)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tok := k.Token("export", []byte("req_123"), now.Add(time.Hour))
	got, err := k.OpenToken("export", tok, now)
	if err != nil || string(got) != "req_123" {
		t.Fatalf("OpenToken = %q, %v; want req_123", got, err)
	}
	body, mac, _ := strings.Cut(tok, ".")
	tests := []struct {
		name, purpose, token string
		now                  time.Time
		want                 error
	}{
		{"expired", "export", tok, now.Add(time.Hour), ErrExpired},
		{"other purpose", "unsubscribe", tok, now, ErrBadToken},
		{"other key", "export", fixed(2).Token("export", []byte("req_123"), now.Add(time.Hour)), now, ErrBadToken},
		{"altered payload", "export", body[:len(body)-1] + "A." + mac, now, ErrBadToken},
		{"no mac", "export", body, now, ErrBadToken},
		{"garbage", "export", "%%%.***", now, ErrBadToken},
		{"empty", "export", "", now, ErrBadToken},
	}
	for _, tt := range tests {
		if _, err := k.OpenToken(tt.purpose, tt.token, tt.now); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

type memMeta map[string]string

func (m memMeta) InitMeta(_ context.Context, key, value string) (string, error) {
	if v, ok := m[key]; ok {
		return v, nil
	}
	m[key] = value
	return value, nil
}

func (m memMeta) Meta(_ context.Context, key string) (string, bool, error) {
	v, ok := m[key]
	return v, ok, nil
}

func (m memMeta) SwapMeta(_ context.Context, key, old, value string) (bool, error) {
	if v, ok := m[key]; (ok && v != old) || (!ok && old != "") {
		return false, nil
	}
	m[key] = value
	return true, nil
}

// TestRotate: a rotation signs with a new key from then on, in this
// keyring and in every one bound to the store after it; the old keys stay
// among the public keys, so what they signed still verifies.
func TestRotate(t *testing.T) {
	ctx := t.Context()
	m := memMeta{}
	k := fixed(1)
	if err := k.Bind(ctx, m); err != nil {
		t.Fatal(err)
	}
	first, sig := k.PublicKey(), k.Sign([]byte("before"))
	if err := k.Rotate(ctx, m); err != nil {
		t.Fatal(err)
	}
	if k.Generation() != 2 || bytes.Equal(k.PublicKey(), first) {
		t.Fatalf("after Rotate: generation %d, same key %v", k.Generation(), bytes.Equal(k.PublicKey(), first))
	}
	other := fixed(1)
	if err := other.Bind(ctx, m); err != nil || other.ID() != k.ID() {
		t.Fatalf("another instance bound after the rotation signs with %s (%v); want %s", other.ID(), err, k.ID())
	}
	pubs := other.PublicKeys()
	if len(pubs) != 2 || !bytes.Equal(pubs[0].Key, first) || pubs[0].Current || !pubs[1].Current {
		t.Fatalf("PublicKeys = %+v; want the first key, then the current one", pubs)
	}
	if !Verify(pubs[0].Key, []byte("before"), sig) {
		t.Error("what the first key signed no longer verifies with its public key")
	}
	// An instance bound before a rotation trusts what the new key signs.
	early := fixed(1)
	if err := early.Bind(ctx, m); err != nil {
		t.Fatal(err)
	}
	stale := fixed(1) // bound before the second rotation
	if err := stale.Bind(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := k.Rotate(ctx, m); err != nil {
		t.Fatal(err)
	}
	trusted := false
	for _, p := range early.Trusted() {
		trusted = trusted || bytes.Equal(p, k.PublicKey())
	}
	if !trusted {
		t.Error("an instance bound before a rotation does not trust the new key")
	}
	if err := stale.Rotate(ctx, m); err == nil || !strings.Contains(err.Error(), "meanwhile") {
		t.Fatalf("a rotation from a stale generation = %v; want it refused", err)
	}
	if err := fixed(2).Bind(ctx, m); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("another master key after rotations: %v; want ErrKeyMismatch", err)
	}
}

func TestBind(t *testing.T) {
	m := memMeta{}
	if err := fixed(1).Bind(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	if err := fixed(1).Bind(t.Context(), m); err != nil {
		t.Fatalf("same key again: %v", err)
	}
	if err := fixed(2).Bind(t.Context(), m); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("other key: err = %v, want ErrKeyMismatch", err)
	}
}

func BenchmarkPseudonym(b *testing.B) {
	k, err := New(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		k.Pseudonym("ada@example.com")
	}
}
