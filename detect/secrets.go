package detect

import (
	"bytes"
	"encoding/base64"
)

// Credentials. Recognised by prefix and shape, then validated where the
// format allows:
//
//   - "jwt": three base64url parts whose header decodes to a JSON object
//     with "alg";
//   - "private-key": PEM "-----BEGIN … PRIVATE KEY-----" (RSA, EC, DSA,
//     OPENSSH, PKCS#8, encrypted at lower confidence, PGP private key blocks);
//   - "aws-key" AKIA/ASIA + 16; "github-token" ghp_/gho_/ghu_/ghs_/ghr_ and
//     github_pat_; "gitlab-token" glpat-; "slack-token" xoxb-/xoxp-/xoxa-/
//     xoxr-/xoxs-/xoxe-/xapp-; "stripe-key" sk_live_/rk_live_ (test keys
//     lower); "google-api-key" AIza + 35; "google-oauth" ya29.;
//     "sendgrid-key" SG.x.y; "openai-key" sk-proj-/sk-svcacct-/sk-admin-
//     and legacy sk-; "anthropic-key" sk-ant-; "npm-token" npm_;
//   - "bearer": an Authorization bearer token in text;
//   - "twilio" SK + 32 hex, "secret" (high-entropy string) and "password"
//     (plaintext) only under a key or assignment naming a secret — see
//     contextValue.
//
// Stripe publishable keys (pk_live_, pk_test_) are public and not reported.
// UUIDs, hex digests, git SHAs, base64 of text, URLs and paths are not
// secrets without such a key, and UUIDs and text are not even with one.

func isURLSafe(b byte) bool { return class[b]&(cDigit|cUpper|cLower) != 0 || b == '-' || b == '_' }
func isAlnumU(b byte) bool  { return class[b]&(cDigit|cUpper|cLower) != 0 || b == '_' }

// tokenEnd returns the end of the run of bytes accepted by ok from p.
func tokenEnd(v []byte, p int, ok func(byte) bool) int {
	for p < len(v) && ok(v[p]) {
		p++
	}
	return p
}

// upperWord runs the detectors that start at an upper-case letter.
func (s *Scanner) upperWord(v []byte, i, j int, c ctx, hits []Hit) ([]Hit, int) {
	w := v[i:j]
	l := len(w)
	if l >= 4 && isUpper(w[1]) && isDigit(w[2]) && isDigit(w[3]) {
		if e := iban(v, i); e > 0 {
			return s.hit(hits, CatBankAccount, "iban", 0.95, i, e), e
		}
	}
	switch w[0] {
	case 'A':
		if l == 20 && (hasPrefix(w, 0, "AKIA") || hasPrefix(w, 0, "ASIA")) && upperAlnum(w[4:]) {
			return s.hit(hits, CatCredentials, "aws-key", 0.9, i, j), j
		}
		if hasPrefix(w, 0, "AIza") {
			if e := tokenEnd(v, i+4, isURLSafe); e-i == 39 {
				return s.hit(hits, CatCredentials, "google-api-key", 0.9, i, e), e
			}
		}
	case 'S':
		if l == 2 && w[1] == 'G' && j < len(v) && v[j] == '.' {
			a := tokenEnd(v, j+1, isURLSafe)
			if a-j-1 >= 16 && a < len(v) && v[a] == '.' {
				if e := tokenEnd(v, a+1, isURLSafe); e-a-1 >= 30 {
					return s.hit(hits, CatCredentials, "sendgrid-key", 0.95, i, e), e
				}
			}
		}
	case 'B':
		if l == 6 && hasPrefixFold(w, 0, "bearer") {
			if out, e := s.bearer(v, j, hits); e > 0 {
				return out, e
			}
		}
	}
	if l == 9 || l == 2 {
		if e := nino(v, i); e > 0 {
			return s.hit(hits, CatNationalID, "nino", 0.7, i, e), e
		}
	}
	if l == 16 && codiceFiscale(w) {
		return s.hit(hits, CatNationalID, "codice-fiscale", 0.9, i, j), j
	}
	if l == 9 && s.nie(w) {
		return s.hit(hits, CatNationalID, "nie", 0.85, i, j), j
	}
	if l <= 4 {
		if e := ukPostcode(v, i, j); e > 0 {
			return s.hit(hits, CatAddress, "postcode", 0.5, i, e), e
		}
		if e := usZip(v, i, j); e > 0 {
			return s.hit(hits, CatAddress, "postcode", 0.5, i, e), e
		}
	}
	if l < 2 || j >= len(v) || v[j] != ' ' || !(isLower(w[1]) || w[1] >= 0x80) {
		return hits, j
	}
	n := len(hits)
	if s.dobContext(i, c) {
		if hits, ok := s.textDateMDY(v, i, c, hits); ok {
			return hits, max(j, s.endOf(hits, n))
		}
	}
	// Names and streets continue with a capitalised word or a number.
	if j+1 >= len(v) || !(isUpper(v[j+1]) || isDigit(v[j+1]) || v[j+1] >= 0x80 || particleStart[v[j+1]]) {
		return hits, j
	}
	if hits = s.nameAt(v, i, j, hits); len(hits) > n {
		return hits, s.endOf(hits, n)
	}
	if hits = s.streetFirst(v, i, hits); len(hits) > n {
		return hits, s.endOf(hits, n)
	}
	return hits, j
}

// particleStart holds the first letters of nameParticles.
var particleStart = [256]bool{'v': true, 'd': true, 'b': true, 'a': true, 'e': true, 'l': true, 't': true}

func upperAlnum(w []byte) bool {
	for _, b := range w {
		if !isUpper(b) && !isDigit(b) {
			return false
		}
	}
	return true
}

// lowerWord runs the detectors that start at a lower-case letter: token
// prefixes, JWTs, Django password hashes.
func (s *Scanner) lowerWord(v []byte, i, j int, c ctx, hits []Hit) ([]Hit, int) {
	type tok struct {
		prefix, det string
		ok          func(byte) bool
		min, max    int
		conf        float64
	}
	var cands []tok
	switch v[i] {
	case 'g':
		if j-i >= 4 && v[i+1] == 'h' && v[i+3] == '_' {
			switch v[i+2] {
			case 'p', 'o', 'u', 's', 'r':
				cands = []tok{{"ghp_", "github-token", isAlnum, 36, 251, 0.95}}
			}
		} else if hasPrefix(v, i, "github_pat_") {
			cands = []tok{{"github_pat_", "github-token", isAlnumU, 50, 255, 0.95}}
		} else if hasPrefix(v, i, "glpat-") {
			cands = []tok{{"glpat-", "gitlab-token", isURLSafe, 20, 255, 0.95}}
		}
	case 'x':
		if hasPrefix(v, i, "xox") && j-i == 4 && j < len(v) && v[j] == '-' && bytes.IndexByte([]byte("bpasre"), v[i+3]) >= 0 {
			cands = []tok{{"xoxb-", "slack-token", isURLSafe, 10, 255, 0.9}}
		} else if hasPrefix(v, i, "xapp-") {
			cands = []tok{{"xapp-", "slack-token", isURLSafe, 10, 255, 0.9}}
		}
	case 's':
		switch {
		case hasPrefix(v, i, "sk_live_"):
			cands = []tok{{"sk_live_", "stripe-key", isAlnum, 16, 255, 0.95}}
		case hasPrefix(v, i, "sk_test_"):
			cands = []tok{{"sk_test_", "stripe-key", isAlnum, 16, 255, 0.7}}
		case hasPrefix(v, i, "sk-ant-"):
			cands = []tok{{"sk-ant-", "anthropic-key", isURLSafe, 20, 255, 0.9}}
		case hasPrefix(v, i, "sk-proj-"):
			cands = []tok{{"sk-proj-", "openai-key", isURLSafe, 20, 255, 0.9}}
		case hasPrefix(v, i, "sk-svcacct-"):
			cands = []tok{{"sk-svcacct-", "openai-key", isURLSafe, 20, 255, 0.9}}
		case hasPrefix(v, i, "sk-admin-"):
			cands = []tok{{"sk-admin-", "openai-key", isURLSafe, 20, 255, 0.9}}
		case hasPrefix(v, i, "sk-"):
			cands = []tok{{"sk-", "openai-key", isAlnum, 32, 64, 0.7}}
		}
	case 'r':
		if hasPrefix(v, i, "rk_live_") {
			cands = []tok{{"rk_live_", "stripe-key", isAlnum, 16, 255, 0.95}}
		} else if hasPrefix(v, i, "rk_test_") {
			cands = []tok{{"rk_test_", "stripe-key", isAlnum, 16, 255, 0.7}}
		}
	case 'y':
		if hasPrefix(v, i, "ya29.") {
			cands = []tok{{"ya29.", "google-oauth", isURLSafe, 20, 2048, 0.9}}
		}
	case 'n':
		if hasPrefix(v, i, "npm_") {
			cands = []tok{{"npm_", "npm-token", isAlnum, 36, 36, 0.95}}
		}
	case 'e':
		if hasPrefix(v, i, "eyJ") {
			return s.jwt(v, i, hits)
		}
	case 'b':
		if j-i == 6 && hasPrefixFold(v, i, "bearer") {
			if out, e := s.bearer(v, j, hits); e > 0 {
				return out, e
			}
		}
	case 'p':
		if hasPrefix(v, i, "pbkdf2_sha") {
			return s.djangoPBKDF2(v, i, hits)
		}
	}
	for _, t := range cands {
		p := i + len(t.prefix)
		e := tokenEnd(v, p, t.ok)
		if e-p < t.min || e-p > t.max || (e < len(v) && isWord(v[e])) {
			continue
		}
		if t.det == "openai-key" && t.prefix == "sk-" && !mixedClasses(v[p:e]) {
			continue
		}
		return s.hit(hits, CatCredentials, t.det, t.conf, i, e), e
	}
	return hits, j
}

// mixedClasses reports whether v has a digit and both letter cases, as
// random tokens of 32+ characters almost always do and words never do.
func mixedClasses(v []byte) bool {
	var up, lo, dig bool
	for _, b := range v {
		up = up || isUpper(b)
		lo = lo || isLower(b)
		dig = dig || isDigit(b)
	}
	return up && lo && dig
}

// jwt validates header.payload.signature at i (which starts "eyJ").
func (s *Scanner) jwt(v []byte, i int, hits []Hit) ([]Hit, int) {
	e1 := tokenEnd(v, i, isURLSafe)
	if e1-i < 10 || e1-i > 2048 || e1+3 >= len(v) || v[e1] != '.' || v[e1+1] != 'e' || v[e1+2] != 'y' {
		return hits, e1
	}
	e2 := tokenEnd(v, e1+1, isURLSafe)
	if e2 >= len(v) || v[e2] != '.' {
		return hits, e2
	}
	e := tokenEnd(v, e2+1, isURLSafe)
	for parts := 3; parts < 5 && e+1 < len(v) && v[e] == '.' && isURLSafe(v[e+1]); parts++ {
		e = tokenEnd(v, e+1, isURLSafe) // JWE: five parts
	}
	if e < len(v) && isWord(v[e]) {
		return hits, e
	}
	need := base64.RawURLEncoding.DecodedLen(e1 - i)
	if cap(s.dec) < need {
		s.dec = make([]byte, need)
	}
	n, err := base64.RawURLEncoding.Decode(s.dec[:need], v[i:e1])
	if err != nil {
		return hits, e
	}
	h := s.dec[:n]
	if len(h) < 8 || h[0] != '{' || !bytes.Contains(h, []byte(`"alg"`)) {
		return hits, e
	}
	conf := 0.95
	if e == e2+1 {
		conf = 0.8 // unsigned
	}
	return s.hit(hits, CatCredentials, "jwt", conf, i, e), e
}

// bearer reads the token after "Bearer" (j is the end of the word).
func (s *Scanner) bearer(v []byte, j int, hits []Hit) ([]Hit, int) {
	p := j
	for p < len(v) && v[p] == ' ' && p-j < 3 {
		p++
	}
	if p == j || p >= len(v) {
		return hits, 0
	}
	if hasPrefix(v, p, "eyJ") {
		n := len(hits)
		if out, e := s.jwt(v, p, hits); len(out) > n {
			return out, e
		}
	}
	e := p
	for e < len(v) && (isURLSafe(v[e]) || v[e] == '.' || v[e] == '~' || v[e] == '+' || v[e] == '/') {
		e++
	}
	for e < len(v) && v[e] == '=' {
		e++
	}
	if e-p < 16 || e-p > 4096 || (e < len(v) && isWord(v[e])) {
		return hits, 0
	}
	var letters, digits bool
	for _, b := range v[p:e] {
		letters = letters || isLetter(b)
		digits = digits || isDigit(b)
	}
	if !letters || !digits {
		return hits, 0
	}
	return s.hit(hits, CatCredentials, "bearer", 0.85, p, e), e
}

// pem matches a PEM private key block at i ("-----BEGIN").
func (s *Scanner) pem(v []byte, i int, hits []Hit) ([]Hit, int) {
	if !hasPrefix(v, i, "-----BEGIN ") {
		return hits, i + 2
	}
	p := i + 11
	lim := min(len(v), p+64)
	k := bytes.Index(v[p:lim], []byte("-----"))
	if k < 0 {
		return hits, p
	}
	label := v[p : p+k]
	he := p + k + 5
	if !bytes.HasSuffix(label, []byte("PRIVATE KEY")) && !bytes.Equal(label, []byte("PGP PRIVATE KEY BLOCK")) {
		return hits, he
	}
	conf := 0.99
	if bytes.Contains(label, []byte("ENCRYPTED")) {
		conf = 0.8
	}
	end := he
	x := -1
	if he >= s.pemMiss {
		// Remember a window without an END line, so that a value of
		// repeated BEGIN lines is not searched again and again.
		lim := min(len(v), he+1<<15)
		if x = bytes.Index(v[he:lim], []byte("-----END ")); x < 0 {
			s.pemMiss = lim
		}
	}
	if x >= 0 {
		q := he + x + 9
		if y := bytes.Index(v[q:min(len(v), q+64)], []byte("-----")); y >= 0 {
			end = q + y + 5
		}
	} else {
		conf -= 0.09 // truncated: still a leak, less certainly a whole key
	}
	return s.hit(hits, CatCredentials, "private-key", conf, i, end), end
}
