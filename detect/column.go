package detect

import (
	"cmp"
	"slices"
	"unicode/utf8"
)

// Column aggregates the hits over the sampled values of one database
// column. The zero value is ready to use; a Column is not safe for
// concurrent use.
type Column struct {
	// Scanner scans the values; nil means NewScanner().
	Scanner *Scanner

	values int
	opaque int
	// groups is a slice searched in order, not a map: a column has a few
	// groups, and hashing three strings per hit cost more than the search.
	groups []*group
	hits   []Hit
	// seen remembers what short values held, so that a value met again
	// (a status, a country, a first name) is counted without a scan.
	seen map[string]seenValue
}

// seenValue is what a remembered value held.
type seenValue struct {
	hits   []seenHit
	opaque bool
}

// seenHit is one group a remembered value counted in, with its best
// confidence there.
type seenHit struct {
	g    *group
	best float64
}

// Values up to seenMaxLen bytes are remembered, up to seenMax of them: a
// column of few distinct values fills the memory with them early, and one
// of unique values stops paying for it.
const (
	seenMaxLen = 64
	seenMax    = 4096
)

type groupKey struct{ category, detector, path string }

type group struct {
	groupKey
	matched int
	sumConf float64
	example string
}

// group returns the group of k, or nil.
func (c *Column) group(k groupKey) *group {
	for _, g := range c.groups {
		if g.groupKey == k {
			return g
		}
	}
	return nil
}

// Finding is what a column holds according to its content: one per
// category, detector and JSON path seen.
type Finding struct {
	Category string `json:"category"`
	Detector string `json:"detector"`
	Path     string `json:"path,omitempty"` // JSON key path, or "" for text
	// Confidence is the mean, over the matched values, of the best hit's
	// confidence in each: how sure the detector is when it matches, not
	// how much of the column matched (that is HitRate).
	Confidence float64 `json:"confidence"`
	Values     int     `json:"values"`   // non-null values scanned
	Matched    int     `json:"matched"`  // values with at least one hit of this category, detector and path
	HitRate    float64 `json:"hit_rate"` // Matched / Values
	Example    string  `json:"example"`  // masked example (Mask), never the value itself
}

// Add scans one value; nil is SQL NULL and is not counted.
func (c *Column) Add(v []byte) {
	if v == nil {
		return
	}
	if c.Scanner == nil {
		c.Scanner = NewScanner()
	}
	c.values++
	if len(v) <= seenMaxLen {
		if sv, ok := c.seen[string(v)]; ok {
			for _, h := range sv.hits {
				h.g.matched++
				h.g.sumConf += h.best
			}
			if sv.opaque {
				c.opaque++
			}
			return
		}
	}
	c.hits = c.Scanner.Scan(v, c.hits[:0])
	// A value something was found in was readable: only the others are
	// looked at for ciphertext.
	opaque := len(c.hits) == 0 && Opaque(v)
	if opaque {
		c.opaque++
	}
	keep := len(v) <= seenMaxLen && len(c.seen) < seenMax
	var remember []seenHit
	for k, h := range c.hits {
		key := groupKey{h.Category, h.Detector, h.Path}
		best, first := h.Confidence, true
		for _, o := range c.hits[:k] {
			if o.Category == h.Category && o.Detector == h.Detector && o.Path == h.Path {
				first = false
			}
		}
		if !first {
			continue
		}
		for _, o := range c.hits[k+1:] {
			if o.Category == h.Category && o.Detector == h.Detector && o.Path == h.Path {
				best = max(best, o.Confidence)
			}
		}
		g := c.group(key)
		if g == nil {
			g = &group{groupKey: key, example: Mask(h.Category, h.Detector, string(v[h.Start:h.End]))}
			c.groups = append(c.groups, g)
		}
		g.matched++
		g.sumConf += best
		if keep {
			remember = append(remember, seenHit{g, best})
		}
	}
	if keep {
		if c.seen == nil {
			c.seen = make(map[string]seenValue)
		}
		c.seen[string(v)] = seenValue{remember, opaque}
	}
}

// Merge adds what o counted to c, so that a column scanned in parts (by
// several goroutines, each with its own Column) reports as one. The
// example of a finding both saw is c's.
func (c *Column) Merge(o *Column) {
	c.values += o.values
	c.opaque += o.opaque
	for _, g := range o.groups {
		if m := c.group(g.groupKey); m != nil {
			m.matched += g.matched
			m.sumConf += g.sumConf
			continue
		}
		cp := *g
		c.groups = append(c.groups, &cp)
	}
}

// Opaque is how many of the values added look encrypted, encoded or
// binary (see [Opaque]).
func (c *Column) Opaque() int { return c.opaque }

// Opaque reports whether a value looks encrypted, encoded or binary rather
// than written: not UTF-8, or a long run of base64 characters with no
// space or @ (a Rails or Laravel encrypted attribute, a ciphertext in hex).
// A column of such values says nothing by holding no email: its emails
// may be inside.
func Opaque(v []byte) bool {
	if !utf8.Valid(v) {
		return true
	}
	run, longest := 0, 0
	for _, b := range v[:min(len(v), 64)] {
		switch {
		case b == ' ' || b == '@':
			return false
		case isAlnum(b) || b == '+' || b == '/' || b == '=' || b == '-' || b == '_':
			run++
			longest = max(longest, run)
		default:
			run = 0
		}
	}
	return longest >= 24
}

// Values is the number of non-null values added.
func (c *Column) Values() int { return c.values }

// Findings returns what the column's values held, by hit rate, then
// confidence (both descending), then category, detector and path.
func (c *Column) Findings() []Finding {
	out := make([]Finding, 0, len(c.groups))
	for _, g := range c.groups {
		out = append(out, Finding{
			Category:   g.category,
			Detector:   g.detector,
			Path:       g.path,
			Confidence: g.sumConf / float64(g.matched),
			Values:     c.values,
			Matched:    g.matched,
			HitRate:    float64(g.matched) / float64(c.values),
			Example:    g.example,
		})
	}
	slices.SortFunc(out, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(b.HitRate, a.HitRate),
			cmp.Compare(b.Confidence, a.Confidence),
			cmp.Compare(a.Category, b.Category),
			cmp.Compare(a.Detector, b.Detector),
			cmp.Compare(a.Path, b.Path),
		)
	})
	return out
}
