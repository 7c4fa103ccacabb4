package detect

// Dates of birth. A date alone is not a date of birth — timestamps and
// created_at columns are everywhere — so a date is reported only with
// context: a key such as "dob" or "birth_date", or a word such as "born",
// "birthday", "geboren", "naissance" shortly before it in text. Formats:
// 2006-01-02 (also with / or .), 02/01/2006 and 01/02/2006 (either order),
// "2 January 2006" and "January 2, 2006" (English, German, French, Spanish,
// Dutch month names in ASCII). The year must be 1900 to now-13. A timestamp
// ("1990-05-17T00:00:00Z") counts only under a birth-date key.

// isBirthWord reports whether a word in text announces a birth date.
func isBirthWord(w []byte) bool {
	switch lower(w[0]) {
	case 'd':
		return len(w) == 3 && hasPrefixFold(w, 0, "dob")
	case 'b':
		return hasPrefixFold(w, 0, "birth") || len(w) == 4 && hasPrefixFold(w, 0, "born") || hasPrefixFold(w, 0, "bday")
	case 'g':
		return hasPrefixFold(w, 0, "geboren") || hasPrefixFold(w, 0, "geburt")
	case 'n':
		return hasPrefixFold(w, 0, "naissance") || hasPrefixFold(w, 0, "nacimiento") || hasPrefixFold(w, 0, "nascita")
	case 'f':
		return hasPrefixFold(w, 0, "fecha_de_nacimiento") || hasPrefixFold(w, 0, "fodsel") || hasPrefixFold(w, 0, "fodelse")
	}
	return false
}

// dobContext reports whether a date at i has birth-date context.
func (s *Scanner) dobContext(i int, c ctx) bool {
	return c&ctxDOB != 0 || (i >= s.dobAt && i-s.dobAt <= 40)
}

func (s *Scanner) dobConf(c ctx) float64 {
	if c&ctxDOB != 0 {
		return 0.9
	}
	return 0.8
}

// date recognises numeric dates; it reports consumed for any valid date
// shape, so that no other detector takes a date for a phone number.
func (s *Scanner) date(v []byte, t *numTok, c ctx, hits []Hit) ([]Hit, bool) {
	if t.n < 3 || t.sep[1] != t.sep[2] || (t.sep[1] != '-' && t.sep[1] != '/' && t.sep[1] != '.') || (t.n > 3 && t.sep[3] != ' ') {
		return hits, false
	}
	g := func(k int) int { return atoi(v[t.g[k][0]:t.g[k][1]]) }
	var y, m, d int
	switch {
	case t.len(0) == 4 && t.len(1) <= 2 && t.len(2) <= 2:
		y, m, d = g(0), g(1), g(2)
	case t.len(0) <= 2 && t.len(1) <= 2 && t.len(2) == 4:
		y, m, d = g(2), g(1), g(0)
		if !validDate(y, m, d) {
			m, d = d, m
		}
	default:
		return hits, false
	}
	if !validDate(y, m, d) {
		return hits, false
	}
	i, e := t.g[0][0], t.g[2][1]
	if e < len(v) && isWord(v[e]) {
		if !(v[e] == 'T' && c&ctxDOB != 0) {
			return hits, true
		}
	}
	if y < 1900 || y > s.maxYear || !s.dobContext(i, c) {
		return hits, true
	}
	return s.hit(hits, CatBirthDate, "date", s.dobConf(c), i, e), true
}

func validDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && !(y%4 == 0 && (y%100 != 0 || y%400 == 0)) {
		days = 28
	}
	return d <= days
}

var months = map[string]int{
	"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
	"september": 9, "october": 10, "november": 11, "december": 12,
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
	"januar": 1, "februar": 2, "mai": 5, "juni": 6, "juli": 7, "oktober": 10, "dezember": 12,
	"janvier": 1, "mars": 3, "avril": 4, "juin": 6, "juillet": 7, "septembre": 9, "octobre": 10, "novembre": 11,
	"enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7, "agosto": 8, "septiembre": 9,
	"octubre": 10, "noviembre": 11, "diciembre": 12,
	"januari": 1, "februari": 2, "maart": 3, "mei": 5, "augustus": 8,
}

// monthAt returns the month named by the letters at p and their end.
func monthAt(v []byte, p int) (int, int) {
	var buf [10]byte
	e := p
	for e < len(v) && e-p < 10 && (isUpper(v[e]) || isLower(v[e])) {
		buf[e-p] = lower(v[e])
		e++
	}
	if e < len(v) && isWord(v[e]) {
		return 0, 0
	}
	m := months[string(buf[:e-p])]
	if m > 0 && e < len(v) && v[e] == '.' {
		e++
	}
	return m, e
}

// yearAt reads a four-digit year at p.
func yearAt(v []byte, p int) (int, int) {
	if p+4 > len(v) || !allDigits(v[p:p+4]) || (p+4 < len(v) && isWord(v[p+4])) {
		return 0, 0
	}
	return atoi(v[p : p+4]), p + 4
}

// textDateDMY recognises "2 January 2006" with its day at [i, e).
func (s *Scanner) textDateDMY(v []byte, i, e int, c ctx, hits []Hit) ([]Hit, bool) {
	if e-i > 2 || e+1 >= len(v) || v[e] != ' ' {
		return hits, false
	}
	p := e + 1
	if p < len(v) && v[p] == 'o' && hasPrefix(v, p, "of ") {
		p += 3
	}
	m, me := monthAt(v, p)
	if m == 0 || me >= len(v) || v[me] != ' ' {
		return hits, false
	}
	y, ye := yearAt(v, me+1)
	if y == 0 || !validDate(y, m, atoi(v[i:e])) {
		return hits, false
	}
	if y < 1900 || y > s.maxYear || !s.dobContext(i, c) {
		return hits, true
	}
	return s.hit(hits, CatBirthDate, "date", s.dobConf(c), i, ye), true
}

// textDateMDY recognises "January 2, 2006" with its month word at [i, j).
func (s *Scanner) textDateMDY(v []byte, i int, c ctx, hits []Hit) ([]Hit, bool) {
	m, me := monthAt(v, i)
	if m == 0 || me+1 >= len(v) || v[me] != ' ' || !isDigit(v[me+1]) {
		return hits, false
	}
	de := digitsEnd(v, me+1)
	if de-me-1 > 2 {
		return hits, false
	}
	p := de
	if p < len(v) && v[p] == ',' {
		p++
	}
	if p >= len(v) || v[p] != ' ' {
		return hits, false
	}
	y, ye := yearAt(v, p+1)
	if y == 0 || !validDate(y, m, atoi(v[me+1:de])) {
		return hits, false
	}
	if y < 1900 || y > s.maxYear || !s.dobContext(i, c) {
		return hits, true
	}
	return s.hit(hits, CatBirthDate, "date", s.dobConf(c), i, ye), true
}
