package detect

// card validates payment card numbers (PANs): 13–19 digits, plain or grouped
// by one kind of separator (space or dash) in the printed layouts (fours;
// 4-6-5 and 4-6-4), Luhn-valid, and inside a known issuer range with a length
// the issuer uses. A number failing Luhn, a Luhn-valid number outside the
// ranges (most ids and timestamps start with 1), or a run that is part of a
// longer digit string does not match.
func (s *Scanner) card(v []byte, t *numTok, hits []Hit) []Hit {
	for k := t.n; k >= 1; k-- {
		if !t.uniform(k, " -") {
			continue
		}
		digits := 0
		for m := 0; m < k; m++ {
			digits += t.len(m)
		}
		if digits < 13 || digits > 19 {
			continue
		}
		if k > 1 && !cardLayout(t, k) {
			continue
		}
		var buf [19]byte
		d := 0
		for m := 0; m < k; m++ {
			d += copy(buf[d:], v[t.g[m][0]:t.g[m][1]])
		}
		pan := buf[:d]
		if !luhn(pan) || cardIssuer(pan) == "" {
			continue
		}
		i, e := t.g[0][0], t.g[k-1][1]
		if e < len(v) && isWord(v[e]) {
			continue
		}
		conf := 0.85
		if k > 1 {
			conf = 0.95
		}
		return s.hit(hits, CatCard, "card", conf, i, e)
	}
	return hits
}

func cardLayout(t *numTok, k int) bool {
	if k == 3 && t.len(0) == 4 && t.len(1) == 6 && (t.len(2) == 5 || t.len(2) == 4) {
		return true
	}
	for m := 0; m < k-1; m++ {
		if t.len(m) != 4 {
			return false
		}
	}
	return t.len(k-1) >= 1 && t.len(k-1) <= 4
}

// luhn reports whether the digits pass the Luhn (mod 10) check.
func luhn(d []byte) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if double {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		double = !double
	}
	return sum%10 == 0
}

// cardIssuer names the card network whose IIN range and length fit the PAN.
func cardIssuer(d []byte) string {
	l := len(d)
	p := func(n int) int { return atoi(d[:n]) }
	switch {
	case d[0] == '4' && (l == 13 || l == 16 || l == 19):
		return "visa"
	case (p(2) >= 51 && p(2) <= 55 || p(4) >= 2221 && p(4) <= 2720) && l == 16:
		return "mastercard"
	case (p(2) == 34 || p(2) == 37) && l == 15:
		return "amex"
	case (p(4) == 6011 || p(3) >= 644 && p(3) <= 649 || p(2) == 65) && l >= 16 && l <= 19:
		return "discover"
	case p(4) >= 3528 && p(4) <= 3589 && l >= 16 && l <= 19:
		return "jcb"
	case (p(3) >= 300 && p(3) <= 305 || p(2) == 36 || p(2) == 38 || p(2) == 39 || p(4) == 3095) && l >= 14 && l <= 19:
		return "diners"
	case p(2) == 62 && l >= 16 && l <= 19:
		return "unionpay"
	case p(4) >= 2200 && p(4) <= 2204 && l == 16:
		return "mir"
	case (p(4) == 5018 || p(4) == 5020 || p(4) == 5038 || p(4) == 5893 || p(4) == 6304 || p(4) == 6759 ||
		p(4) == 6761 || p(4) == 6762 || p(4) == 6763) && l >= 13 && l <= 19:
		return "maestro"
	}
	return ""
}
