package dsr_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/keyring"
)

// FuzzVerifyCertificate feeds arbitrary documents to the certificate
// verifier: it must never panic, and never accept anything but the exact
// document that was signed.
func FuzzVerifyCertificate(f *testing.F) {
	k, _ := keyring.New(bytes.Repeat([]byte{3}, 32))
	signed, err := dsr.SignCertificate(k, dsr.Certificate{Version: 1, RequestID: "req_1", CompletedAt: time.Unix(0, 0).UTC(),
		Tables: []dsr.TableRecord{{System: "app", Table: "users", Action: "deleted", Rows: 1}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed)
	f.Add([]byte(`{"certificate": {}, "signature": {"alg": "Ed25519"}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		c, err := dsr.VerifyCertificate(doc, k.PublicKey())
		if err == nil && c == nil {
			t.Fatal("nil certificate without error")
		}
		if err == nil && !bytes.Equal(doc, signed) {
			// Only whitespace outside the signed member may differ.
			if c.RequestID != "req_1" || len(c.Tables) != 1 || c.Tables[0].Rows != 1 {
				t.Fatalf("accepted an altered certificate: %s", doc)
			}
		}
	})
}
