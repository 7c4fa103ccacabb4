package dsr

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestKeysRoundTrip: a request's keys come back from the state store as
// they were read — integers as int64, binary keys as bytes, and text that
// is not UTF-8 as its own bytes, which encoding/json would have replaced
// with U+FFFD (another value, perhaps someone else's key).
func TestKeysRoundTrip(t *testing.T) {
	in := &Keys{Roots: map[string][]any{"app:logins": {
		int64(9007199254740993), "plain", keyValue([]byte("a\xffb")), keyValue("Jos\xe9"), binaryKey{0, 0xff},
	}}}
	if _, ok := in.Roots["app:logins"][2].(textKey); !ok {
		t.Fatalf("keyValue of invalid UTF-8 = %T, want textKey", in.Roots["app:logins"][2])
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodeKeys(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in.Roots, out.Roots) {
		t.Errorf("keys after the round trip:\n%#v\nwant\n%#v", out.Roots, in.Roots)
	}
	if got := keyValue([]byte("ok")); got != "ok" {
		t.Errorf("keyValue of UTF-8 bytes = %#v, want the string", got)
	}
}

// TestPendingRoundTrip: the witness a crashed erasure left is read back
// with its key exact, so that reconcile looks at the row it named.
func TestPendingRoundTrip(t *testing.T) {
	in := pending{Witness: &witness{Table: "events", Key: []string{"id"}, Vals: []any{int64(1234567890123456789), keyValue([]byte("a\xffb")), binaryKey{1}}, Cond: "ip <> ?", Args: []any{"0.0.0.0"}}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodePending(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in.Witness, out.Witness) {
		t.Errorf("witness after the round trip:\n%#v\nwant\n%#v", out.Witness, in.Witness)
	}
}
