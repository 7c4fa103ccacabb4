package detect

// Person names. In text: a capitalised word from the embedded list of common
// given names (givenNames) followed by one or two capitalised words
// (particles such as "van", "de", "al" allowed between), reported at 0.5 —
// a list of given names finds "Maria Schmidt" and misses "Zebulon Pike", and
// "Jordan Peterson" may be a river. Under a key naming a person ("full_name",
// "first_name", "lastName", "cardholder") any value of one to four words of
// letters counts at 0.8; under a bare "name" key only a person-shaped value
// does, at 0.6 at most. Usernames, handles and company names are not names
// here.

var nameParticles = map[string]bool{"van": true, "de": true, "der": true, "den": true, "von": true, "da": true, "di": true,
	"del": true, "la": true, "le": true, "bin": true, "al": true, "el": true, "ten": true, "ter": true, "dos": true, "du": true}

// nameAt checks for a person name starting at the capitalised word [i, j).
func (s *Scanner) nameAt(v []byte, i, j int, hits []Hit) []Hit {
	l := j - i
	if l < 2 || l > 20 || j >= len(v) || v[j] != ' ' {
		return hits
	}
	var buf [24]byte
	buf[0] = v[i] + 32
	for k := 1; k < l; k++ {
		b := v[i+k]
		if isUpper(b) || isDigit(b) || b == '_' {
			return hits
		}
		buf[k] = b
	}
	if !givenNames[string(buf[:l])] {
		return hits
	}
	p, words, end := j, 0, 0
	for step := 0; step < 4 && p+1 < len(v) && v[p] == ' '; step++ {
		e, n, capital := wordAt(v, p+1, &buf)
		if e == p+1 || (e < len(v) && isWord(v[e])) {
			break
		}
		w := string(buf[:n])
		if !capital {
			if nameParticles[w] && words < 2 {
				p = e
				continue
			}
			break
		}
		if n < 2 || stopWords[w] || streetWords[w] || (v[e-1] == '.' && n > 1) {
			break
		}
		words++
		end = e
		p = e
		if words == 2 {
			break
		}
	}
	if words == 0 {
		return hits
	}
	return s.hit(hits, CatName, "name", 0.5, i, end)
}

// nameValue scores a whole value under a name key; 0 means not a name.
func nameValue(v []byte, strong bool) float64 {
	if len(v) < 2 || len(v) > 80 {
		return 0
	}
	words, capitals, letters := 1, 0, 0
	start := true
	for _, b := range v {
		switch {
		case b == ' ':
			if start {
				return 0
			}
			words++
			start = true
			continue
		case isUpper(b):
			letters++
			if start {
				capitals++
			}
		case isLower(b) || b >= 0x80:
			letters++
		case b == '\'' || b == '-' || b == '.' || b == ',':
		default:
			return 0
		}
		start = false
	}
	if letters < 2 || words > 4 {
		return 0
	}
	if strong {
		return 0.8
	}
	if words < 2 || words > 3 || capitals != words {
		return 0
	}
	var buf [24]byte
	_, n, _ := wordAt(v, 0, &buf)
	if givenNames[string(buf[:n])] {
		return 0.6
	}
	return 0.35
}

// addressValue accepts a value under an address key that looks like one:
// letters, a digit, a space, and not a URL or an email.
func addressValue(v []byte) bool {
	if len(v) < 5 || len(v) > 200 {
		return false
	}
	var letters, digits, spaces int
	for _, b := range v {
		switch {
		case isDigit(b):
			digits++
		case isLetter(b) || b >= 0x80:
			letters++
		case b == ' ' || b == '\n' || b == ',':
			spaces++
		case b == '@' || b == '/' || b == ':' && len(v) > 0:
			return false
		}
	}
	return letters >= 3 && digits >= 1 && spaces >= 1
}
