package detect

import "unicode/utf8"

// maxDepth bounds JSON nesting: deeper documents are scanned as text rather
// than walked, so a value of a million '[' costs no more than its length.
const maxDepth = 256

// scanJSON walks the JSON object or array at p, scanning every string and
// number under the context of its key. It reports !ok when v is not valid
// JSON; the caller then discards the hits and scans v as text.
func (s *Scanner) scanJSON(v []byte, p int, hits []Hit) ([]Hit, bool) {
	hits, p, ok := s.jsonValue(v, p, 0, 0, hits)
	if !ok {
		return hits, false
	}
	return hits, skipSpace(v, p) == len(v)
}

func (s *Scanner) jsonValue(v []byte, p int, c ctx, depth int, hits []Hit) ([]Hit, int, bool) {
	p = skipSpace(v, p)
	if p >= len(v) || depth > maxDepth {
		return hits, p, false
	}
	switch b := v[p]; {
	case b == '{':
		return s.jsonObject(v, p, depth, hits)
	case b == '[':
		return s.jsonArray(v, p, c, depth, hits)
	case b == '"':
		e, esc, ok := jsonString(v, p)
		if !ok {
			return hits, e, false
		}
		return s.scanString(v, p+1, e-1, esc, c, hits), e, true
	case b == 't':
		return hits, p + 4, hasPrefix(v, p, "true")
	case b == 'f':
		return hits, p + 5, hasPrefix(v, p, "false")
	case b == 'n':
		return hits, p + 4, hasPrefix(v, p, "null")
	case b == '-' || isDigit(b):
		e := jsonNumber(v, p)
		if e < 0 {
			return hits, p, false
		}
		n := len(hits)
		s.base = p
		hits = s.scanText(v[p:e], c, hits)
		hits = s.contextValue(v[p:e], 0, e-p, c, true, hits, n)
		s.base = 0
		return hits, e, true
	}
	return hits, p, false
}

func (s *Scanner) jsonObject(v []byte, p int, depth int, hits []Hit) ([]Hit, int, bool) {
	p = skipSpace(v, p+1)
	if p < len(v) && v[p] == '}' {
		return hits, p + 1, true
	}
	for {
		if p >= len(v) || v[p] != '"' {
			return hits, p, false
		}
		e, esc, ok := jsonString(v, p)
		if !ok {
			return hits, e, false
		}
		key := v[p+1 : e-1]
		c := s.keyCtx(key)
		if esc {
			c = ctxOpaque
		}
		old := len(s.path)
		if old > 0 {
			s.path = append(s.path, '.')
		}
		if c&ctxOpaque != 0 {
			// The key is data (an email keying a map): scan it, and keep
			// it out of the path.
			s.path = append(s.path, '*')
			s.pathDirty = true
			hits = s.scanString(v, p+1, e-1, esc, 0, hits)
			c = 0
		} else {
			s.path = append(s.path, key...)
			s.pathDirty = true
		}
		p = skipSpace(v, e)
		if p >= len(v) || v[p] != ':' {
			return hits, p, false
		}
		hits, p, ok = s.jsonValue(v, p+1, c, depth+1, hits)
		s.path = s.path[:old]
		s.pathDirty = true
		if !ok {
			return hits, p, false
		}
		p = skipSpace(v, p)
		if p >= len(v) {
			return hits, p, false
		}
		if v[p] == '}' {
			return hits, p + 1, true
		}
		if v[p] != ',' {
			return hits, p, false
		}
		p = skipSpace(v, p+1)
	}
}

// jsonArray walks an array; its elements inherit the context of the key
// that holds it ("phones": [...]).
func (s *Scanner) jsonArray(v []byte, p int, c ctx, depth int, hits []Hit) ([]Hit, int, bool) {
	old := len(s.path)
	s.path = append(s.path, "[]"...)
	s.pathDirty = true
	defer func() {
		s.path = s.path[:old]
		s.pathDirty = true
	}()
	p = skipSpace(v, p+1)
	if p < len(v) && v[p] == ']' {
		return hits, p + 1, true
	}
	for {
		var ok bool
		hits, p, ok = s.jsonValue(v, p, c, depth+1, hits)
		if !ok {
			return hits, p, false
		}
		p = skipSpace(v, p)
		if p >= len(v) {
			return hits, p, false
		}
		if v[p] == ']' {
			return hits, p + 1, true
		}
		if v[p] != ',' {
			return hits, p, false
		}
		p++
	}
}

// jsonString validates the string at p (an opening quote) and returns the
// offset after its closing quote and whether it holds escapes.
func jsonString(v []byte, p int) (int, bool, bool) {
	esc := false
	for k := p + 1; k < len(v); k++ {
		switch b := v[k]; {
		case b == '"':
			return k + 1, esc, true
		case b == '\\':
			esc = true
			if k+1 >= len(v) {
				return k, esc, false
			}
			switch v[k+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				k++
			case 'u':
				if k+5 >= len(v) {
					return k, esc, false
				}
				for _, h := range v[k+2 : k+6] {
					if class[h]&cHex == 0 {
						return k, esc, false
					}
				}
				k += 5
			default:
				return k, esc, false
			}
		case b < 0x20:
			return k, esc, false
		}
	}
	return len(v), esc, false
}

// jsonNumber returns the end of the number at p, or -1.
func jsonNumber(v []byte, p int) int {
	if v[p] == '-' {
		p++
	}
	if p >= len(v) || !isDigit(v[p]) {
		return -1
	}
	p = digitsEnd(v, p)
	if p < len(v) && v[p] == '.' {
		if p+1 >= len(v) || !isDigit(v[p+1]) {
			return -1
		}
		p = digitsEnd(v, p+1)
	}
	if p < len(v) && (v[p] == 'e' || v[p] == 'E') {
		p++
		if p < len(v) && (v[p] == '+' || v[p] == '-') {
			p++
		}
		if p >= len(v) || !isDigit(v[p]) {
			return -1
		}
		p = digitsEnd(v, p)
	}
	return p
}

// scanString scans the content [a, b) of a JSON string. Escaped strings
// are unescaped first, so that "\n" does not glue an 'n' to the next word,
// and hit offsets are mapped back to the raw bytes.
func (s *Scanner) scanString(v []byte, a, b int, esc bool, c ctx, hits []Hit) []Hit {
	n := len(hits)
	if !esc {
		s.base = a
		hits = s.scanText(v[a:b], c, hits)
		hits = s.contextValue(v[a:b], 0, b-a, c, true, hits, n)
		s.base = 0
		return hits
	}
	u, offs := s.unesc[:0], s.offs[:0]
	for k := a; k < b; {
		if v[k] != '\\' {
			u = append(u, v[k])
			offs = append(offs, int32(k-a))
			k++
			continue
		}
		switch e := v[k+1]; e {
		case 'u':
			r := rune(hexRune(v[k+2 : k+6]))
			w := 6
			if utf16Surrogate(r) && k+12 <= b && v[k+6] == '\\' && v[k+7] == 'u' {
				lo := rune(hexRune(v[k+8 : k+12]))
				if lo >= 0xDC00 && lo < 0xE000 && r < 0xDC00 {
					r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
					w = 12
				}
			}
			var buf [4]byte
			m := utf8.EncodeRune(buf[:], r)
			for q := 0; q < m; q++ {
				u = append(u, buf[q])
				offs = append(offs, int32(k-a))
			}
			k += w
		default:
			u = append(u, unescapeByte(e))
			offs = append(offs, int32(k-a))
			k += 2
		}
	}
	offs = append(offs, int32(b-a))
	s.unesc, s.offs = u, offs
	hits = s.scanText(u, c, hits)
	hits = s.contextValue(u, 0, len(u), c, true, hits, n)
	for k := n; k < len(hits); k++ {
		hits[k].Start = a + int(offs[hits[k].Start])
		hits[k].End = a + int(offs[hits[k].End])
		if hits[k].End <= hits[k].Start {
			hits[k].End = hits[k].Start + 1
		}
	}
	return hits
}

func utf16Surrogate(r rune) bool { return r >= 0xD800 && r < 0xE000 }

func hexRune(h []byte) int {
	n := 0
	for _, b := range h {
		n = n<<4 | int(hexVal(b))
	}
	return n
}

func unescapeByte(e byte) byte {
	switch e {
	case 'n':
		return '\n'
	case 't':
		return '\t'
	case 'r':
		return '\r'
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	}
	return e // '"', '\\', '/'
}
