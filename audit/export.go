package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/vowprivacy/vow/state"
)

// ExportVersion is the version of the export format, in its header line.
const ExportVersion = 1

// Filter selects the entries of an export. The zero Filter exports the
// whole log, which [Verify] can check from the file alone.
type Filter struct {
	Kind, Subject, Actor string
	Since, Until         time.Time
	// Person, a pseudonym made by [Subject], selects the entries about
	// that person: those naming them (as subject, or anywhere in their
	// data, as a batch of consent decisions does), and those of every
	// request whose received entry lists them among its identities.
	Person string
}

// IdentitiesKey is the field of a request.received entry's data that
// lists the request's identities by pseudonym (kind to [Subject]).
const IdentitiesKey = "identities"

func (f Filter) complete() bool { return f == Filter{} }

// header is the first line of an export.
type header struct {
	Export struct {
		Version    int       `json:"version"`
		ExportedAt time.Time `json:"exported_at"`
		// Complete is false for a filtered export, whose entries do not
		// chain to each other.
		Complete bool   `json:"complete"`
		Store    string `json:"store,omitempty"`
	} `json:"export"`
}

// line is one entry or checkpoint of an export.
type line struct {
	Checkpoint *checkpointLine `json:"checkpoint,omitempty"`
	Seq        int64           `json:"seq,omitempty"`
	At         *time.Time      `json:"at,omitempty"`
	Kind       string          `json:"kind,omitempty"`
	Subject    string          `json:"subject,omitempty"`
	Actor      *string         `json:"actor,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	Prev       string          `json:"prev,omitempty"`
	Hash       string          `json:"hash,omitempty"`
}

type checkpointLine struct {
	Seq       int64     `json:"seq"`
	At        time.Time `json:"at"`
	Hash      string    `json:"hash"`
	KeyID     string    `json:"key_id"`
	Signature []byte    `json:"signature"`
	PrevSeq   int64     `json:"prev_seq"`
	PrevHash  string    `json:"prev_hash,omitempty"`
}

// Export writes the entries f selects to w as JSON Lines: a header line,
// then (for a complete export) every checkpoint, then one line per entry
// with its hashes in hex. It returns how many entries it wrote.
func Export(ctx context.Context, s *state.Store, f Filter, w io.Writer) (int64, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var h header
	h.Export.Version, h.Export.ExportedAt, h.Export.Complete = ExportVersion, time.Now().UTC(), f.complete()
	h.Export.Store, _ = s.ID(ctx)
	if err := enc.Encode(h); err != nil {
		return 0, fmt.Errorf("audit: export: %w", err)
	}
	if f.complete() {
		cps, err := s.Checkpoints(ctx)
		if err != nil {
			return 0, fmt.Errorf("audit: export: %w", err)
		}
		for _, c := range cps {
			if err := enc.Encode(line{Checkpoint: &checkpointLine{c.Seq, c.At, hex.EncodeToString(c.Hash), c.KeyID, c.Signature, c.PrevSeq, hex.EncodeToString(c.PrevHash)}}); err != nil {
				return 0, fmt.Errorf("audit: export: %w", err)
			}
		}
	}
	about, err := requestsAbout(ctx, s, f.Person)
	if err != nil {
		return 0, fmt.Errorf("audit: export: %w", err)
	}
	var n int64
	err = s.EachEvent(ctx, state.EventFilter{Kind: f.Kind, Subject: f.Subject, Actor: f.Actor, Since: f.Since, Until: f.Until}, func(e state.Event) error {
		if f.Person != "" && e.Subject != f.Person && !about[e.Subject] && !bytes.Contains(e.Data, []byte(f.Person)) {
			return nil
		}
		n++
		return enc.Encode(line{Seq: e.Seq, At: &e.At, Kind: e.Kind, Subject: e.Subject, Actor: &e.Actor, Data: e.Data,
			Prev: hex.EncodeToString(e.Prev), Hash: hex.EncodeToString(e.Hash)})
	})
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return n, fmt.Errorf("audit: export: %w", err)
	}
	return n, nil
}

// requestsAbout returns the IDs of the requests whose request.received
// entry lists the pseudonym person among its identities.
func requestsAbout(ctx context.Context, s *state.Store, person string) (map[string]bool, error) {
	ids := map[string]bool{}
	if person == "" {
		return ids, nil
	}
	err := s.EachEvent(ctx, state.EventFilter{Kind: "request.received"}, func(e state.Event) error {
		var d struct {
			Identities map[string]string `json:"identities"`
		}
		if json.Unmarshal(e.Data, &d) != nil {
			return nil
		}
		for _, p := range d.Identities {
			if p == person {
				ids[e.Subject] = true
			}
		}
		return nil
	})
	return ids, err
}

// ErrIncomplete is returned by [ReadExport] for a filtered export, which
// cannot be verified as a chain.
var ErrIncomplete = errors.New("the export is filtered: only a complete export (vow audit export with no filter) can be verified")

// FileSource is an export file, as a [Source] to verify.
type FileSource struct{ path string }

// ReadExport opens an export written by [Export] for verification.
func ReadExport(path string) (*FileSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audit: read export: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	var h header
	if !sc.Scan() || json.Unmarshal(sc.Bytes(), &h) != nil || h.Export.Version == 0 {
		return nil, fmt.Errorf("audit: read export %s:1: not a Vow audit export (its first line must be the export header)", path)
	}
	if h.Export.Version != ExportVersion {
		return nil, fmt.Errorf("audit: read export %s:1: export version %d; this Vow reads version %d", path, h.Export.Version, ExportVersion)
	}
	if !h.Export.Complete {
		return nil, fmt.Errorf("audit: read export %s: %w", path, ErrIncomplete)
	}
	return &FileSource{path: path}, nil
}

// each calls fn with every line after the header and its line number.
func (s *FileSource) each(fn func(n int, l line) error) error {
	f, err := os.Open(s.path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for n := 1; sc.Scan(); n++ {
		if n == 1 {
			continue
		}
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("%s:%d: %v", s.path, n, err)
		}
		if err := fn(n, l); err != nil {
			return err
		}
	}
	return sc.Err()
}

// Checkpoints implements [Source].
func (s *FileSource) Checkpoints(ctx context.Context) ([]state.Checkpoint, error) {
	var cps []state.Checkpoint
	err := s.each(func(n int, l line) error {
		if l.Checkpoint == nil {
			return nil
		}
		h, err := hex.DecodeString(l.Checkpoint.Hash)
		var ph []byte
		if err == nil && l.Checkpoint.PrevHash != "" {
			ph, err = hex.DecodeString(l.Checkpoint.PrevHash)
		}
		if err != nil {
			return fmt.Errorf("%s:%d: checkpoint hash: %v", s.path, n, err)
		}
		cps = append(cps, state.Checkpoint{Seq: l.Checkpoint.Seq, At: l.Checkpoint.At, Hash: h, KeyID: l.Checkpoint.KeyID, Signature: l.Checkpoint.Signature,
			PrevSeq: l.Checkpoint.PrevSeq, PrevHash: ph})
		return nil
	})
	return cps, err
}

// Each implements [Source].
func (s *FileSource) Each(ctx context.Context, fn func(state.Event) error) error {
	return s.each(func(n int, l line) error {
		if l.Checkpoint != nil {
			return nil
		}
		if l.At == nil || l.Actor == nil || l.Seq == 0 {
			return fmt.Errorf("%s:%d: an entry needs seq, at and actor", s.path, n)
		}
		e := state.Event{Seq: l.Seq, At: l.At.UTC(), Kind: l.Kind, Subject: l.Subject, Actor: *l.Actor, Data: l.Data}
		var err error
		if e.Prev, err = hex.DecodeString(l.Prev); err == nil {
			e.Hash, err = hex.DecodeString(l.Hash)
		}
		if err != nil {
			return fmt.Errorf("%s:%d: hash: %v", s.path, n, err)
		}
		if len(e.Prev) == 0 {
			e.Prev = nil
		}
		return fn(e)
	})
}
