package rowjson

import (
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// maxArrayDepth bounds the nesting parseArray follows. PostgreSQL allows
// six dimensions; the bound only keeps hostile text from exhausting the
// stack.
const maxArrayDepth = 64

// parseArray parses s, a PostgreSQL array literal such as
// {a,"b,c",NULL} or {{1,2},{3,4}}, as PostgreSQL's array input reads it: elements are
// separated by delim, double quotes protect special characters, a
// backslash takes the next character literally, unquoted space around an
// element is dropped, and an unquoted NULL is null. A "[1:2]=" dimension
// prefix (written when a lower bound is not 1) is skipped.
//
// Each element is nil (NULL), a string, or an []any for a nested array;
// an array holds either strings and nils or arrays, never both. It reports
// false for text that is not an array literal. Unlike PostgreSQL it does
// not insist that sub-arrays have equal lengths: it reads what PostgreSQL
// writes, which always has.
func parseArray(s string, delim byte) ([]any, bool) {
	p := arrayParser{s: s, delim: delim}
	p.space()
	if p.i < len(s) && s[p.i] == '[' && !p.dimensions() {
		return nil, false
	}
	arr, ok := p.array(0)
	p.space()
	return arr, ok && p.i == len(s)
}

type arrayParser struct {
	s     string
	i     int
	delim byte
}

// isSpace is the white space PostgreSQL's array input skips.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func (p *arrayParser) space() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

// dimensions skips "[lo:hi][lo:hi]=" (or "[hi]").
func (p *arrayParser) dimensions() bool {
	n := 0
	for p.space(); p.i < len(p.s) && p.s[p.i] == '['; p.space() {
		end := strings.IndexByte(p.s[p.i:], ']')
		if end < 0 {
			return false
		}
		lo, hi, found := strings.Cut(p.s[p.i+1:p.i+end], ":")
		if !found {
			lo, hi = "1", lo
		}
		if _, err := strconv.Atoi(strings.TrimSpace(lo)); err != nil {
			return false
		}
		if _, err := strconv.Atoi(strings.TrimSpace(hi)); err != nil {
			return false
		}
		p.i += end + 1
		n++
	}
	if n == 0 || p.i >= len(p.s) || p.s[p.i] != '=' {
		return false
	}
	p.i++
	p.space()
	return true
}

// array parses {…} at p.i.
func (p *arrayParser) array(depth int) ([]any, bool) {
	if depth >= maxArrayDepth || p.i >= len(p.s) || p.s[p.i] != '{' {
		return nil, false
	}
	p.i++
	out := []any{}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return out, true
	}
	nested := false
	for {
		p.space()
		if p.i >= len(p.s) {
			return nil, false
		}
		var el any
		if p.s[p.i] == '{' {
			sub, ok := p.array(depth + 1)
			if !ok || (len(out) > 0 && !nested) {
				return nil, false
			}
			el, nested = sub, true
		} else {
			s, null, ok := p.element()
			if !ok || nested {
				return nil, false
			}
			if !null {
				el = s
			}
		}
		out = append(out, el)
		p.space()
		if p.i >= len(p.s) {
			return nil, false
		}
		switch p.s[p.i] {
		case p.delim:
			p.i++
		case '}':
			p.i++
			return out, true
		default:
			return nil, false
		}
	}
}

// element parses one scalar element at p.i. As in PostgreSQL, a quoted
// element is quoted whole; an unquoted one runs to the delimiter or the
// closing brace, less trailing space. Both take a backslash as an escape.
func (p *arrayParser) element() (s string, null bool, ok bool) {
	if p.s[p.i] == '"' {
		s, ok := p.quoted()
		return s, false, ok
	}
	return p.unquoted()
}

// quoted parses "…" at p.i.
func (p *arrayParser) quoted() (string, bool) {
	p.i++
	start, escaped := p.i, false
	var b []byte // the element once an escape keeps it from being a substring of p.s
	for ; p.i < len(p.s); p.i++ {
		switch c := p.s[p.i]; {
		case c == '\\':
			if b, escaped = p.unescape(b, start, escaped); !escaped {
				return "", false
			}
		case c == '"':
			p.i++
			if b == nil && !escaped {
				return p.s[start : p.i-1], true
			}
			return string(b), true
		case escaped:
			b = append(b, c)
		}
	}
	return "", false
}

// unquoted parses an element without quotes at p.i.
func (p *arrayParser) unquoted() (s string, null bool, ok bool) {
	start, escaped := p.i, false
	end := p.i // past the last character that is not space, in p.s or, once escaped, in b
	var b []byte
	for ; p.i < len(p.s); p.i++ {
		switch c := p.s[p.i]; {
		case c == '\\':
			if b, escaped = p.unescape(b, start, escaped); !escaped {
				return "", false, false
			}
			end = len(b)
		case c == p.delim || c == '}':
			if !escaped {
				s = p.s[start:end]
				return s, strings.EqualFold(s, "NULL"), end > start
			}
			return string(b[:end]), false, true
		case c == '"' || c == '{':
			return "", false, false
		case escaped:
			if b = append(b, c); !isSpace(c) {
				end = len(b)
			}
		case !isSpace(c):
			end = p.i + 1
		}
	}
	return "", false, false
}

// unescape takes the character after the backslash at p.i literally. At
// the first escape of an element it copies the element so far, from
// start, into b. It reports false at the end of the text.
func (p *arrayParser) unescape(b []byte, start int, escaped bool) ([]byte, bool) {
	if !escaped {
		b = append(b, p.s[start:p.i]...)
	}
	p.i++
	if p.i >= len(p.s) {
		return b, false
	}
	return append(b, p.s[p.i]), true
}

// formatArray writes arr as PostgreSQL writes an array: elements quoted
// where they must be, NULL for nil. It is parseArray's inverse.
func formatArray(b []byte, arr []any, delim byte) []byte {
	return appendTree(b, arr, '{', delim, '}', "NULL", func(b []byte, s string) []byte {
		return formatElement(b, s, delim)
	})
}

// appendTree writes arr, a parseArray result, between open and close with
// sep between elements, nil as null, and strings through leaf: as an array
// literal or as JSON.
func appendTree(b []byte, arr []any, open, sep, close byte, null string, leaf func([]byte, string) []byte) []byte {
	b = append(b, open)
	for i, el := range arr {
		if i > 0 {
			b = append(b, sep)
		}
		switch x := el.(type) {
		case nil:
			b = append(b, null...)
		case []any:
			b = appendTree(b, x, open, sep, close, null, leaf)
		case string:
			b = leaf(b, x)
		}
	}
	return append(b, close)
}

func formatElement(b []byte, s string, delim byte) []byte {
	quote := s == "" || strings.EqualFold(s, "NULL")
	for i := 0; i < len(s) && !quote; i++ {
		c := s[i]
		quote = c == delim || c == '{' || c == '}' || c == '"' || c == '\\' || isSpace(c)
	}
	if !quote {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// arrayDelim is the delimiter of an array of elem: a comma, but for box,
// whose values contain commas, a semicolon.
func arrayDelim(elem string) byte {
	if elem == "box" {
		return ';'
	}
	return ','
}

// appendArray appends arr as a JSON array, each element by the rules for
// elem, the element type; a timestamp without time zone is wall time in
// loc (UTC when nil).
func appendArray(b []byte, arr []any, elem string, loc *time.Location) []byte {
	return appendTree(b, arr, '[', ',', ']', "null", func(b []byte, s string) []byte {
		return appendElement(b, s, elem, loc)
	})
}

// appendElement appends one array element, which PostgreSQL wrote as
// text, by the rules for its type. Text that does not read as the type
// says (NaN, infinity, another DateStyle) is written as a string.
func appendElement(b []byte, s, elem string, loc *time.Location) []byte {
	switch elem {
	case "bool":
		switch s {
		case "t", "true":
			return append(b, "true"...)
		case "f", "false":
			return append(b, "false"...)
		}
	case "int2", "int4", "int8", "oid", "numeric", "float4", "float8":
		if isJSONNumber(s) {
			return append(b, s...)
		}
	case "json", "jsonb":
		if bb, ok := appendJSONText(b, []byte(s)); ok {
			return bb
		}
	case "bytea":
		// bytea_output = hex, the default: \x and two digits a byte.
		if strings.HasPrefix(s, `\x`) {
			if x, err := hex.DecodeString(s[2:]); err == nil {
				return appendBase64(b, x)
			}
		}
	case "timestamptz":
		for _, layout := range [...]string{"2006-01-02 15:04:05-07", "2006-01-02 15:04:05-07:00", "2006-01-02 15:04:05-07:00:00"} {
			if t, err := time.Parse(layout, s); err == nil {
				return appendTime(b, t, Column{})
			}
		}
	case "timestamp":
		if loc == nil {
			loc = time.UTC
		}
		if t, err := time.ParseInLocation(time.DateTime, s, loc); err == nil {
			return appendTime(b, t, Column{})
		}
	case "uuid":
		s = canonicalUUID(s)
	}
	return appendTextOrBase64(b, s)
}

// pgTypeName turns a declared PostgreSQL array type, as format_type
// writes it ("integer[]", "timestamp(3) with time zone[]",
// "character varying(20)[]"), into the internal name of its element type
// ("int4", "timestamptz", "varchar"), the name pgx reports after "_".
func pgTypeName(decl string) string {
	for strings.HasSuffix(decl, "[]") {
		decl = strings.TrimSpace(decl[:len(decl)-2])
	}
	// Drop type modifiers, wherever format_type puts them.
	var b strings.Builder
	depth := 0
	for i := 0; i < len(decl); i++ {
		switch c := decl[i]; {
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	name := strings.Join(strings.Fields(b.String()), " ")
	switch name {
	case "smallint":
		return "int2"
	case "integer", "int":
		return "int4"
	case "bigint":
		return "int8"
	case "real":
		return "float4"
	case "double precision":
		return "float8"
	case "decimal":
		return "numeric"
	case "boolean":
		return "bool"
	case "timestamp with time zone":
		return "timestamptz"
	case "timestamp without time zone":
		return "timestamp"
	case "character varying":
		return "varchar"
	case "character":
		return "bpchar"
	}
	return name
}
