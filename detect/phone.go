package detect

// Phone numbers. E.164 ("+" then 8–15 digits, grouped by spaces, dashes,
// dots or parentheses) is reported with high confidence. National forms are
// weaker evidence and reported lower: North American (415) 555-0132,
// 415-555-0132 and 1-415-555-0132, and trunk-prefixed European forms with a
// leading 0 and 10–11 digits in consistent groups (020 7946 0958,
// 06 12 34 56 78, 030 12345678). Dates, times, IP addresses, versions,
// amounts, card numbers and ungrouped integers do not match; ungrouped
// digits count only under a key such as "phone".

func (s *Scanner) phoneE164(v []byte, i int, c ctx, hits []Hit) ([]Hit, int) {
	p := i + 1
	if v[p] == '0' {
		return hits, p
	}
	digits, end, open := 0, p, false
	var groups [16]int
	ng := 0
	for p < len(v) {
		b := v[p]
		switch {
		case isDigit(b):
			st := p
			p = digitsEnd(v, p)
			if digits+p-st > 15 {
				if ng > 0 && v[st-1] == ' ' {
					p = end // a space before a digit run that does not fit: the number ended
					goto done
				}
				return hits, p
			}
			digits += p - st
			if ng < len(groups) {
				groups[ng] = p - st
			}
			ng++
			end = p
			continue
		case (b == ' ' || b == '-' || b == '.') && p+1 < len(v) && (isDigit(v[p+1]) || v[p+1] == '('):
		case b == '(' && !open && p+1 < len(v) && isDigit(v[p+1]):
			open = true
		case b == ')' && open && p == end:
			open = false
			end = p + 1
		default:
			goto done
		}
		p++
	}
done:
	if digits < 8 || open {
		return hits, max(end, i+1)
	}
	if end < len(v) && (isWord(v[end]) || v[end] == '.' && end+1 < len(v) && isDigit(v[end+1])) {
		return hits, max(end, i+1)
	}
	if ng == 3 && groups[0] == 4 && groups[1] == 2 && groups[2] == 2 {
		return hits, end // +2006-01-02
	}
	conf := 0.9
	if c&ctxPhone != 0 {
		conf = 0.95
	}
	return s.hit(hits, CatPhone, "phone", conf, i, end), end
}

// phoneParen handles numbers written with the area code in parentheses:
// (415) 555-0132, (020) 7946 0958.
func (s *Scanner) phoneParen(v []byte, i int, c ctx, hits []Hit) ([]Hit, int) {
	if i > 0 && isWord(v[i-1]) {
		return hits, i + 1
	}
	ae := digitsEnd(v, i+1)
	al := ae - i - 1
	if al < 2 || al > 5 || ae >= len(v) || v[ae] != ')' {
		return hits, i + 1
	}
	p := ae + 1
	if p < len(v) && v[p] == ' ' {
		p++
	}
	var t numTok
	if p >= len(v) || !isDigit(v[p]) {
		return hits, i + 1
	}
	parseNum(v, p, &t)
	if !t.uniform(t.n, " -.") {
		return hits, i + 1
	}
	e := t.g[t.n-1][1]
	if e < len(v) && isWord(v[e]) {
		return hits, i + 1
	}
	digits := al + t.digits
	nanp := al == 3 && v[i+1] >= '2' && t.n == 2 && t.len(0) == 3 && t.len(1) == 4 && v[t.g[0][0]] >= '2'
	trunk := v[i+1] == '0' && v[i+2] != '0' && (digits == 10 || digits == 11)
	if !nanp && !trunk {
		return hits, e
	}
	conf := 0.6
	if c&ctxPhone != 0 {
		conf = 0.8
	}
	return s.hit(hits, CatPhone, "phone", conf, i, e), e
}

func (s *Scanner) phoneNational(v []byte, t *numTok, c ctx, hits []Hit) []Hit {
	for k := t.n; k >= 2; k-- {
		if t.uniform(k, " -.") && nationalShape(v, t, k) {
			conf := 0.5
			if c&ctxPhone != 0 {
				conf = 0.8
			}
			return s.hit(hits, CatPhone, "phone", conf, t.g[0][0], t.g[k-1][1])
		}
	}
	return hits
}

func nationalShape(v []byte, t *numTok, k int) bool {
	i, e := t.g[0][0], t.g[k-1][1]
	if e < len(v) && isWord(v[e]) {
		return false
	}
	if i > 0 && (v[i-1] == '.' || v[i-1] == '-' || v[i-1] == '/') {
		return false
	}
	digits := 0
	for m := 0; m < k; m++ {
		digits += t.len(m)
	}
	switch {
	case k == 3 && t.len(0) == 3 && t.len(1) == 3 && t.len(2) == 4:
		return v[i] >= '2' && v[t.g[1][0]] >= '2'
	case k == 4 && t.len(0) == 1 && v[i] == '1' && t.len(1) == 3 && t.len(2) == 3 && t.len(3) == 4:
		return v[t.g[1][0]] >= '2' && v[t.g[2][0]] >= '2'
	case v[i] == '0' && v[i+1] != '0' && t.len(0) >= 2 && t.len(0) <= 5 && (digits == 10 || digits == 11):
		for m := 1; m < k; m++ {
			if t.len(m) < 2 {
				return false
			}
		}
		return true
	}
	return false
}
