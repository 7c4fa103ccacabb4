package policy

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestJSONSchemaGolden keeps docs/vow.schema.json equal to what the code
// generates: run `go test ./policy -update` after changing the model.
func TestJSONSchemaGolden(t *testing.T) {
	got, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(got, &v); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	const golden = "../docs/vow.schema.json"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./policy -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("docs/vow.schema.json is stale: run go test ./policy -update")
	}
}

func TestKeysDocumented(t *testing.T) {
	keys := Keys()
	if len(keys) < 80 {
		t.Fatalf("only %d keys", len(keys))
	}
	for _, k := range keys {
		if k[1] == "" {
			t.Errorf("key %s has no help text", k[0])
		}
	}
}

// TestReferenceIndex keeps the key index of docs/policy-file.md generated
// from the model, so the reference names every key the decoder accepts.
func TestReferenceIndex(t *testing.T) {
	const doc = "../docs/policy-file.md"
	src, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	start, end := []byte("<!-- keys:start -->\n"), []byte("<!-- keys:end -->")
	i, j := bytes.Index(src, start), bytes.Index(src, end)
	if i < 0 || j < i {
		t.Fatal("docs/policy-file.md lacks the keys:start/keys:end markers")
	}
	var b bytes.Buffer
	b.WriteString("| key | meaning |\n|---|---|\n")
	for _, k := range Keys() {
		b.WriteString("| `" + k[0] + "` | " + k[1] + " |\n")
	}
	got := append(append(append([]byte{}, src[:i+len(start)]...), b.Bytes()...), src[j:]...)
	if *update {
		if err := os.WriteFile(doc, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, src) {
		t.Fatal("the key index of docs/policy-file.md is stale: run go test ./policy -update")
	}
}
