package main

import (
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
