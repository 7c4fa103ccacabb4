package dsr

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"context"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"html/template"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/detect"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/rowjson"
)

// storeBelow is the size under which a file of an access package is
// stored rather than deflated.
const storeBelow = 8 << 10

// storedHeader is the header of a file stored whole: its checksum and
// sizes in the header (no data descriptor after it), and what
// CreateHeader would add and CreateRaw leaves to its caller — the date in
// the DOS fields and as an extended timestamp, the UTF-8 flag for a name
// that is not ASCII, the versions.
func storedHeader(name string, modified time.Time, data []byte) *zip.FileHeader {
	n := uint64(len(data))
	h := &zip.FileHeader{Name: name, Method: zip.Store, Modified: modified, CRC32: crc32.ChecksumIEEE(data),
		CompressedSize64: n, UncompressedSize64: n, CreatorVersion: 20, ReaderVersion: 20}
	if t := modified; t.Year() >= 1980 {
		h.ModifiedDate = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
		h.ModifiedTime = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	}
	// The extended timestamp (0x5455): flags 1 (modification time), then
	// the time as Unix seconds.
	ext := []byte{0x55, 0x54, 5, 0, 1, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(ext[5:], uint32(modified.Unix()))
	h.Extra = ext
	for _, r := range name {
		if r >= utf8.RuneSelf {
			h.Flags |= 0x800
			break
		}
	}
	return h
}

// deflaters keeps deflate compressors for reuse: a new one allocates
// about a megabyte, and a package has a file per table (a light subject's
// export spent more on allocating them than on its data).
var deflaters sync.Pool

// pooledDeflater returns its compressor to deflaters once closed; the zip
// writer closes each file's before it starts the next.
type pooledDeflater struct{ *flate.Writer }

func (p pooledDeflater) Close() error {
	err := p.Writer.Close()
	deflaters.Put(p.Writer)
	return err
}

func newDeflater(w io.Writer) (io.WriteCloser, error) {
	if fw, ok := deflaters.Get().(*flate.Writer); ok {
		fw.Reset(w)
		return pooledDeflater{fw}, nil
	}
	fw, err := flate.NewWriter(w, flate.BestSpeed)
	if err != nil {
		return nil, err
	}
	return pooledDeflater{fw}, nil
}

// TablePackage describes one table of an access package in its manifest:
// what the data is and what the policy promises about it.
type TablePackage struct {
	System     string      `json:"system"`
	Table      string      `json:"table"`
	File       string      `json:"file"`
	Rows       int64       `json:"rows"`
	Categories []string    `json:"categories"`
	Purposes   []string    `json:"purposes"`
	Processors []string    `json:"processors,omitempty"`
	Retention  []string    `json:"retention,omitempty"`
	Columns    []ColumnDoc `json:"columns"`
	// Withheld names columns left out of the package because handing
	// them out would endanger the account (password hashes, tokens).
	Withheld []string `json:"withheld,omitempty"`
	// Mention names the columns through which rows of someone else name
	// the subject; only those columns are in the file.
	Mention string `json:"mention,omitempty"`
	// Forbidden lists data found in the exported values of a kind the
	// policy promises is never held (forbidden:): the package tells the
	// person, and the request records it for the company to act on.
	Forbidden []ForbiddenData `json:"forbidden,omitempty"`
}

// ForbiddenData is data of a forbidden category found in one column of an
// access package.
type ForbiddenData struct {
	Column   string `json:"column"`
	Category string `json:"category"`
	Values   int64  `json:"values"` // how many of the column's values hold it
}

// ColumnDoc describes one exported column.
type ColumnDoc struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Category string `json:"category,omitempty"`
}

// Manifest is manifest.json of an access package: what the policy promises
// to tell a subject (GDPR art. 15), next to their data.
type Manifest struct {
	Organization string         `json:"organization"`
	Contact      string         `json:"contact"`
	RequestID    string         `json:"request_id"`
	Type         Type           `json:"type"`
	GeneratedAt  time.Time      `json:"generated_at"`
	Tables       []TablePackage `json:"tables"`
	Rights       []string       `json:"rights"`
	RequestURL   string         `json:"request_url,omitempty"`
}

func (s *Service) access(ctx context.Context, plan *Plan, r *Request, cs *conns, progress func(Progress)) (*Result, error) {
	if s.ExportDir == "" {
		return nil, fmt.Errorf("dsr: no export directory configured")
	}
	if err := os.MkdirAll(s.ExportDir, 0o700); err != nil {
		return nil, fmt.Errorf("dsr: create export directory: %w", err)
	}
	// Services first: if one answers later, nothing is written until it has.
	services, err := s.callServices(ctx, plan, r, Access)
	if err != nil {
		return nil, err
	}
	name := r.ID + ".zip"
	final := filepath.Join(s.ExportDir, name)
	tmp, err := os.CreateTemp(s.ExportDir, r.ID+".*.partial")
	if err != nil {
		return nil, fmt.Errorf("dsr: create export: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	buf := bufio.NewWriterSize(tmp, 256<<10)
	zw := zip.NewWriter(buf)
	// Fastest deflate: JSON still shrinks several times, and compression
	// was a third of an export's CPU at the default level.
	zw.RegisterCompressor(zip.Deflate, newDeflater)

	man := Manifest{
		Organization: s.Policy.Organization.Name,
		Contact:      s.Policy.Organization.Contacts.Privacy,
		RequestID:    r.ID,
		Type:         r.Type,
		GeneratedAt:  s.now(),
		Rights:       s.Policy.Rights.Offered,
		RequestURL:   s.Policy.Rights.RequestURL,
	}
	res := &Result{Rows: map[string]int64{}}
	for i, st := range plan.Steps {
		tp, err := s.exportStep(ctx, zw, plan, st, r, cs, func(n int64) {
			progress(Progress{Step: st.ID(), Index: i + 1, Total: len(plan.Steps), Rows: n})
		})
		if err != nil {
			return nil, err
		}
		progress(Progress{Step: st.ID(), Index: i + 1, Total: len(plan.Steps), Rows: tp.Rows, Done: true})
		res.Rows[st.ID()] = tp.Rows
		if tp.Rows > 0 {
			res.Found = true
		}
		man.Tables = append(man.Tables, tp)
	}
	for _, sv := range plan.Services {
		answer := services[sv.System]
		if answer == nil {
			continue
		}
		tp := s.describeService(sv)
		tp.File, tp.Rows = "data/"+sv.System+".json", answer.Records
		doc := map[string]any{"system": sv.System, "records": answer.Records, "data": answer.Data}
		if err := writeJSON(zw, tp.File, doc, man.GeneratedAt); err != nil {
			return nil, err
		}
		res.Rows[sv.System] = answer.Records
		res.Found = res.Found || answer.Records > 0
		man.Tables = append(man.Tables, tp)
	}
	if err := writeJSON(zw, "manifest.json", man, man.GeneratedAt); err != nil {
		return nil, err
	}
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "index.html", Method: zip.Deflate, Modified: man.GeneratedAt})
	if err != nil {
		return nil, fmt.Errorf("dsr: write export: %w", err)
	}
	if err := summaryHTML.Execute(w, man); err != nil {
		return nil, fmt.Errorf("dsr: write export summary: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("dsr: write export: %w", err)
	}
	if err := buf.Flush(); err != nil {
		return nil, fmt.Errorf("dsr: write export: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("dsr: write export: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("dsr: write export: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return nil, fmt.Errorf("dsr: write export: %w", err)
	}
	exp := s.now().Add(s.exportTTL())
	res.Export, res.ExportExpires = name, &exp
	var total int64
	for _, n := range res.Rows {
		total += n
	}
	if res.Found {
		res.Message = fmt.Sprintf("exported %d rows from %d tables", total, countNonZero(res.Rows))
	} else {
		res.Message = "no data found for this subject; the package says so"
	}
	var forbidden []string
	for _, tp := range man.Tables {
		for _, f := range tp.Forbidden {
			forbidden = append(forbidden, fmt.Sprintf("%s:%s.%s holds %s (%d values)", tp.System, tp.Table, f.Column, f.Category, f.Values))
		}
	}
	if len(forbidden) > 0 {
		// The policy's promise is broken: say so where the company looks
		// (the request's result, the audit log, the log), never the values.
		res.Message += "; data the policy says is never held was found and is listed in the package: " + strings.Join(forbidden, "; ")
		s.event(ctx, r, "request.forbidden_data", map[string]any{"found": forbidden})
		s.log().Error("dsr: an access package holds data the policy promises is never held", "request", r.ID, "found", forbidden)
	}
	return res, nil
}

// forbiddenCheck runs the content detectors over exported values, looking
// for the categories the policy promises never to hold.
type forbiddenCheck struct {
	p      *policy.Policy
	sc     *detect.Scanner
	hits   []detect.Hit
	counts []map[string]int64 // per column: category → values
	text   []byte
}

func newForbiddenCheck(p *policy.Policy, cols int) *forbiddenCheck {
	if len(p.Forbidden) == 0 {
		return nil
	}
	// Only what a detector is sure of (a card in a card's layout, a
	// token's format): a package tells the person, and one number in ten
	// passes a checksum by chance.
	return &forbiddenCheck{p: p, sc: detect.NewScanner(detect.WithMinConfidence(0.9)), counts: make([]map[string]int64, cols)}
}

func (f *forbiddenCheck) check(col int, v any) {
	switch x := v.(type) {
	case string:
		f.text = append(f.text[:0], x...)
	case []byte:
		f.text = append(f.text[:0], x...)
	default:
		// Numbers are left out, as the content scan leaves them: keys and
		// amounts pass checksums by chance.
		return
	}
	f.hits = f.sc.Scan(f.text, f.hits[:0])
	var seen []string
	for _, h := range f.hits {
		if !f.p.IsForbidden(h.Category) || slices.Contains(seen, h.Category) {
			continue
		}
		seen = append(seen, h.Category)
		if f.counts[col] == nil {
			f.counts[col] = map[string]int64{}
		}
		f.counts[col][h.Category]++
	}
}

func (f *forbiddenCheck) found(col int, name string) []ForbiddenData {
	var out []ForbiddenData
	for _, cat := range slices.Sorted(maps.Keys(f.counts[col])) {
		out = append(out, ForbiddenData{Column: name, Category: cat, Values: f.counts[col][cat]})
	}
	return out
}

func countNonZero(m map[string]int64) int {
	n := 0
	for _, v := range m {
		if v > 0 {
			n++
		}
	}
	return n
}

func (s *Service) exportTTL() time.Duration {
	if s.ExportTTL > 0 {
		return s.ExportTTL
	}
	return 7 * 24 * time.Hour
}

// ExportLink returns a token for downloading a completed request's access
// package, valid until the package expires.
func (s *Service) ExportLink(r *Request) (string, error) {
	if r.Result == nil || r.Result.Export == "" || r.Result.ExportExpires == nil {
		return "", fmt.Errorf("dsr: request %s has no access package: %w", r.ID, ErrState)
	}
	if !s.now().Before(*r.Result.ExportExpires) {
		return "", fmt.Errorf("dsr: the access package of %s has expired: %w", r.ID, ErrState)
	}
	return s.Keys.Token("dsr export", []byte(r.ID), *r.Result.ExportExpires), nil
}

// OpenExport checks a download token and opens the package it grants.
// ErrPackageGone: the access package a link points to has been deleted
// (expired, purged, or its subject erased).
var ErrPackageGone = errors.New("the access package is gone")

func (s *Service) OpenExport(ctx context.Context, token string) (*os.File, *Request, error) {
	id, err := s.Keys.OpenToken("dsr export", token, s.now())
	if err != nil {
		return nil, nil, err
	}
	r, err := s.Get(ctx, string(id))
	if err != nil {
		return nil, nil, err
	}
	if r.Result == nil || r.Result.Export == "" {
		return nil, nil, fmt.Errorf("dsr: request %s has no access package (it expired, or the person was erased since): %w", r.ID, ErrPackageGone)
	}
	f, err := os.Open(filepath.Join(s.ExportDir, filepath.Base(r.Result.Export)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("dsr: the access package of request %s is no longer on disk: %w", r.ID, ErrPackageGone)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("dsr: open access package: %w", err)
	}
	s.event(ctx, r, "request.export_downloaded", nil)
	return f, r, nil
}

// PurgeExports deletes the access packages past their expiry and returns
// how many it removed. It goes by the files in ExportDir, not by a list of
// requests, so that no package outlives its expiry however many requests
// there are; with them go packages whose request is gone or names another
// file (a run that crashed between writing and recording it), and partial
// packages a crashed run left behind — each holds a person's data.
func (s *Service) PurgeExports(ctx context.Context) (int, error) {
	entries, err := os.ReadDir(s.ExportDir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("dsr: purge exports: %w", err)
	}
	n := 0
	for _, e := range entries {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		name := e.Name()
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		// A file written to in the last hour may be a run's: left alone.
		settled := s.now().Sub(info.ModTime()) > time.Hour
		var r *Request
		switch {
		case strings.HasSuffix(name, ".partial"):
			if !settled {
				continue
			}
		case strings.HasSuffix(name, ".zip"):
			r, err = s.Get(ctx, strings.TrimSuffix(name, ".zip"))
			switch {
			case errors.Is(err, ErrNotFound):
				if !settled {
					continue
				}
				r = nil
			case err != nil:
				return n, err
			case !r.Status.Final():
				continue // still running, or to be resumed: its package is its own
			case r.Result != nil && r.Result.Export == name && r.Result.ExportExpires != nil && s.now().Before(*r.Result.ExportExpires):
				continue // not expired
			}
		default:
			continue
		}
		if err := os.Remove(filepath.Join(s.ExportDir, name)); err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return n, fmt.Errorf("dsr: purge export %s: %w", name, err)
		}
		n++
		if r != nil {
			s.event(ctx, r, "request.export_purged", nil)
		} else {
			s.log().InfoContext(ctx, "dsr: removed a package no request records", "file", name)
		}
	}
	return n, nil
}

// exportStep streams the subject's rows of one table into the package as
// data/<system>/<table>.json, one row at a time.
func (s *Service) exportStep(ctx context.Context, zw *zip.Writer, plan *Plan, st *Step, r *Request, cs *conns, progress func(int64)) (TablePackage, error) {
	tp := s.describe(plan, st)
	tp.File = "data/" + st.System + "/" + st.Table + ".json"
	c, err := cs.get(ctx, st.System)
	if err != nil {
		return tp, err
	}
	d := c.Dialect()
	where, args := plan.Where(st, r.Identities, r.keys)
	sel := "*"
	if st.Role == RoleMention {
		// Someone else's rows: only the columns that name the subject are
		// theirs to see, never the rest of the row.
		tp.File = "data/" + st.System + "/" + st.Table + "." + strings.Join(st.Mention, ",") + ".json"
		tp.Mention = strings.Join(st.Mention, ", ")
		sel = colList(d, st.Mention)
	}
	q := "SELECT " + sel + " FROM " + d.Ident(st.Table) + " WHERE " + where
	t := s.Policy.System(st.System).Table(st.Table)
	labels := map[string]*policy.Field{} // "column.label" → the labelled field's label column
	if st.Role == RoleSubject {
		q, args, labels = s.withLabels(d, plan, st, r, t, q, args)
	}
	rows, err := c.DB().QueryContext(ctx, q, args...)
	if err != nil {
		return tp, c.Translate(ctx, "read "+st.ID(), err)
	}
	defer rows.Close()
	cols, err := rows.ColumnTypes()
	if err != nil {
		return tp, c.Translate(ctx, "read "+st.ID(), err)
	}
	var live *connector.Table
	if sc, err := s.schema(ctx, st.System, c); err == nil {
		live = sc.Table(st.Table)
	}
	keep := make([]bool, len(cols))
	var docs []ColumnDoc
	// dbTypes are the types the values are read by: the driver's, or for
	// a type it names by number, the schema's base type (an array of a
	// domain over timestamp is an array of timestamps).
	dbTypes := make([]string, len(cols))
	for i, ct := range cols {
		doc := ColumnDoc{Name: ct.Name(), Type: strings.ToLower(ct.DatabaseTypeName())}
		dbTypes[i] = doc.Type
		if lc := live.Column(ct.Name()); lc != nil && strings.Trim(doc.Type, "0123456789") == "" {
			// PostgreSQL names a user type (an enum, a domain's array) by
			// its number.
			doc.Type, dbTypes[i] = lc.Type, lc.Base()
		}
		if f := t.Field(ct.Name()); f != nil {
			doc.Category = f.Category
		} else if f := labels[ct.Name()]; f != nil {
			doc.Category = f.Category
		}
		docs = append(docs, doc)
		if withheld(doc.Category) {
			tp.Withheld = append(tp.Withheld, doc.Name)
			continue
		}
		keep[i] = true
		tp.Columns = append(tp.Columns, doc)
	}
	modified := s.now()
	w := newOffload(func(whole []byte) (io.Writer, error) {
		if whole != nil && len(whole) < storeBelow {
			// A few rows: deflating them saves a few hundred bytes and
			// costs more than reading them (a compressor's setup and its
			// final block, per file). Written raw, with its checksum and
			// sizes in its header: an entry stored with a data descriptor
			// after it (what CreateHeader writes) is refused by Java's
			// ZipInputStream and other streaming readers.
			return zw.CreateRaw(storedHeader(tp.File, modified, whole))
		}
		return zw.CreateHeader(&zip.FileHeader{Name: tp.File, Method: zip.Deflate, Modified: modified})
	})
	defer w.Close() // on an early return; the normal path checks Close below
	hdr := map[string]any{"system": st.System, "table": st.Table, "columns": tp.Columns}
	if tp.Mention != "" {
		hdr["mention"] = "rows of other people that name you in " + tp.Mention + "; only those columns are shown"
	}
	head, _ := json.Marshal(hdr)
	// The file is {"system":…,"table":…,"columns":[…],"rows":[…]}: the
	// header's closing brace is replaced by the streamed rows.
	if _, err := w.Write(append(head[:len(head)-1], []byte(`,"rows":[`)...)); err != nil {
		return tp, fmt.Errorf("dsr: write export: %w", err)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	// How each column's values are written: the database type the driver
	// reports, and the type the schema declares (a MariaDB JSON column is
	// a longtext with a json_valid check; a tinyint(1) is a boolean).
	rcols := make([]rowjson.Column, len(cols))
	// Wall times (PostgreSQL timestamp, MySQL DATETIME) are the instants
	// they name in the zone the system's times are in; where that is not
	// known the package would state times hours off, and the request
	// stops (connector.ZoneOf).
	var zone *time.Location
	if d.Kind() != "sqlite" && slices.ContainsFunc(dbTypes, func(typ string) bool {
		return strings.TrimSuffix(strings.TrimPrefix(typ, "_"), "[]") != "date" && connector.Wall(d.Kind(), typ, [2]string{})
	}) {
		if zone, err = cs.zone(ctx, st.System); err != nil {
			return tp, fmt.Errorf("dsr: read %s: %w", st.ID(), err)
		}
	}
	for i, ct := range cols {
		rcols[i] = rowjson.Column{DatabaseType: dbTypes[i], Kind: d.Kind(), Location: zone}
		if lc := live.Column(ct.Name()); lc != nil {
			rcols[i].DeclaredType = lc.Base()
			if d.Kind() == "mysql" && jsonChecked(live, lc.Name) {
				rcols[i].DeclaredType = "json"
			}
		}
	}
	// Each row is an object with the columns in table order; the keys are
	// encoded once, and a buffer is reused, since this loop is the export.
	names := make([][]byte, len(cols))
	for i, ct := range cols {
		k, _ := json.Marshal(ct.Name())
		names[i] = append(k, ':')
	}
	fb := newForbiddenCheck(s.Policy, len(cols))
	var b []byte
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return tp, c.Translate(ctx, "read "+st.ID(), err)
		}
		if fb != nil {
			for i := range cols {
				if keep[i] {
					fb.check(i, vals[i])
				}
			}
		}
		b = b[:0]
		if tp.Rows > 0 {
			b = append(b, ',')
		}
		b = append(b, '\n', '{')
		first := true
		for i := range cols {
			if !keep[i] {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, names[i]...)
			if b, err = rowjson.Append(b, vals[i], rcols[i]); err != nil {
				return tp, fmt.Errorf("dsr: encode row of %s: %w", st.ID(), err)
			}
		}
		b = append(b, '}')
		if _, err := w.Write(b); err != nil {
			return tp, fmt.Errorf("dsr: write export: %w", err)
		}
		tp.Rows++
		if tp.Rows%10000 == 0 {
			progress(tp.Rows)
		}
	}
	if err := rows.Err(); err != nil {
		return tp, c.Translate(ctx, "read "+st.ID(), err)
	}
	if _, err := w.Write([]byte("\n]}\n")); err != nil {
		return tp, fmt.Errorf("dsr: write export: %w", err)
	}
	if err := w.Close(); err != nil {
		return tp, fmt.Errorf("dsr: write export: %w", err)
	}
	if fb != nil {
		for i, ct := range cols {
			tp.Forbidden = append(tp.Forbidden, fb.found(i, ct.Name())...)
		}
	}
	return tp, nil
}

// withLabels wraps a step's SELECT so that each reference with a label
// (list_id with label: name) brings the label of the row it points to, as
// the column "list_id.name": the package then says which list, not only
// its number. It returns the query and the labelled columns' fields by
// their output name.
//
// A label that is personal data, in a table whose rows are people's
// (users.invited_by with label: name), is shown only where the row it
// names is the subject's own: another person's name is theirs, not the
// subject's to receive. args are the query's; the labels' conditions add
// theirs.
func (s *Service) withLabels(d connector.Dialect, plan *Plan, st *Step, r *Request, t *policy.Table, q string, args []any) (string, []any, map[string]*policy.Field) {
	var joins, sels []string
	out := map[string]*policy.Field{}
	for i, f := range t.Fields {
		if f.Label == "" || f.References == "" {
			continue
		}
		ref, err := policy.ParseRef(f.References)
		if err != nil {
			continue
		}
		sys, rt := s.Policy.LookupTable(policy.TableRef{System: ref.System, Table: ref.Table}, s.Policy.System(st.System))
		if rt == nil || sys.Name != st.System || withheld(fieldCategory(rt, f.Label)) {
			continue
		}
		alias := "vow_l" + strconv.Itoa(i)
		name := f.Name + "." + f.Label
		on := alias + "." + d.Column(ref.Column) + " = vow_s." + d.Column(f.Name)
		if lf := rt.Field(f.Label); lf != nil && rt.Subject != "" && s.Policy.Personal(lf) {
			own := plan.SubjectStep(sys.Name, rt.Name)
			if own == nil {
				continue // only ever other people's rows
			}
			var where string
			where, args = plan.WhereAfter(own, r.Identities, r.keys, args)
			on += " AND " + alias + "." + d.Column(ref.Column) + " IN (SELECT " + d.Column(ref.Column) + " FROM " + d.Ident(rt.Name) + " WHERE " + where + ")"
		}
		sels = append(sels, alias+"."+d.Column(f.Label)+" AS "+d.Column(name))
		joins = append(joins, " LEFT JOIN "+d.Ident(rt.Name)+" "+alias+" ON "+on)
		if lf := rt.Field(f.Label); lf != nil {
			out[name] = lf
		} else {
			out[name] = &policy.Field{Name: f.Label}
		}
	}
	if len(sels) == 0 {
		return q, args, out
	}
	return "SELECT vow_s.*, " + strings.Join(sels, ", ") + " FROM (" + q + ") vow_s" + strings.Join(joins, ""), args, out
}

func fieldCategory(t *policy.Table, column string) string {
	if f := t.Field(column); f != nil {
		return f.Category
	}
	return ""
}

// withheld reports whether a category is kept out of access packages:
// credentials and password hashes are the subject's data, but a copy of
// them in a mailbox is an account takeover waiting to happen.
func withheld(category string) bool {
	return category == "user.authorization" || strings.HasPrefix(category, "user.authorization.")
}

// jsonChecked reports whether a MariaDB column is JSON: MariaDB stores a
// JSON column as longtext with a json_valid check.
func jsonChecked(t *connector.Table, column string) bool {
	for _, c := range t.Checks {
		e := strings.ReplaceAll(strings.ToLower(c.Expr), "`", "")
		if e == "json_valid("+strings.ToLower(column)+")" {
			return true
		}
	}
	return false
}

// describe says what the policy promises about a table's data.
func (s *Service) describe(plan *Plan, st *Step) TablePackage {
	p := s.Policy
	sys := p.System(st.System)
	t := sys.Table(st.Table)
	tp := TablePackage{System: st.System, Table: st.Table}
	purposes := slices.Clone(sys.Purposes)
	for _, f := range t.Fields {
		if st.Role == RoleMention && !slices.Contains(st.Mention, f.Name) {
			continue // the rest of the row is someone else's
		}
		if f.Category != "" && !slices.Contains(tp.Categories, f.Category) {
			tp.Categories = append(tp.Categories, f.Category)
		}
		for _, pu := range f.Purposes {
			if !slices.Contains(purposes, pu) {
				purposes = append(purposes, pu)
			}
		}
	}
	sort.Strings(tp.Categories)
	tp.Purposes, tp.Processors = s.purposeLabels(purposes), s.recipients(tp.Categories)
	if st.Role == RoleSubject {
		tp.Retention = s.retentionOf(plan.own, st.System, st.Table, nil)
	}
	return tp
}

// retentionOf describes the retention rules that remove a table's rows:
// its own, or — for rows that go with the rows owning them (order lines
// with their order) — the rules of the tables that own them.
func (s *Service) retentionOf(own *policy.Ownership, system, table string, path []string) []string {
	p := s.Policy
	var out []string
	for _, rule := range p.Retention.Rules {
		rs, rt := p.LookupTable(policy.ParseTableRef(rule.Table), nil)
		if rt != nil && rs.Name == system && rt.Name == table {
			out = append(out, cmpOr(rule.Description, fmt.Sprintf("%s: kept %s from %s", rule.Name, rule.Keep, rule.From)))
		}
	}
	if len(out) > 0 || len(path) > 4 || slices.Contains(path, system+":"+table) {
		return out
	}
	path = append(path, system+":"+table)
	for _, r := range own.From(system, table) {
		if r.Role != policy.RoleOwner || r.ToSystem != system {
			continue
		}
		for _, d := range s.retentionOf(own, r.ToSystem, r.ToTable, path) {
			out = append(out, fmt.Sprintf("removed with the %s rows they belong to — %s", r.ToTable, d))
		}
	}
	return out
}

// describeService says what the policy promises about a webhook system's
// data.
func (s *Service) describeService(sv *ServiceStep) TablePackage {
	p := s.Policy
	sys := p.System(sv.System)
	tp := TablePackage{System: sv.System, Table: "(service)", Categories: slices.Sorted(slices.Values(sv.Categories))}
	tp.Purposes, tp.Processors = s.purposeLabels(sys.Purposes), s.recipients(tp.Categories)
	return tp
}

// purposeLabels names purposes for readers, with their legal basis.
func (s *Service) purposeLabels(keys []string) []string {
	var out []string
	for _, pu := range keys {
		label := pu
		if x := s.Policy.Purpose(pu); x != nil {
			label = fmt.Sprintf("%s (%s)", cmpOr(x.Title, pu), strings.ReplaceAll(x.LegalBasis, "_", " "))
		}
		out = append(out, label)
	}
	return out
}

// recipients names the processors that receive any of the categories.
func (s *Service) recipients(cats []string) []string {
	var out []string
	for _, pr := range s.Policy.Processors {
		if receives(pr, cats) {
			out = append(out, fmt.Sprintf("%s (%s)", pr.Name, pr.Location))
		}
	}
	return out
}

func receives(pr *policy.Processor, cats []string) bool {
	for _, pc := range pr.Categories {
		for _, c := range cats {
			if c == pc || strings.HasPrefix(c, pc+".") {
				return true
			}
		}
	}
	return false
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func writeJSON(zw *zip.Writer, name string, v any, now time.Time) error {
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: now})
	if err != nil {
		return fmt.Errorf("dsr: write export: %w", err)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("dsr: write export %s: %w", name, err)
	}
	return nil
}

//go:embed summary.html.tmpl
var summaryHTMLSource string

var summaryHTML = template.Must(template.New("summary").Parse(summaryHTMLSource))
