package detect

// Password hashes ("bcrypt", "argon2", "scrypt", "yescrypt", "sha512-crypt",
// "sha256-crypt", "md5-crypt", "pbkdf2"): the protected form of a password,
// reported under user.authorization.password so that a caller can tell a
// column of hashes from one of plaintext passwords. Each format is checked
// for its scheme, parameters and field lengths, not just its "$2b$" prefix.
// Unsalted hex digests (md5, sha1, sha256 of a password) are
// indistinguishable from any other digest and are not reported.

func crypt64(b byte) bool { return isAlnum(b) || b == '.' || b == '/' }
func b64std(b byte) bool  { return isAlnum(b) || b == '+' || b == '/' || b == '=' }

// field reads a '$'-terminated field of ok bytes at p: it returns the
// field's end, or -1.
func field(v []byte, p int, ok func(byte) bool, minLen, maxLen int) int {
	e := tokenEnd(v, p, ok)
	if e-p < minLen || e-p > maxLen {
		return -1
	}
	return e
}

// cryptHash matches a modular-crypt hash at the '$' at i.
func (s *Scanner) cryptHash(v []byte, i int, hits []Hit) ([]Hit, int) {
	if i > 0 && isAlnum(v[i-1]) && !(i >= 6 && (hasPrefix(v, i-6, "argon2") || hasPrefix(v, i-6, "bcrypt"))) {
		return hits, i + 1
	}
	if i+4 > len(v) {
		return hits, i + 1
	}
	det, e := "", -1
	switch {
	case v[i+1] == '2' && v[i+3] == '$' && (v[i+2] == 'a' || v[i+2] == 'b' || v[i+2] == 'y' || v[i+2] == 'x'):
		if i+60 <= len(v) && isDigit(v[i+4]) && isDigit(v[i+5]) && v[i+6] == '$' && tokenEnd(v, i+7, crypt64) == i+60 {
			det, e = "bcrypt", i+60
		}
	case hasPrefix(v, i, "$argon2"):
		det, e = "argon2", s.phcHash(v, i+7)
	case hasPrefix(v, i, "$scrypt$"), hasPrefix(v, i, "$pbkdf2"):
		det = "scrypt"
		if v[i+2] == 'p' {
			det = "pbkdf2"
		}
		e = s.phcHash(v, i+1)
	case hasPrefix(v, i, "$7$"):
		if a := field(v, i+3, crypt64, 14, 80); a > 0 && a < len(v) && v[a] == '$' {
			if b := field(v, a+1, crypt64, 43, 43); b > 0 {
				det, e = "scrypt", b
			}
		}
	case hasPrefix(v, i, "$y$"):
		if a := field(v, i+3, crypt64, 1, 32); a > 0 && a < len(v) && v[a] == '$' {
			if b := field(v, a+1, crypt64, 1, 64); b > 0 && b < len(v) && v[b] == '$' {
				if c := field(v, b+1, crypt64, 43, 43); c > 0 {
					det, e = "yescrypt", c
				}
			}
		}
	case v[i+2] == '$' && (v[i+1] == '1' || v[i+1] == '5' || v[i+1] == '6'):
		p := i + 3
		if hasPrefix(v, p, "rounds=") {
			q := digitsEnd(v, p+7)
			if q == p+7 || q >= len(v) || v[q] != '$' {
				return hits, i + 1
			}
			p = q + 1
		}
		maxSalt, hashLen := 16, 86
		det = "sha512-crypt"
		switch v[i+1] {
		case '1':
			maxSalt, hashLen, det = 8, 22, "md5-crypt"
		case '5':
			hashLen, det = 43, "sha256-crypt"
		}
		if a := field(v, p, crypt64, 0, maxSalt); a >= 0 && a < len(v) && v[a] == '$' {
			e = field(v, a+1, crypt64, hashLen, hashLen)
		}
	}
	if det == "" || e < 0 || (e < len(v) && isWord(v[e])) {
		return hits, i + 1
	}
	return s.hit(hits, CatPassword, det, 0.95, i, e), e
}

// phcHash reads the rest of a PHC-format hash after its scheme name:
// [$v=19]$params$salt$hash with base64 salt and hash. It returns the end or
// -1.
func (s *Scanner) phcHash(v []byte, p int) int {
	p = tokenEnd(v, p, func(b byte) bool { return isAlnum(b) || b == '-' }) // argon2id, pbkdf2-sha256
	var buf [6][2]int
	fields := buf[:0]
	for len(fields) < 6 && p < len(v) && v[p] == '$' {
		e := tokenEnd(v, p+1, func(b byte) bool { return b64std(b) || b == '.' || b == ',' || b == '-' })
		if e == p+1 {
			break
		}
		fields = append(fields, [2]int{p + 1, e})
		p = e
	}
	// At least params, salt and hash; the last two plain base64.
	if len(fields) < 3 {
		return -1
	}
	salt, hash := fields[len(fields)-2], fields[len(fields)-1]
	if salt[1]-salt[0] < 8 || hash[1]-hash[0] < 16 {
		return -1
	}
	for _, f := range [][2]int{salt, hash} {
		for _, b := range v[f[0]:f[1]] {
			if b == ',' || b == '=' && f == salt {
				return -1
			}
		}
	}
	params := v[fields[0][0]:fields[0][1]]
	if !bytesContainsByte(params, '=') && !allDigits(params) {
		return -1
	}
	return hash[1]
}

func bytesContainsByte(v []byte, c byte) bool {
	for _, b := range v {
		if b == c {
			return true
		}
	}
	return false
}

// djangoPBKDF2 matches Django's pbkdf2_sha256$iterations$salt$hash at i.
func (s *Scanner) djangoPBKDF2(v []byte, i int, hits []Hit) ([]Hit, int) {
	p := tokenEnd(v, i, isAlnumU)
	if p >= len(v) || v[p] != '$' {
		return hits, p
	}
	q := digitsEnd(v, p+1)
	if q == p+1 || q >= len(v) || v[q] != '$' {
		return hits, q
	}
	a := field(v, q+1, func(b byte) bool { return b64std(b) || b == '.' }, 1, 128)
	if a < 0 || a >= len(v) || v[a] != '$' {
		return hits, q
	}
	e := field(v, a+1, b64std, 20, 128)
	if e < 0 || (e < len(v) && isWord(v[e])) {
		return hits, q
	}
	return s.hit(hits, CatPassword, "pbkdf2", 0.95, i, e), e
}
