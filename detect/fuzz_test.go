package detect

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzScan(f *testing.F) {
	for _, tc := range detCases {
		f.Add([]byte(tc.in))
	}
	for _, l := range corpusLines(64) {
		f.Add([]byte(l))
	}
	f.Add([]byte{0xff, '@', 0xfe, '.', 'c', 'o'})
	f.Add([]byte(`{"a":"\ud83d\ude00 \udc00 x@y.zz"}`))
	known := map[string]bool{}
	for _, c := range Categories() {
		known[c] = true
	}
	s := NewScanner()
	f.Fuzz(func(t *testing.T, v []byte) {
		hits := s.Scan(v, nil)
		for _, h := range hits {
			if h.Start < 0 || h.End > len(v) || h.Start >= h.End {
				t.Fatalf("hit %+v out of bounds for %d bytes", h, len(v))
			}
			if !known[h.Category] || h.Detector == "" || h.Confidence <= 0 || h.Confidence > 1 {
				t.Fatalf("bad hit %+v", h)
			}
			if strings.Contains(h.Path, "@") {
				t.Fatalf("path %q leaks a value", h.Path)
			}
			m := Mask(h.Category, h.Detector, string(v[h.Start:h.End]))
			if utf8.ValidString(string(v[h.Start:h.End])) && !utf8.ValidString(m) {
				t.Fatalf("mask %q of valid UTF-8 is not", m)
			}
		}
	})
}
