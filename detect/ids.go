package detect

// National identification numbers. Supported, each with the rule it checks:
//
//   - US SSN ("ssn"): AAA-GG-SSSS, dashed only, without the ranges the SSA
//     never issues (area 000, 666, 900–999; group 00; serial 0000) and the
//     advertising numbers 078-05-1120 and 219-09-9999. Nine bare digits only
//     under a key such as "ssn".
//   - UK National Insurance number ("nino"): two prefix letters from the
//     allowed set, six digits, suffix A–D, with or without spaces. Format
//     only: a NINO has no check digit.
//   - Dutch BSN ("bsn"): the 11-proof, only under a key such as "bsn".
//   - Spanish DNI and NIE ("dni", "nie"): the mod-23 check letter.
//   - French NIR ("nir"): sex digit, month, and the mod-97 key, plain or in
//     its printed groups. Corsican departments (2A, 2B) are not supported.
//   - Italian codice fiscale ("codice-fiscale"): layout, month letter and the
//     check character, omocodia substitutions included.
//   - Swedish personnummer ("personnummer"): a valid date and Luhn, with the
//     '-' or '+' separator (bare digits are too often something else).
//   - Finnish HETU ("hetu"): a valid date, century sign and the mod-31 check
//     character.
//
// Other countries' numbers without a checksum are not attempted: a format
// alone matches too many order numbers.

func validSSN(area, group, serial []byte) bool {
	a, g, sn := atoi(area), atoi(group), atoi(serial)
	if a == 0 || a == 666 || a >= 900 || g == 0 || sn == 0 {
		return false
	}
	if a == 78 && g == 5 && sn == 1120 || a == 219 && g == 9 && sn == 9999 {
		return false
	}
	return true
}

func (s *Scanner) ssn(v []byte, t *numTok, hits []Hit) []Hit {
	if t.n < 3 || t.len(0) != 3 || t.len(1) != 2 || t.len(2) != 4 || t.sep[1] != '-' || t.sep[2] != '-' || !t.uniform(3, "-") {
		return hits
	}
	e := t.g[2][1]
	if e < len(v) && isWord(v[e]) {
		return hits
	}
	if !validSSN(v[t.g[0][0]:t.g[0][1]], v[t.g[1][0]:t.g[1][1]], v[t.g[2][0]:t.g[2][1]]) {
		return hits
	}
	return s.hit(hits, CatNationalID, "ssn", 0.85, t.g[0][0], e)
}

// validBSN applies the Dutch 11-proof to nine digits.
func validBSN(d []byte) bool {
	if len(d) != 9 || atoi(d) == 0 {
		return false
	}
	sum := 0
	for i := 0; i < 8; i++ {
		sum += int(d[i]-'0') * (9 - i)
	}
	sum -= int(d[8] - '0')
	return sum%11 == 0
}

func (s *Scanner) personnummer(v []byte, t *numTok, hits []Hit) []Hit {
	if t.n < 2 || t.sep[1] != '-' || t.len(1) != 4 || (t.len(0) != 6 && t.len(0) != 8) || !t.uniform(2, "-") {
		return hits
	}
	e := t.g[1][1]
	if e < len(v) && isWord(v[e]) {
		return hits
	}
	var d [10]byte
	copy(d[:], v[t.g[0][1]-6:t.g[0][1]])
	copy(d[6:], v[t.g[1][0]:e])
	mm, dd := atoi(d[2:4]), atoi(d[4:6])
	if dd > 60 {
		dd -= 60 // samordningsnummer
	}
	if mm < 1 || mm > 12 || dd < 1 || dd > 31 || !luhn(d[:]) {
		return hits
	}
	if t.len(0) == 8 {
		if y := atoi(v[t.g[0][0] : t.g[0][0]+4]); y < 1880 || y > s.maxYear+13 {
			return hits
		}
	}
	return s.hit(hits, CatNationalID, "personnummer", 0.8, t.g[0][0], e)
}

const hetuChecks = "0123456789ABCDEFHJKLMNPRSTUVWXY"

// hetu validates DDMMYYCZZZQ at i, where the six digits are already known.
func (s *Scanner) hetu(v []byte, i int, hits []Hit) ([]Hit, bool) {
	e := i + 11
	if e > len(v) || (e < len(v) && isWord(v[e])) {
		return hits, false
	}
	switch v[i+6] {
	case '+', '-', 'A', 'B', 'C', 'D', 'E', 'F', 'U', 'V', 'W', 'X', 'Y':
	default:
		return hits, false
	}
	if !isDigit(v[i+7]) || !isDigit(v[i+8]) || !isDigit(v[i+9]) {
		return hits, false
	}
	dd, mm := atoi(v[i:i+2]), atoi(v[i+2:i+4])
	if dd < 1 || dd > 31 || mm < 1 || mm > 12 {
		return hits, false
	}
	n := atoi(v[i:i+6])*1000 + atoi(v[i+7:i+10])
	if hetuChecks[n%31] != v[i+10] {
		return hits, false
	}
	return s.hit(hits, CatNationalID, "hetu", 0.9, i, e), true
}

const dniLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

// dni validates eight digits and the check letter at e.
func (s *Scanner) dni(v []byte, i, e int, hits []Hit) []Hit {
	if e+1 < len(v) && isWord(v[e+1]) {
		return hits
	}
	if dniLetters[atoi(v[i:e])%23] != v[e] {
		return hits
	}
	return s.hit(hits, CatNationalID, "dni", 0.85, i, e+1)
}

// nie validates X/Y/Z, seven digits and the check letter (w is the word).
func (s *Scanner) nie(w []byte) bool {
	if len(w) != 9 || (w[0] != 'X' && w[0] != 'Y' && w[0] != 'Z') || !allDigits(w[1:8]) || !isUpper(w[8]) {
		return false
	}
	n := int(w[0]-'X')*10000000 + atoi(w[1:8])
	return dniLetters[n%23] == w[8]
}

func (s *Scanner) nir(v []byte, t *numTok, hits []Hit) []Hit {
	var d [15]byte
	var k int
	switch {
	case t.n >= 1 && t.len(0) == 15 && t.uniform(1, ""):
		k = 1
	case t.n >= 7 && t.uniform(7, " ") && t.len(0) == 1 && t.len(1) == 2 && t.len(2) == 2 && t.len(3) == 2 &&
		t.len(4) == 3 && t.len(5) == 3 && t.len(6) == 2:
		k = 7
	default:
		return hits
	}
	o := 0
	for m := 0; m < k; m++ {
		o += copy(d[o:], v[t.g[m][0]:t.g[m][1]])
	}
	e := t.g[k-1][1]
	if e < len(v) && isWord(v[e]) {
		return hits
	}
	switch d[0] {
	case '1', '2', '3', '4', '7', '8':
	default:
		return hits
	}
	if mm := atoi(d[3:5]); !(mm >= 1 && mm <= 12 || mm == 20 || mm >= 30 && mm <= 42 || mm >= 50 && mm <= 99) {
		return hits
	}
	n := 0
	for _, b := range d[:13] {
		n = (n*10 + int(b-'0')) % 97
	}
	if 97-n != atoi(d[13:15]) {
		return hits
	}
	conf := 0.7
	if k == 7 {
		conf = 0.9
	}
	return s.hit(hits, CatNationalID, "nir", conf, t.g[0][0], e)
}

// nino validates a UK National Insurance number at i: "AB123456C" or
// "AB 12 34 56 C". It returns the end, or 0.
func nino(v []byte, i int) int {
	if i+9 > len(v) || !isUpper(v[i]) || !isUpper(v[i+1]) {
		return 0
	}
	a, b := v[i], v[i+1]
	switch a {
	case 'D', 'F', 'I', 'Q', 'U', 'V':
		return 0
	}
	switch b {
	case 'D', 'F', 'I', 'O', 'Q', 'U', 'V':
		return 0
	}
	switch string(v[i : i+2]) {
	case "BG", "GB", "KN", "NK", "NT", "TN", "ZZ":
		return 0
	}
	p := i + 2
	spaced := v[p] == ' '
	for g := 0; g < 3; g++ {
		if spaced {
			if p >= len(v) || v[p] != ' ' {
				return 0
			}
			p++
		}
		if p+2 > len(v) || !isDigit(v[p]) || !isDigit(v[p+1]) {
			return 0
		}
		p += 2
	}
	if spaced {
		if p >= len(v) || v[p] != ' ' {
			return 0
		}
		p++
	}
	if p >= len(v) || v[p] < 'A' || v[p] > 'D' {
		return 0
	}
	p++
	if p < len(v) && isWord(v[p]) {
		return 0
	}
	return p
}

var (
	cfOdd      = [36]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}
	cfMonths   = "ABCDEHLMPRST"
	cfOmocodia = "LMNPQRSTUV"
)

// codiceFiscale validates a 16-character Italian tax code: six letters, year,
// month letter, day (41–71 for women), municipality, check character.
func codiceFiscale(w []byte) bool {
	if len(w) != 16 {
		return false
	}
	digitPos := func(p int) bool { return p == 6 || p == 7 || p == 9 || p == 10 || p == 12 || p == 13 || p == 14 }
	var day [2]byte
	for p, b := range w[:15] {
		switch {
		case digitPos(p):
			if !isDigit(b) && !containsByte(cfOmocodia, b) {
				return false
			}
		case !isUpper(b):
			return false
		}
		if p == 9 || p == 10 {
			if !isDigit(b) {
				b = '0' + byte(indexByte(cfOmocodia, b))
			}
			day[p-9] = b
		}
	}
	if !containsByte(cfMonths, w[8]) {
		return false
	}
	if d := atoi(day[:]); !(d >= 1 && d <= 31 || d >= 41 && d <= 71) {
		return false
	}
	sum := 0
	for p, b := range w[:15] {
		var n int
		if isDigit(b) {
			n = int(b - '0')
		} else {
			n = int(b - 'A')
		}
		if p%2 == 0 { // odd positions, 1-based
			if isDigit(b) {
				sum += cfOdd[n]
			} else {
				sum += cfOdd[10+n]
			}
		} else {
			sum += n
		}
	}
	return w[15] == byte('A'+sum%26)
}

func containsByte(s string, b byte) bool { return indexByte(s, b) >= 0 }

func indexByte(s string, b byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return i
		}
	}
	return -1
}
