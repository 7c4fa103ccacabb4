package scan

import (
	"database/sql"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/vowprivacy/vow/detect"
)

// pipeline runs the detectors beside the reading: with more than one CPU,
// the rows read are copied into batches that other goroutines scan, each
// into columns of its own, merged at the end — so that a full scan costs
// little more than the read. Batches are bounded in rows and bytes, and
// at most a few wait at a time, so memory stays flat however large the
// table.
type pipeline struct {
	cols     int
	maxValue int
	// direct scans in the reading goroutine (one CPU).
	direct []detect.Column
	sc     *detect.Scanner

	batch   *batchBuf
	work    chan *batchBuf
	free    chan *batchBuf
	wg      sync.WaitGroup
	workers [][]detect.Column
	failed  atomic.Pointer[error] // a worker's panic, reported by close
}

// batchBuf holds copies of the values of some rows: vals[r*cols+c] is
// row r's column c, nil for NULL, slices of data.
type batchBuf struct {
	data []byte
	vals [][]byte
}

const (
	batchRows  = 256
	batchBytes = 1 << 20
)

func newPipeline(cols, maxValue int) *pipeline {
	p := &pipeline{cols: cols, maxValue: maxValue}
	n := runtime.GOMAXPROCS(0) - 1
	if n < 1 {
		p.sc = detect.NewScanner(detect.WithMaxBytes(maxValue))
		p.direct = make([]detect.Column, cols)
		for i := range p.direct {
			p.direct[i].Scanner = p.sc
		}
		return p
	}
	n = min(n, 4)
	p.work = make(chan *batchBuf, n)
	p.free = make(chan *batchBuf, 2*n+1)
	for range 2*n + 1 {
		p.free <- &batchBuf{data: make([]byte, 0, batchBytes+64<<10)}
	}
	p.batch = <-p.free
	p.workers = make([][]detect.Column, n)
	for w := range n {
		accs := make([]detect.Column, cols)
		sc := detect.NewScanner(detect.WithMaxBytes(maxValue))
		for i := range accs {
			accs[i].Scanner = sc
		}
		p.workers[w] = accs
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for b := range p.work {
				p.scan(accs, b)
				b.data, b.vals = b.data[:0], b.vals[:0]
				p.free <- b
			}
		}()
	}
	return p
}

// scan runs the detectors over a batch. A detector's panic (a bug) fails
// the table, not the process: vow serve scans on a schedule.
func (p *pipeline) scan(accs []detect.Column, b *batchBuf) {
	defer func() {
		if v := recover(); v != nil {
			err := fmt.Errorf("scan: a detector failed: %v", v)
			p.failed.CompareAndSwap(nil, &err)
		}
	}()
	if p.failed.Load() != nil {
		return
	}
	for i, v := range b.vals {
		accs[i%p.cols].Add(v)
	}
}

// add takes one row's values; they are valid only until add returns.
func (p *pipeline) add(row []sql.RawBytes) {
	if p.direct != nil {
		vals := make([][]byte, len(row))
		for i, v := range row {
			vals[i] = v
		}
		p.scan(p.direct, &batchBuf{vals: vals})
		return
	}
	b := p.batch
	for _, v := range row {
		if v == nil {
			b.vals = append(b.vals, nil)
			continue
		}
		v = v[:min(len(v), p.maxValue)]
		at := len(b.data)
		b.data = append(b.data, v...)
		b.vals = append(b.vals, b.data[at:len(b.data):len(b.data)])
	}
	if len(b.vals) >= batchRows*p.cols || len(b.data) >= batchBytes {
		p.flush()
	}
}

// flush hands the current batch to the workers and takes a free one.
func (p *pipeline) flush() {
	if len(p.batch.vals) == 0 {
		return
	}
	// Values copied before data last grew point into its older arrays,
	// which stay alive (and right) for as long as they do.
	p.work <- p.batch
	p.batch = <-p.free
}

// close waits for the workers and merges what they counted into acc; the
// error is a detector's panic.
func (p *pipeline) close(acc []detect.Column) error {
	if p.direct == nil {
		p.flush()
		close(p.work)
		p.wg.Wait()
	}
	if err := p.failed.Load(); err != nil {
		return *err
	}
	if p.direct != nil {
		for i := range acc {
			acc[i].Merge(&p.direct[i])
		}
		return nil
	}
	for _, w := range p.workers {
		for i := range acc {
			acc[i].Merge(&w[i])
		}
	}
	return nil
}
