package detect

// numTok is a run of digit groups joined by single separators, as in
// "4111 1111 1111 1111", "203.0.113.7", "078-05-1120" or "2006-01-02".
type numTok struct {
	n      int
	g      [8][2]int // group k is v[g[k][0]:g[k][1]]
	sep    [8]byte   // sep[k] joins group k-1 and group k
	digits int
}

func parseNum(v []byte, i int, t *numTok) {
	p := i
	for {
		e := digitsEnd(v, p)
		t.g[t.n] = [2]int{p, e}
		t.digits += e - p
		t.n++
		if t.n == len(t.g) || e+1 >= len(v) {
			return
		}
		c := v[e]
		if (c == ' ' || c == '-' || c == '.' || c == '/') && isDigit(v[e+1]) {
			t.sep[t.n] = c
			p = e + 1
			continue
		}
		return
	}
}

func (t *numTok) len(k int) int { return t.g[k][1] - t.g[k][0] }

// uniform reports whether the first k groups are joined by one separator,
// one of seps, and end there: the next group, if any, is joined by a space.
func (t *numTok) uniform(k int, seps string) bool {
	if k > t.n {
		return false
	}
	if k < t.n && t.sep[k] != ' ' {
		return false
	}
	for m := 2; m < k; m++ {
		if t.sep[m] != t.sep[1] {
			return false
		}
	}
	if k == 1 {
		return true
	}
	for m := 0; m < len(seps); m++ {
		if seps[m] == t.sep[1] {
			return true
		}
	}
	return false
}

// numeric runs the detectors that start at a digit, most specific first, and
// always consumes the whole numeric token so that no detector sees a suffix
// of it ("2.3.4.5" inside "1.2.3.4.5").
func (s *Scanner) numeric(v []byte, i, j int, c ctx, hits []Hit) ([]Hit, int) {
	var t numTok
	parseNum(v, i, &t)
	e := t.g[t.n-1][1]
	skip := e
	for skip < len(v) && isWord(v[skip]) {
		skip++
	}
	if skip < j {
		skip = j
	}
	n := len(hits)
	if t.digits < 5 && t.n == 1 {
		// Short numbers: house numbers, day-of-month; both go on with a
		// word ("221B Baker Street", "2 January 2006").
		if e+1 < len(v) && (v[e] == ' ' && (isLetter(v[e+1]) || v[e+1] >= 0x80) || isUpper(v[e]) && v[e+1] == ' ') {
			hits = s.shortNumber(v, i, e, c, hits)
		}
		return hits, max(skip, s.endOf(hits, n))
	}
	if t.n < 3 && t.digits < 6 && !(t.n == 1 && t.digits == 5) {
		return hits, skip // nothing that short is worth a look: 12.5, 1234-56
	}
	var ok bool
	if hits, ok = s.ipv4(v, &t, hits); ok {
		return hits, max(skip, s.endOf(hits, n))
	}
	if t.len(0) == 6 {
		if hits, ok = s.hetu(v, i, hits); ok {
			return hits, s.endOf(hits, n)
		}
	}
	if t.n == 1 && t.len(0) == 8 && e < len(v) && isUpper(v[e]) {
		hits = s.dni(v, i, e, hits)
		return hits, max(skip, s.endOf(hits, n))
	}
	if hits = s.card(v, &t, hits); len(hits) > n {
		return hits, s.endOf(hits, n)
	}
	if hits = s.ssn(v, &t, hits); len(hits) > n {
		return hits, s.endOf(hits, n)
	}
	if hits, ok = s.date(v, &t, c, hits); ok {
		return hits, max(e, s.endOf(hits, n))
	}
	if hits = s.personnummer(v, &t, hits); len(hits) > n {
		return hits, s.endOf(hits, n)
	}
	if hits = s.nir(v, &t, hits); len(hits) > n {
		return hits, s.endOf(hits, n)
	}
	if hits = s.phoneNational(v, &t, c, hits); len(hits) > n {
		return hits, s.endOf(hits, n)
	}
	if t.n == 1 && t.len(0) == 5 {
		hits = s.postcodeCity(v, i, e, hits)
	}
	return hits, max(skip, s.endOf(hits, n))
}

// endOf is the end (in the scanned bytes) of the last hit appended after hits[:n], or 0.
func (s *Scanner) endOf(hits []Hit, n int) int {
	e := 0
	for _, h := range hits[n:] {
		e = max(e, h.End-s.base)
	}
	return e
}
