package dsr

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

func TestOffload(t *testing.T) {
	for _, size := range []int{0, 10, offloadChunk - 1, offloadChunk, offloadChunk + 1, 7*offloadChunk + 123} {
		want := make([]byte, size)
		for i := range want {
			want[i] = byte(rand.IntN(256))
		}
		var got bytes.Buffer
		o := newOffload(&got)
		for p := want; len(p) > 0; {
			k := min(len(p), 1+rand.IntN(3*offloadChunk/2))
			if n, err := o.Write(p[:k]); n != k || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
			p = p[k:]
		}
		if err := o.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("size %d: got %d bytes, not what was written", size, got.Len())
		}
		if err := o.Close(); err != nil {
			t.Errorf("second Close = %v", err)
		}
	}
}

type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	f.n++
	return 0, errors.New("disk full")
}

// An error of the underlying writer comes back from Close, large file or
// small, and the goroutine ends.
func TestOffloadError(t *testing.T) {
	for _, size := range []int{5, 3 * offloadChunk} {
		f := &failingWriter{}
		o := newOffload(f)
		o.Write(make([]byte, size))
		if err := o.Close(); err == nil || err.Error() != "disk full" {
			t.Errorf("size %d: Close = %v, want the writer's error", size, err)
		}
		if f.n != 1 && size > offloadChunk {
			t.Errorf("size %d: the writer was called %d times after failing, want once", size, f.n)
		}
	}
}
