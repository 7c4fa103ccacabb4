package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/keyring"
)

// TestKeysAndVerify: a certificate signed by one installation is checked
// elsewhere with the public key it exports, and checking in a directory
// that has no key fails in words and creates none.
func TestKeysAndVerify(t *testing.T) {
	t.Setenv(keyring.EnvVar, "")
	signer := t.TempDir()
	k, err := keyring.Load(signer, nil)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := dsr.SignCertificate(k, dsr.Certificate{RequestID: "req_1", Organization: "Acme", CompletedAt: time.Now(), Verified: true})
	if err != nil {
		t.Fatal(err)
	}
	cert := writeFile(t, t.TempDir(), "cert.json", string(doc))

	code, pub, errOut := vow(t, "keys", "public", "--data-dir", signer)
	if code != 0 || len(strings.TrimSpace(pub)) != 44 {
		t.Fatalf("keys public: code %d, out %q, err %q", code, pub, errOut)
	}
	if code, out, errOut := vow(t, "keys", "--data-dir", signer); code != 0 || !strings.Contains(out, k.ID()) {
		t.Errorf("keys: code %d, out %q, err %q; want the key ID %s", code, out, errOut, k.ID())
	}

	elsewhere := t.TempDir()
	code, _, errOut = vow(t, "certificate", "verify", cert, "--data-dir", elsewhere)
	if code == 0 || !strings.Contains(errOut, "--public-key") || !strings.Contains(errOut, "no master key") {
		t.Errorf("verify without a key: code %d, err %q; want a refusal that names --public-key", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(elsewhere, keyring.FileName)); !os.IsNotExist(err) {
		t.Errorf("verify created %s (%v); checking must never make a key", keyring.FileName, err)
	}
	if code, out, errOut := vow(t, "certificate", "verify", cert, "--data-dir", elsewhere, "--public-key", strings.TrimSpace(pub)); code != 0 || !strings.Contains(out, "valid: erasure certificate for request req_1") {
		t.Errorf("verify with the exported key: code %d, out %q, err %q", code, out, errOut)
	}
	if code, out, _ := vow(t, "certificate", "verify", cert, "--data-dir", signer); code != 0 || !strings.Contains(out, "valid") {
		t.Errorf("verify in the signer's directory: code %d, out %q", code, out)
	}
}

// TestKeyRotation: after a rotation Vow signs with a new key, while what
// the old one signed — a certificate, audit checkpoints — still verifies
// here, with the keys vow keys public --all prints, and with the keys vow
// serve publishes at /.well-known/vow-keys.json.
func TestKeyRotation(t *testing.T) {
	t.Setenv(keyring.EnvVar, "")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if code, _, errOut := vow(t, "state", "--data-dir", data); code != 0 {
		t.Fatal(errOut)
	}
	k, err := keyring.Load(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := dsr.SignCertificate(k, dsr.Certificate{RequestID: "req_old", Organization: "Acme", CompletedAt: time.Now(), Verified: true})
	if err != nil {
		t.Fatal(err)
	}
	cert := writeFile(t, dir, "cert.json", string(doc))
	if code, _, errOut := vow(t, "audit", "seal", "--data-dir", data); code != 0 {
		t.Fatal(errOut)
	}
	policyFile := writeFile(t, dir, "vow.yaml", string(mustReadFile(t, "../../policy/testdata/valid.yaml")))
	if code, _, errOut := vow(t, "check", "--record", policyFile, "--data-dir", data); code != 0 {
		t.Fatal(errOut)
	}

	code, out, errOut := vow(t, "keys", "rotate", "--data-dir", data)
	if code != 0 || !strings.Contains(out, "generation 2") || !strings.Contains(out, k.ID()+" and earlier stay trusted") {
		t.Fatalf("rotate: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := vow(t, "check", "--record", policyFile, "--data-dir", data); code != 0 { // sealed by the new key
		t.Fatal(errOut)
	}
	if code, out, _ := vow(t, "keys", "--data-dir", data); code != 0 || !strings.Contains(out, "generation 1, retired") || !strings.Contains(out, "generation 2, current") {
		t.Errorf("keys after rotation: %s", out)
	}
	_, all, _ := vow(t, "keys", "public", "--all", "--data-dir", data)
	if lines := strings.Fields(all); len(lines) != 2 {
		t.Fatalf("keys public --all: %q; want two keys", all)
	}
	if code, out, errOut := vow(t, "certificate", "verify", cert, "--data-dir", data); code != 0 || !strings.Contains(out, "signed by key "+k.ID()) {
		t.Errorf("an old certificate after rotation: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := vow(t, "audit", "verify", "--data-dir", data); code != 0 || !strings.Contains(out, "verified") {
		t.Errorf("audit verify across a rotation: %d %s %s", code, out, errOut)
	}
	events := exportKinds(t, data)
	if !strings.Contains(events, "keys.rotated") {
		t.Errorf("no keys.rotated entry in the audit log: %s", events)
	}

	base := startServe(t, policyFile, "--data-dir", data, "--no-retention")
	code, body := httpCall(t, "GET", base+"/.well-known/vow-keys.json", "", "")
	if code != 200 || strings.Count(body, `"key_id"`) != 2 {
		t.Fatalf("well-known keys: %d %s", code, body)
	}
	elsewhere := t.TempDir()
	if code, out, errOut := vow(t, "certificate", "verify", cert, "--data-dir", elsewhere, "--keys-url", base+"/.well-known/vow-keys.json"); code != 0 || !strings.Contains(out, "valid") {
		t.Errorf("verify with the served keys: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := vow(t, "certificate", "verify", cert, "--data-dir", elsewhere, "--keys-url", "http://example.com/keys.json"); code != 2 || !strings.Contains(errOut, "https://") {
		t.Errorf("a plain-http keys URL: %d %s; want it refused", code, errOut)
	}
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// exportKinds returns the kinds of the audit log's entries, one a line.
func exportKinds(t *testing.T, data string) string {
	t.Helper()
	code, out, errOut := vow(t, "audit", "export", "--data-dir", data)
	if code != 0 {
		t.Fatalf("audit export: %s", errOut)
	}
	var kinds []string
	for _, line := range strings.Split(out, "\n") {
		var e struct{ Kind string }
		if json.Unmarshal([]byte(line), &e) == nil && e.Kind != "" {
			kinds = append(kinds, e.Kind)
		}
	}
	return strings.Join(kinds, "\n")
}
