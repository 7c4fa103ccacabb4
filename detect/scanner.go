package detect

import "time"

// Hit is one match in a value. It says where the match is, never what it is:
// callers that need to show it use Mask on the bytes they already hold.
type Hit struct {
	Category   string  // taxonomy key, one of Categories()
	Detector   string  // which detector matched: "card", "email", "jwt", "iban", "bcrypt", …
	Confidence float64 // 0..1: how likely the match is what Category says
	// Path is the JSON key path of the matched value ("attribs.phone",
	// "items[].email": arrays are "[]", never an index; a key that is itself
	// data, such as an email used as a map key, is "*"), or "" for text.
	Path string
	// Start and End are byte offsets of the match in the scanned value (for
	// JSON: in the raw value, escapes included).
	Start, End int
}

// Option configures a Scanner.
type Option func(*config)

type config struct {
	minConfidence float64
	maxBytes      int
}

// WithMinConfidence drops hits below c (default 0: every hit, even the ones
// a detector reports as weak, such as a loopback address).
func WithMinConfidence(c float64) Option { return func(cfg *config) { cfg.minConfidence = c } }

// WithMaxBytes bounds how much of each value is scanned (default 1 MiB), so a
// multi-megabyte blob costs a bounded time; the rest of the value is ignored.
func WithMaxBytes(n int) Option {
	return func(cfg *config) {
		if n > 0 {
			cfg.maxBytes = n
		}
	}
}

// Scanner finds personal data in values. It is reusable and not safe for
// concurrent use: it keeps scratch buffers so that scanning a value without
// hits allocates nothing.
type Scanner struct {
	cfg     config
	maxYear int // latest plausible birth year: a data subject is at least 13

	base      int    // offset of the bytes being scanned within the value
	path      []byte // JSON key path of the value being scanned
	pathStr   string // path as a string, built when a hit needs it
	pathDirty bool

	dobAt    int  // end of the last birth-date context word in the text, or far before 0
	inAssign bool // scanning the value of a key=value: no nested assignments
	pemMiss  int  // end of a window known to hold no PEM END line

	unesc []byte  // unescaped JSON string
	offs  []int32 // offs[i]: raw offset of unesc[i]
	dec   []byte  // base64 scratch
	keys  map[string]ctx
	// keyCache fronts keys; see keyCtx.
	keyCache [256]keyEntry
}

// NewScanner returns a Scanner.
func NewScanner(opts ...Option) *Scanner {
	s := &Scanner{cfg: config{maxBytes: 1 << 20}, maxYear: time.Now().Year() - 13}
	for _, o := range opts {
		o(&s.cfg)
	}
	s.keys = make(map[string]ctx)
	s.dec = make([]byte, 0, 512)
	return s
}

// Scan appends the hits found in v to hits and returns the extended slice. A
// value that is a JSON object or array is walked key by key, so that key
// names give context ("ssn", "dob", "token") and hits carry their key path;
// anything else, log lines included, is scanned as text.
func (s *Scanner) Scan(v []byte, hits []Hit) []Hit {
	if len(v) > s.cfg.maxBytes {
		v = v[:s.cfg.maxBytes]
	}
	s.path = s.path[:0]
	s.pathStr, s.pathDirty = "", false
	s.base = 0
	if p := skipSpace(v, 0); p < len(v) && (v[p] == '{' || v[p] == '[') {
		n := len(hits)
		if out, ok := s.scanJSON(v, p, hits); ok {
			return out
		}
		hits = hits[:n]
		s.path = s.path[:0]
		s.pathStr, s.pathDirty = "", false
		s.base = 0
	}
	return s.scanText(v, 0, hits)
}

// hit appends a hit at [start, end) of the bytes being scanned.
func (s *Scanner) hit(hits []Hit, cat, det string, conf float64, start, end int) []Hit {
	if conf < s.cfg.minConfidence || end <= start {
		return hits
	}
	if s.pathDirty {
		if string(s.path) != s.pathStr {
			s.pathStr = string(s.path)
		}
		s.pathDirty = false
	}
	return append(hits, Hit{Category: cat, Detector: det, Confidence: conf, Path: s.pathStr, Start: s.base + start, End: s.base + end})
}

// scanText scans v as free text; c is the context its key gave it, if any.
func (s *Scanner) scanText(v []byte, c ctx, hits []Hit) []Hit {
	s.dobAt = -1 << 30
	s.pemMiss = 0
	return s.scanRange(v, 0, c, hits)
}

// scanRange scans v[i:]; detectors may look back before i for context.
func (s *Scanner) scanRange(v []byte, i int, c ctx, hits []Hit) []Hit {
	n := len(v)
	for i < n {
		k := class[v[i]]
		if k&cTrig == 0 {
			i++
			continue
		}
		var next int
		if k&cLower != 0 {
			// The common case, a lower-case word: skip it unless its first
			// two letters can start a detector or a key=value follows.
			j := i + 1
			for j < n && class[v[j]]&cWord != 0 {
				j++
			}
			if (j == n || !wordFollow[v[j]]) && (j-i == 1 || lowerSecond[v[i]]&letterBit(v[i+1]) == 0) {
				i = j
				continue
			}
		}
		if k&cWord != 0 {
			hits, next = s.word(v, i, c, hits)
		} else {
			hits, next = s.punct(v, i, c, hits)
		}
		if next <= i {
			next = i + 1
		}
		i = next
	}
	return hits
}

// word dispatches on a word (letters, digits, '_', non-ASCII bytes) that
// starts at i and returns where scanning resumes.
func (s *Scanner) word(v []byte, i int, c ctx, hits []Hit) ([]Hit, int) {
	j := i + 1
	for _, b := range v[j:] {
		if class[b]&cWord == 0 {
			break
		}
		j++
	}
	b := v[i]
	if j-i <= 4 && j < len(v) && v[j] == ':' && class[b]&cHex != 0 {
		if out, e := s.ipv6(v, i, hits); e > i {
			return out, e
		}
	}
	if class[b]&cDigit != 0 {
		return s.numeric(v, i, j, c, hits)
	}
	return s.alpha(v, i, j, c, hits)
}

// punct dispatches on the non-word anchor bytes.
func (s *Scanner) punct(v []byte, i int, c ctx, hits []Hit) ([]Hit, int) {
	switch v[i] {
	case '@':
		return s.email(v, i, hits)
	case '+':
		if i+1 < len(v) && isDigit(v[i+1]) && (i == 0 || class[v[i-1]]&cWord == 0) {
			return s.phoneE164(v, i, c, hits)
		}
	case '(':
		if i+1 < len(v) && isDigit(v[i+1]) {
			return s.phoneParen(v, i, c, hits)
		}
	case '$':
		return s.cryptHash(v, i, hits)
	case '-':
		if i+10 < len(v) && v[i+1] == '-' {
			return s.pem(v, i, hits)
		}
	case ':':
		if i+1 < len(v) && v[i+1] == ':' && (i == 0 || class[v[i-1]]&(cHex|cWord) == 0) {
			return s.ipv6(v, i, hits)
		}
	}
	return hits, i + 1
}

// alpha dispatches on a word that starts with a letter (or a non-ASCII byte).
func (s *Scanner) alpha(v []byte, i, j int, c ctx, hits []Hit) ([]Hit, int) {
	b := v[i]
	k := class[b]
	n := len(hits)
	var e int
	if k&cUpper != 0 {
		hits, e = s.upperWord(v, i, j, c, hits)
	} else if k&cLower != 0 {
		hits, e = s.lowerWord(v, i, j, c, hits)
	}
	if len(hits) > n {
		return hits, e
	}
	if j-i >= 3 && j-i <= 14 && birthStart[b] && isBirthWord(v[i:j]) {
		s.dobAt = j
	}
	if j < len(v) && !s.inAssign {
		switch v[j] {
		case '=', ':', '"', '\'':
			return s.assignment(v, i, j, hits)
		}
	}
	return hits, j
}

// lowerSecond[a] has bit b-'a' set when a lower-case word starting with
// the letters a, b may start a detector (a token prefix, a birth-date word).
var lowerSecond = func() (t [256]uint32) {
	for _, p := range []string{"gh", "gi", "gl", "xo", "xa", "sk", "rk", "ya", "np", "ey", "be", "pb",
		"do", "bi", "bo", "bd", "ge", "na", "fe", "fo"} {
		t[p[0]] |= 1 << (p[1] - 'a')
	}
	return t
}()

func letterBit(b byte) uint32 {
	if b-'a' < 26 {
		return 1 << (b - 'a')
	}
	if b-'A' < 26 {
		return 1 << (b - 'A')
	}
	return 0
}

// wordFollow are the bytes after a word that make it interesting whatever
// it is: an assignment, or the ':' of an IPv6 group.
var wordFollow = [256]bool{'=': true, ':': true, '"': true, '\'': true}

// birthStart holds the first letters of the words isBirthWord accepts.
var birthStart = [256]bool{'d': true, 'D': true, 'b': true, 'B': true, 'g': true, 'G': true, 'n': true, 'N': true, 'f': true, 'F': true}

func skipSpace(v []byte, p int) int {
	for p < len(v) && (v[p] == ' ' || v[p] == '\t' || v[p] == '\n' || v[p] == '\r') {
		p++
	}
	return p
}

// Character classes, one table lookup per byte on the hot path.
const (
	cDigit = 1 << iota
	cUpper
	cLower
	cHex
	cWord  // letters, digits, '_', and bytes of multi-byte UTF-8
	cTrig  // bytes a detector may start at
	cB64   // base64 and base64url alphabet, '=' padding included
	cLocal // email local part
)

var class = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		var k uint8
		switch {
		case c >= '0' && c <= '9':
			k = cDigit | cHex | cWord | cTrig | cB64 | cLocal
		case c >= 'A' && c <= 'Z':
			k = cUpper | cWord | cTrig | cB64 | cLocal
			if c <= 'F' {
				k |= cHex
			}
		case c >= 'a' && c <= 'z':
			k = cLower | cWord | cTrig | cB64 | cLocal
			if c <= 'f' {
				k |= cHex
			}
		case c == '_':
			k = cWord | cTrig | cB64 | cLocal
		case c >= 0x80:
			k = cWord | cTrig
		case c == '-':
			k = cTrig | cB64 | cLocal
		case c == '+':
			k = cTrig | cB64 | cLocal
		case c == '/' || c == '=':
			k = cB64
		case c == '.' || c == '%':
			k = cLocal
		case c == '@' || c == '(' || c == '$' || c == ':':
			k = cTrig
		}
		t[c] = k
	}
	return t
}()

func isDigit(b byte) bool { return b-'0' < 10 }
func isUpper(b byte) bool { return b-'A' < 26 }
func isLower(b byte) bool { return b-'a' < 26 }
func isAlnum(b byte) bool { return class[b]&(cDigit|cUpper|cLower) != 0 }
func isWord(b byte) bool  { return class[b]&cWord != 0 }
func lower(b byte) byte {
	if isUpper(b) {
		return b + 32
	}
	return b
}

// wordAt reports whether the byte before i and the byte at j leave [i, j) a
// whole token: no letter or digit glued to either side.
func boundary(v []byte, i, j int) bool {
	return (i == 0 || !isAlnum(v[i-1])) && (j >= len(v) || !isAlnum(v[j]))
}

// digitsEnd returns the end of the run of ASCII digits starting at p.
func digitsEnd(v []byte, p int) int {
	for p < len(v) && isDigit(v[p]) {
		p++
	}
	return p
}

// hasPrefixFold reports whether v[i:] starts with the lower-case ASCII p,
// ignoring case.
func hasPrefixFold(v []byte, i int, p string) bool {
	if len(v)-i < len(p) {
		return false
	}
	for k := 0; k < len(p); k++ {
		if lower(v[i+k]) != p[k] {
			return false
		}
	}
	return true
}

func hasPrefix(v []byte, i int, p string) bool {
	return len(v)-i >= len(p) && string(v[i:i+len(p)]) == p
}

func atoi(v []byte) int {
	n := 0
	for _, b := range v {
		n = n*10 + int(b-'0')
	}
	return n
}
