package dsr

import (
	"io"
	"sync"
)

// offload hands what is written to it on to a writer from another
// goroutine, in chunks, so that compressing a large file of an export
// (the writer is its deflate writer) runs on the second core beside
// reading and encoding the rows, not in turns with them. A file smaller
// than one chunk is written at Close, with no goroutine. At most
// offloadDepth chunks wait, so memory stays flat however large the file.
//
// The writer is opened when the first chunk goes, or at Close: open is
// given the whole file when it is smaller than a chunk (nil otherwise), so
// that a small file need not be compressed at all.
type offload struct {
	open   func(whole []byte) (io.Writer, error)
	buf    []byte
	ch     chan []byte
	done   chan error
	closed bool
}

const (
	offloadChunk = 64 << 10
	offloadDepth = 4
)

var offloadChunks = sync.Pool{New: func() any { return make([]byte, 0, offloadChunk) }}

func newOffload(open func(whole []byte) (io.Writer, error)) *offload {
	return &offload{open: open, buf: offloadChunks.Get().([]byte)[:0]}
}

// Write never fails: an error of the writer is returned by Close.
func (o *offload) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), cap(o.buf)-len(o.buf))
		o.buf = append(o.buf, p[:k]...)
		p = p[k:]
		if len(o.buf) == cap(o.buf) {
			o.send()
		}
	}
	return n, nil
}

func (o *offload) send() {
	if o.ch == nil {
		o.ch, o.done = make(chan []byte, offloadDepth), make(chan error, 1)
		go func() {
			w, err := o.open(nil)
			for b := range o.ch {
				if err == nil {
					_, err = w.Write(b)
				}
				offloadChunks.Put(b[:0])
			}
			o.done <- err
		}()
	}
	o.ch <- o.buf
	o.buf = offloadChunks.Get().([]byte)[:0]
}

// Close writes what is left, waits until the writer has taken everything
// and returns the first error. Closing again does nothing.
func (o *offload) Close() error {
	if o.closed {
		return nil
	}
	o.closed = true
	if o.ch == nil {
		defer offloadChunks.Put(o.buf[:0])
		w, err := o.open(o.buf[:len(o.buf):len(o.buf)])
		if err == nil {
			_, err = w.Write(o.buf)
		}
		return err
	}
	if len(o.buf) > 0 {
		o.ch <- o.buf
	} else {
		offloadChunks.Put(o.buf[:0])
	}
	close(o.ch)
	return <-o.done
}
