package detect

// ibanLengths is the IBAN length of each country in the SWIFT registry.
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27, "BR": 29,
	"BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
	"ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
	"HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
	"LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
	"MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25,
	"QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
	"SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

// iban validates an IBAN at i — country code, the country's length, and the
// ISO 7064 mod-97 check — written compactly or in groups of four separated
// by single spaces. It returns the end, or 0. Lower-case IBANs, and national
// account numbers without an IBAN, are not matched.
func iban(v []byte, i int) int {
	want, ok := ibanLengths[string(v[i:i+2])]
	if !ok || (i > 0 && isAlnum(v[i-1])) {
		return 0
	}
	var buf [34]byte
	n := 0
	p := i
	spaced := i+4 < len(v) && v[i+4] == ' '
	for n < want && p < len(v) {
		b := v[p]
		if isUpper(b) || isDigit(b) {
			buf[n] = b
			n++
			p++
			continue
		}
		// A space may only follow a whole group of four.
		if spaced && b == ' ' && n%4 == 0 && p+1 < len(v) && isAlnum(v[p+1]) {
			p++
			continue
		}
		break
	}
	if n != want || (p < len(v) && isAlnum(v[p])) {
		return 0
	}
	if !allDigits(buf[2:4]) {
		return 0
	}
	// Move the first four characters to the end; letters count as 10..35.
	r := 0
	for k := 0; k < n; k++ {
		b := buf[(k+4)%n]
		if isDigit(b) {
			r = (r*10 + int(b-'0')) % 97
		} else {
			r = (r*100 + int(b-'A'+10)) % 97
		}
	}
	if r != 1 {
		return 0
	}
	return p
}
