package policy

import (
	"os"
	"testing"
)

// BenchmarkParse measures decoding and linting the demo policy (about 300
// lines, 11 tables), the work of every `vow check` and of every later verb
// that loads the policy.
func BenchmarkParse(b *testing.B) {
	src, err := os.ReadFile("../demo/vow.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ds := Parse("vow.yaml", src); ds.HasErrors() {
			b.Fatal(ds)
		}
	}
}
