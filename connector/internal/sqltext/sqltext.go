// Package sqltext reads the pieces of a schema that database catalogs
// leave as SQL text: the expressions of index terms and CHECK constraints,
// SQLite's CREATE statements and MySQL's partition expressions.
//
// It knows just enough of the dialects' lexical rules to tell identifiers,
// literals and punctuation apart; it does not parse SQL grammar, and it
// never fails: text it does not understand comes out as tokens all the
// same, so callers degrade to a less precise answer rather than an error.
package sqltext

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Syntax selects the lexical rules of one dialect.
type Syntax uint8

// The dialects. Double quotes and backticks quote identifiers in all of
// them: no catalog writes a double-quoted string literal, and accepting
// both lets callers pass text written for any database.
const (
	// Postgres is PostgreSQL's lexical syntax.
	Postgres Syntax = iota
	// MySQL also reads backslash escapes in string literals.
	MySQL
	// SQLite also reads [brackets] as identifier quotes.
	SQLite
)

// Kind is the lexical class of a [Token].
type Kind uint8

// The token kinds.
const (
	// Word is an unquoted identifier or keyword.
	Word Kind = iota + 1
	// Ident is a quoted identifier; its Text has the quotes removed.
	Ident
	// String is a string literal, with its quotes (and any prefix such as
	// E or _utf8mb4) as written.
	String
	// Number is a numeric literal.
	Number
	// Punct is one of ( ) [ ] , . ; or another single character that is
	// not an operator.
	Punct
	// Op is an operator such as =, <>, || or ::.
	Op
)

// Token is one lexical token of SQL text.
type Token struct {
	Kind Kind
	Text string
}

// Is reports whether tok is the punctuation or operator text, or the word
// text in any case.
func (tok Token) Is(text string) bool {
	switch tok.Kind {
	case Word:
		return strings.EqualFold(tok.Text, text)
	case Punct, Op:
		return tok.Text == text
	}
	return false
}

// IsName reports whether tok is an identifier, quoted or not.
func (tok Token) IsName() bool { return tok.Kind == Word || tok.Kind == Ident }

// operators lists the multi-character operators, longest first, that are
// read as one token; any other operator character is a token of its own.
var operators = []string{
	"->>", "#>>", "<=>", "!~*",
	"::", "<>", "<=", ">=", "!=", "==", "||", "<<", ">>", "->", "#>",
	"~~", "!~", "~*", "@>", "<@", "&&",
}

const operatorChars = "+-*/<>=~!@#%^&|?:"

// Tokenize splits s into tokens, skipping white space and comments. An
// unterminated quote runs to the end of s.
func Tokenize(s string, syn Syntax) []Token {
	var toks []Token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case strings.HasPrefix(s[i:], "--"):
			i = skipTo(s, i, "\n")
		case strings.HasPrefix(s[i:], "/*"):
			i = skipTo(s, i+2, "*/")
		case c == '"' || c == '`' || (c == '[' && syn == SQLite):
			closing := c
			if c == '[' {
				closing = ']'
			}
			text, end := quoted(s, i, closing, false)
			toks = append(toks, Token{Ident, text})
			i = end
		case c == '\'':
			_, end := quoted(s, i, '\'', syn == MySQL)
			toks = append(toks, Token{String, s[i:end]})
			i = end
		case isDigit(c) || (c == '.' && i+1 < len(s) && isDigit(s[i+1])):
			end := i + 1
			for end < len(s) && (isWordByte(s[end]) || s[end] == '.') {
				end++
			}
			toks = append(toks, Token{Number, s[i:end]})
			i = end
		case isWordStart(s, i):
			end := i
			for end < len(s) && (isWordByte(s[end]) || s[end] >= utf8.RuneSelf) {
				end++
			}
			// A prefix glued to a literal (E'…', _utf8mb4'…') belongs to it.
			if end < len(s) && s[end] == '\'' {
				_, strEnd := quoted(s, end, '\'', syn == MySQL || strings.EqualFold(s[i:end], "e"))
				toks = append(toks, Token{String, s[i:strEnd]})
				i = strEnd
				continue
			}
			toks = append(toks, Token{Word, s[i:end]})
			i = end
		case strings.IndexByte(operatorChars, c) >= 0:
			op := s[i : i+1]
			for _, o := range operators {
				if strings.HasPrefix(s[i:], o) {
					op = o
					break
				}
			}
			toks = append(toks, Token{Op, op})
			i += len(op)
		default:
			_, size := utf8.DecodeRuneInString(s[i:])
			toks = append(toks, Token{Punct, s[i : i+size]})
			i += size
		}
	}
	return toks
}

// skipTo returns the index just past the first end at or after i, or
// len(s).
func skipTo(s string, i int, end string) int {
	if j := strings.Index(s[i:], end); j >= 0 {
		return i + j + len(end)
	}
	return len(s)
}

// quoted reads the quoted text starting at s[i] and closed by closing,
// where a doubled closing character (or, with backslash, an escaped one)
// stands for itself. It returns the text between the quotes, unescaped,
// and the index just past the closing quote.
func quoted(s string, i int, closing byte, backslash bool) (string, int) {
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case backslash && c == '\\' && j+1 < len(s):
			j++
			b.WriteByte(s[j])
		case c == closing && j+1 < len(s) && s[j+1] == closing:
			j++
			b.WriteByte(c)
		case c == closing:
			return b.String(), j + 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), len(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

// isWordStart reports whether an unquoted identifier starts at s[i].
func isWordStart(s string, i int) bool {
	c := s[i]
	if c < utf8.RuneSelf {
		return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z')
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r)
}

// Close returns the index of the token that closes the parenthesis or
// bracket at toks[open], or -1 if it is not closed (or toks[open] opens
// nothing).
func Close(toks []Token, open int) int {
	depth := 0
	for i := open; i < len(toks); i++ {
		switch {
		case toks[i].Is("(") || toks[i].Is("["):
			depth++
		case toks[i].Is(")") || toks[i].Is("]"):
			depth--
			if depth == 0 {
				return i
			}
		}
		if i == open && depth == 0 {
			return -1
		}
	}
	return -1
}

// Unwrap drops parentheses that enclose all of toks, however many pairs.
func Unwrap(toks []Token) []Token {
	for len(toks) >= 2 && toks[0].Is("(") && Close(toks, 0) == len(toks)-1 {
		toks = toks[1 : len(toks)-1]
	}
	return toks
}

// Split splits toks at the commas outside parentheses and brackets. It
// returns nil for no tokens.
func Split(toks []Token) [][]Token {
	if len(toks) == 0 {
		return nil
	}
	var parts [][]Token
	depth, start := 0, 0
	for i, tok := range toks {
		switch {
		case tok.Is("(") || tok.Is("["):
			depth++
		case tok.Is(")") || tok.Is("]"):
			depth--
		case tok.Is(",") && depth == 0:
			parts = append(parts, toks[start:i])
			start = i + 1
		}
	}
	return append(parts, toks[start:])
}

// Resolver returns the declared spelling of the column called name, and
// whether there is one.
type Resolver func(name string) (string, bool)

// Names returns a Resolver over the declared names: an exact match wins,
// otherwise the first case-insensitive one.
func Names(names []string) Resolver {
	return func(name string) (string, bool) {
		if slices.Contains(names, name) {
			return name, true
		}
		for _, n := range names {
			if strings.EqualFold(n, name) {
				return n, true
			}
		}
		return "", false
	}
}

// keywords are the words after which an opening parenthesis starts a
// group rather than a function's arguments, so a space is kept before it.
var keywords = map[string]bool{
	"all": true, "and": true, "any": true, "as": true, "between": true, "case": true,
	"else": true, "end": true, "exists": true, "ilike": true, "in": true, "is": true,
	"like": true, "not": true, "on": true, "or": true, "some": true, "then": true,
	"values": true, "when": true,
}

// Normalize returns expr in the canonical form of [Format], with
// redundant outer parentheses removed.
func Normalize(expr string, syn Syntax, column Resolver) string {
	return Format(Unwrap(Tokenize(expr, syn)), column)
}

// Format writes toks in one canonical form, so that the same expression
// reads the same whichever database (or person) wrote it:
//
//   - unquoted words are lower-cased, quoted identifiers lose their quotes
//     and keep their case, and a name that column resolves (one not
//     followed by "(", so not a function) takes its declared spelling;
//   - string and numeric literals are kept as written;
//   - tokens are separated by one space, except after "(" and "[",
//     before ")", "]" and ",", around "." and "::", between a function
//     name and its "(", and after a unary operator.
//
// column may be nil.
func Format(toks []Token, column Resolver) string {
	var b strings.Builder
	// operand reports whether an operand is due, so that an operator here
	// is unary; unary reports whether the previous token was one.
	operand, unary := true, false
	for i, tok := range toks {
		text := tok.Text
		if tok.IsName() {
			called := i+1 < len(toks) && toks[i+1].Is("(")
			declared, ok := "", false
			if column != nil && !called {
				declared, ok = column(text)
			}
			switch {
			case ok:
				text = declared
			case tok.Kind == Word:
				text = strings.ToLower(text)
			}
		}
		if i > 0 && space(toks[i-1], tok, unary) {
			b.WriteByte(' ')
		}
		b.WriteString(text)
		unary = tok.Kind == Op && operand
		operand = tok.Kind == Op && tok.Text != "::" || tok.Is("(") || tok.Is("[") || tok.Is(",") ||
			(tok.Kind == Word && keywords[strings.ToLower(tok.Text)])
	}
	return b.String()
}

// space reports whether [Format] puts a space between prev and tok;
// prevUnary reports whether an operator in prev's place would be unary.
func space(prev, tok Token, prevUnary bool) bool {
	switch {
	case prev.Is("(") || prev.Is("[") || tok.Is(")") || tok.Is("]") || tok.Is(","):
		return false
	case prev.Is(".") || tok.Is(".") || prev.Is("::") || tok.Is("::"):
		return false
	case tok.Is("("):
		return !prev.IsName() || (prev.Kind == Word && keywords[strings.ToLower(prev.Text)])
	case tok.Is("["):
		return !(prev.IsName() || prev.Is(")") || prev.Is("]"))
	case prev.Kind == Op:
		return !prevUnary
	}
	return true
}

// Columns returns the columns of cols that the tokens name, in the order
// of cols, matching names case-insensitively. Words followed by "(" are
// function names, and literals never name a column.
func Columns(toks []Token, cols []string) []string {
	used := make([]bool, len(cols))
	for i, tok := range toks {
		if !tok.IsName() || (i+1 < len(toks) && toks[i+1].Is("(")) {
			continue
		}
		for j, c := range cols {
			if strings.EqualFold(c, tok.Text) {
				used[j] = true
			}
		}
	}
	var out []string
	for j, c := range cols {
		if used[j] {
			out = append(out, c)
		}
	}
	return out
}

// Action returns the referential action rule (such as "set null" or
// "NO  ACTION") in the spelling of connector.ForeignKey.OnDelete, and
// whether it is one of the five SQL actions.
func Action(rule string) (string, bool) {
	a := strings.ToUpper(strings.Join(strings.Fields(rule), " "))
	switch a {
	case "CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT", "NO ACTION":
		return a, true
	}
	return "", false
}
