package detect

import "strings"

// Postal addresses are the noisiest category: every detector here reports at
// most 0.6, and needs a street word or a postcode in a recognisable place.
//
//   - number-first streets: "221B Baker Street", "1600 Pennsylvania Avenue",
//     "10 Downing St" (at least one capitalised word before the street word),
//     "12 rue de Rivoli", "5 calle Mayor";
//   - name-first streets: "Hauptstraße 5", "Keizersgracht 123",
//     "Via Roma 10", "Calle Mayor 5";
//   - postcodes: UK ("SW1A 1AA"), US state plus ZIP or ZIP+4 ("CA 94105"),
//     and a five-digit code followed by a capitalised city after a comma
//     (", 10115 Berlin").
//
// It does not parse whole addresses, PO boxes, or addresses without a street
// word; under a key such as "address" or "street" any value with letters
// and a digit counts (see contextValue).

var streetWords = map[string]bool{
	"street": true, "st": true, "avenue": true, "ave": true, "road": true, "rd": true, "lane": true, "ln": true,
	"boulevard": true, "blvd": true, "drive": true, "dr": true, "court": true, "ct": true, "place": true,
	"square": true, "sq": true, "terrace": true, "way": true, "close": true, "crescent": true, "highway": true,
	"hwy": true, "parkway": true, "pkwy": true, "circle": true, "trail": true, "row": true, "mews": true, "gardens": true,
}

// streetLead are street words that precede the name: "12 rue de Rivoli",
// "Via Roma 10".
var streetLead = map[string]bool{
	"rue": true, "calle": true, "via": true, "viale": true, "piazza": true, "avenida": true, "rua": true,
	"carrer": true, "plaza": true, "avenue": true, "chemin": true, "boulevard": true, "corso": true, "paseo": true,
}

var streetSuffixes = []string{"straße", "strasse", "str.", "weg", "laan", "gracht", "plein", "gasse", "allee", "platz", "vej", "gatan", "gade", "katu", "veien", "steeg", "kade", "dijk", "damm"}

var particles = map[string]bool{"de": true, "la": true, "del": true, "des": true, "du": true, "di": true, "da": true, "van": true, "der": true, "den": true, "von": true, "the": true, "of": true, "le": true, "los": true, "las": true}

// wordAt reads a run of letters (non-ASCII included, and '.' or '\” inside)
// at p, lower-cased into buf; it returns the end and whether the word was
// capitalised.
func wordAt(v []byte, p int, buf *[24]byte) (e int, n int, capital bool) {
	e = p
	for e < len(v) && (isUpper(v[e]) || isLower(v[e]) || v[e] >= 0x80 || (e > p && (v[e] == '\'' || v[e] == '-'))) {
		if n < len(buf) {
			buf[n] = lower(v[e])
			n++
		}
		e++
	}
	if e < len(v) && v[e] == '.' && e-p <= 4 {
		e++ // "St."
	}
	return e, min(n, len(buf)), e > p && (isUpper(v[p]) || v[p] >= 0x80)
}

// shortNumber handles a number of at most four digits at [i, e): a day of
// a birth date ("2 January 2006") or a house number.
func (s *Scanner) shortNumber(v []byte, i, e int, c ctx, hits []Hit) []Hit {
	if out, ok := s.textDateDMY(v, i, e, c, hits); ok {
		return out
	}
	p := e
	if p < len(v) && isUpper(v[p]) && p+1 < len(v) && v[p+1] == ' ' {
		p++ // 221B
	}
	if p+1 >= len(v) || v[p] != ' ' || v[p+1] == ' ' || v[p+1] == '\n' {
		return hits
	}
	var buf [24]byte
	names := 0
	lead := false
	for w := 0; w < 5; w++ {
		p++
		we, n, capital := wordAt(v, p, &buf)
		if we == p || (we < len(v) && isWord(v[we])) {
			return hits
		}
		word := string(buf[:n])
		switch {
		case w == 0 && streetLead[word]:
			lead = true
		case lead && particles[word]:
		case lead && capital:
			return s.hit(hits, CatAddress, "street", 0.55, i, we)
		case !lead && names > 0 && streetWords[strings.TrimSuffix(word, ".")]:
			return s.hit(hits, CatAddress, "street", 0.55, i, we)
		case !lead && capital && !stopWords[word]:
			names++
		default:
			return hits
		}
		if we >= len(v) || v[we] != ' ' {
			return hits
		}
		p = we
	}
	return hits
}

// streetFirst handles "Hauptstraße 5" and "Via Roma 10" at a capitalised word.
func (s *Scanner) streetFirst(v []byte, i int, hits []Hit) []Hit {
	var buf [24]byte
	we, n, _ := wordAt(v, i, &buf)
	word := string(buf[:n])
	p := we
	if streetLead[word] {
		names := 0
		for names < 3 && p+1 < len(v) && v[p] == ' ' {
			e, m, capital := wordAt(v, p+1, &buf)
			if e == p+1 || !(capital || particles[string(buf[:m])]) {
				break
			}
			names++
			p = e
		}
		if names == 0 {
			return hits
		}
	} else {
		ok := false
		for _, suf := range streetSuffixes {
			if len(word) > len(suf)+2 && strings.HasSuffix(word, suf) {
				ok = true
				break
			}
		}
		if !ok {
			return hits
		}
	}
	if p+1 >= len(v) || v[p] != ' ' || !isDigit(v[p+1]) {
		return hits
	}
	de := digitsEnd(v, p+1)
	if de-p-1 > 4 {
		return hits
	}
	if de < len(v) && isLetter(v[de]) && (de+1 >= len(v) || !isWord(v[de+1])) {
		de++ // 5a
	}
	if de < len(v) && isWord(v[de]) {
		return hits
	}
	return s.hit(hits, CatAddress, "street", 0.55, i, de)
}

func isLetter(b byte) bool { return isUpper(b) || isLower(b) }

// ukPostcode matches the outward and inward codes at i: "SW1A 1AA",
// "M1 1AE", "EC1A 1BB". It returns the end, or 0.
func ukPostcode(v []byte, i, j int) int {
	out := v[i:j]
	if len(out) < 2 || len(out) > 4 || !isUpper(out[0]) {
		return 0
	}
	switch out[0] {
	case 'Q', 'V', 'X':
		return 0
	}
	// Outward: A9, A99, AA9, AA99, A9A, AA9A.
	var shape [4]byte
	for k, b := range out {
		switch {
		case isUpper(b):
			shape[k] = 'A'
		case isDigit(b):
			shape[k] = '9'
		default:
			return 0
		}
	}
	switch string(shape[:len(out)]) {
	case "A9", "A99", "AA9", "AA99", "A9A", "AA9A":
	default:
		return 0
	}
	p := j
	if p+4 > len(v) || v[p] != ' ' || !isDigit(v[p+1]) || !isUpper(v[p+2]) || !isUpper(v[p+3]) {
		return 0
	}
	if p+4 < len(v) && isWord(v[p+4]) {
		return 0
	}
	return p + 4
}

var usStates = map[string]bool{
	"AL": true, "AK": true, "AZ": true, "AR": true, "CA": true, "CO": true, "CT": true, "DE": true, "FL": true, "GA": true,
	"HI": true, "ID": true, "IL": true, "IN": true, "IA": true, "KS": true, "KY": true, "LA": true, "ME": true, "MD": true,
	"MA": true, "MI": true, "MN": true, "MS": true, "MO": true, "MT": true, "NE": true, "NV": true, "NH": true, "NJ": true,
	"NM": true, "NY": true, "NC": true, "ND": true, "OH": true, "OK": true, "OR": true, "PA": true, "RI": true, "SC": true,
	"SD": true, "TN": true, "TX": true, "UT": true, "VT": true, "VA": true, "WA": true, "WV": true, "WI": true, "WY": true, "DC": true,
}

// usZip matches "CA 94105" or "CA 94105-1234" after a comma or a
// capitalised city; it returns the end, or 0.
func usZip(v []byte, i, j int) int {
	if j-i != 2 || !usStates[string(v[i:j])] || i < 2 || !(v[i-1] == ' ' && (v[i-2] == ',' || isLower(v[i-2]))) {
		return 0
	}
	p := j
	if p+6 > len(v) || v[p] != ' ' || digitsEnd(v, p+1) != p+6 {
		return 0
	}
	e := p + 6
	if e+5 <= len(v) && v[e] == '-' && digitsEnd(v, e+1) == e+5 {
		e += 5
	}
	if e < len(v) && isWord(v[e]) {
		return 0
	}
	return e
}

// postcodeCity matches ", 10115 Berlin": five digits after a comma and
// before a capitalised word.
func (s *Scanner) postcodeCity(v []byte, i, e int, hits []Hit) []Hit {
	if i < 2 || v[i-1] != ' ' || v[i-2] != ',' || e+1 >= len(v) || v[e] != ' ' {
		return hits
	}
	var buf [24]byte
	we, n, capital := wordAt(v, e+1, &buf)
	if !capital || n < 3 || stopWords[string(buf[:n])] || (we < len(v) && isWord(v[we])) {
		return hits
	}
	return s.hit(hits, CatAddress, "postcode", 0.4, i, we)
}
