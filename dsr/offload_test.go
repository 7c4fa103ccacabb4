package dsr

import (
	"bytes"
	"errors"
	"io"
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
		var opened []bool
		o := newOffload(func(whole []byte) (io.Writer, error) {
			if whole != nil && !bytes.Equal(whole, want) {
				t.Errorf("size %d: opened with %d bytes that are not the whole file", size, len(whole))
			}
			opened = append(opened, whole != nil)
			return &got, nil
		})
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
		// The whole file in one go exactly when it is smaller than a chunk.
		if len(opened) != 1 || opened[0] != (size < offloadChunk) {
			t.Errorf("size %d: opened %v, want once, whole: %v", size, opened, size < offloadChunk)
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
		o := newOffload(func([]byte) (io.Writer, error) { return f, nil })
		o.Write(make([]byte, size))
		if err := o.Close(); err == nil || err.Error() != "disk full" {
			t.Errorf("size %d: Close = %v, want the writer's error", size, err)
		}
		if f.n != 1 && size > offloadChunk {
			t.Errorf("size %d: the writer was called %d times after failing, want once", size, f.n)
		}
	}
	// A writer that cannot be opened: its error, and nothing written.
	for _, size := range []int{5, 3 * offloadChunk} {
		o := newOffload(func([]byte) (io.Writer, error) { return nil, errors.New("no room for another file") })
		o.Write(make([]byte, size))
		if err := o.Close(); err == nil || err.Error() != "no room for another file" {
			t.Errorf("size %d: Close = %v, want the open error", size, err)
		}
	}
}
