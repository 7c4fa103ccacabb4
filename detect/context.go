package detect

import (
	"bytes"
	"encoding/base64"
	"math"
	"strings"
)

// ctx is what a key name (a JSON key, or the left side of key=value in a log
// line) says about its value. Context enables detectors too noisy to run on
// bare text (a nine-digit SSN, a Dutch BSN, a high-entropy secret) and raises
// the confidence of others.
type ctx uint16

const (
	ctxPassword ctx = 1 << iota
	ctxSecret
	ctxHashed // the key says the value is a hash or ciphertext, not a plaintext secret
	ctxSSN
	ctxBSN
	ctxDOB
	ctxPhone
	ctxNameStrong
	ctxNameWeak
	ctxAddress
	ctxOpaque // the key is data (an email, an id), not a name: its path segment is "*"
)

// keyCtx classifies a key, with a bounded cache: keys repeat across values.
func (s *Scanner) keyCtx(key []byte) ctx {
	if len(key) > 64 {
		return ctxOpaque
	}
	// A direct-mapped cache in front of the map: keys repeat from value to
	// value, and this is cheaper than hashing for a map probe.
	if len(key) == 0 {
		return ctxOpaque
	}
	h := uint32(len(key))*2654435761 ^ uint32(key[0])<<3 ^ uint32(key[len(key)-1])<<5 ^ uint32(key[len(key)/2])
	e := &s.keyCache[h%uint32(len(s.keyCache))]
	if len(key) <= len(e.key) && int(e.n) == len(key) && e.set && string(e.key[:e.n]) == string(key) {
		return e.c
	}
	c, ok := s.keys[string(key)]
	if !ok {
		c = s.classify(key)
	}
	if len(key) <= len(e.key) {
		e.n, e.set, e.c = uint8(copy(e.key[:], key)), true, c
	}
	return c
}

// keyEntry is a slot of Scanner.keyCache.
type keyEntry struct {
	key [30]byte
	n   uint8
	set bool
	c   ctx
}

func (s *Scanner) classify(key []byte) ctx {
	var buf [64]byte
	n := 0
	opaque := len(key) == 0
	digits := 0
	for _, b := range key {
		switch {
		case isUpper(b):
			buf[n] = b + 32
			n++
		case isLower(b):
			buf[n] = b
			n++
		case isDigit(b):
			buf[n] = b
			n++
			digits++
		case b == '_' || b == '-':
		default:
			// Spaces, dots, @ and the rest are not in the names programs
			// give keys; they are in people's names, emails and domains
			// used as keys ("Alice Smith", "max.mustermann").
			opaque = true
		}
	}
	var c ctx
	// Only what looks like a name a program gave goes into a path: short,
	// and not mostly digits or a long mix of letters and digits (an IBAN,
	// a token, an id used as a key).
	if opaque || n == 0 || digits*2 >= n || len(key) > 40 || len(key) >= 20 && digits >= 3 {
		c = ctxOpaque
	} else {
		c = classifyKey(string(buf[:n]))
	}
	if len(s.keys) >= 4096 {
		clear(s.keys)
	}
	s.keys[string(key)] = c
	return c
}

func hasAny(k string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(k, sub) {
			return true
		}
	}
	return false
}

func hasSuffixAny(k string, subs ...string) bool {
	for _, sub := range subs {
		if strings.HasSuffix(k, sub) {
			return true
		}
	}
	return false
}

// classifyKey maps a normalised key (lower-case letters and digits only) to
// its context.
func classifyKey(k string) ctx {
	var c ctx
	if hasAny(k, "hash", "digest", "fingerprint", "checksum", "sha1", "sha256", "sha512", "md5", "encrypted", "ciphertext", "bcrypt", "argon", "scrypt", "pbkdf") {
		c |= ctxHashed
	}
	// Metadata about a secret, not the secret.
	meta := hasSuffixAny(k, "at", "type", "url", "uri", "count", "name", "expiry", "expires", "expiresin", "ttl", "scope", "scopes",
		"length", "len", "enabled", "version", "kind", "method", "provider", "policy", "prefix", "last4", "hint", "salt", "required", "strength", "reset", "changed", "updated", "status") ||
		(strings.HasSuffix(k, "id") && !strings.Contains(k, "session"))
	if !meta && c&ctxHashed == 0 {
		if hasAny(k, "password", "passwd", "passphrase") || k == "pwd" || k == "pass" || k == "pw" || strings.HasSuffix(k, "pwd") {
			c |= ctxPassword
		}
		if hasAny(k, "token", "secret", "apikey", "accesskey", "privatekey", "signingkey", "session", "credential", "bearer", "cookie") ||
			(strings.Contains(k, "auth") && !strings.Contains(k, "author")) || k == "sid" ||
			strings.HasSuffix(k, "key") && !hasAny(k, "public", "pubkey", "cache", "sort", "primary", "foreign", "partition", "idempotency", "object", "s3key", "hotkey", "shortcut", "monkey", "turkey", "jockey", "hockey") {
			c |= ctxSecret
		}
	}
	if k == "ssn" || hasAny(k, "socialsecurity") || strings.HasPrefix(k, "ssn") || strings.HasSuffix(k, "ssn") {
		c |= ctxSSN
	}
	if hasAny(k, "bsn", "burgerservice") {
		c |= ctxBSN
	}
	if hasAny(k, "dob", "birth", "born", "geburt", "naissance", "nacimiento", "nascita", "bday", "fodsel", "fodelse") {
		c |= ctxDOB
	}
	if hasAny(k, "phone", "mobile", "msisdn", "whatsapp", "telefon", "telefono", "telephone") || strings.HasPrefix(k, "tel") || k == "cell" || k == "fax" || strings.HasSuffix(k, "tel") && len(k) <= 8 {
		if !meta || strings.HasSuffix(k, "phone") {
			c |= ctxPhone
		}
	}
	switch {
	case hasAny(k, "firstname", "lastname", "fullname", "givenname", "familyname", "surname", "middlename", "customername",
		"contactname", "billingname", "shippingname", "cardholder", "holdername", "accountholder", "legalname", "personname", "recipientname"):
		c |= ctxNameStrong
	case k == "name" || k == "displayname" || k == "nickname" || k == "realname" || k == "owner" || k == "contact":
		c |= ctxNameWeak
	}
	if (hasAny(k, "address", "street", "postal", "addr") || strings.HasPrefix(k, "line1") || strings.HasPrefix(k, "line2")) &&
		!hasAny(k, "email", "mail", "ipaddr", "ipv", "mac", "url", "remote", "wallet", "host", "listen", "bind", "server", "proxy", "peer", "client", "local", "network") &&
		!strings.HasPrefix(k, "ip") {
		c |= ctxAddress
	}
	return c
}

// assignment handles key=value, key: value and "key": "value" in text: a key
// naming a secret, an SSN or a phone number turns on context detectors for
// the value. i and j bound the last word of the key.
func (s *Scanner) assignment(v []byte, i, j int, hits []Hit) ([]Hit, int) {
	ks := i
	for ks > 0 && ks > i-40 && (isWord(v[ks-1]) || v[ks-1] == '-' || v[ks-1] == '.') {
		ks--
	}
	if j-ks > 40 || j-ks < 2 {
		return hits, j
	}
	p := j
	if v[p] == '"' || v[p] == '\'' {
		p++
	}
	for p < len(v) && v[p] == ' ' && p-j < 4 {
		p++
	}
	if p >= len(v) || (v[p] != '=' && v[p] != ':') {
		return hits, j
	}
	p++
	for p < len(v) && v[p] == ' ' && p-j < 8 {
		p++
	}
	c := s.keyCtx(v[ks:j])
	if c&ctxDOB != 0 {
		s.dobAt = p
	}
	if c&(ctxPassword|ctxSecret|ctxSSN|ctxBSN|ctxPhone) == 0 || s.inAssign {
		return hits, j
	}
	var q byte
	if p < len(v) && (v[p] == '"' || v[p] == '\'') {
		q = v[p]
		p++
	}
	e := p
	for e < len(v) && e-p < 4096 {
		b := v[e]
		if q != 0 {
			if b == q || b == '\n' {
				break
			}
		} else if b <= ' ' || b == ',' || b == ';' || b == '&' || b == '"' || b == '\'' || b == ')' || b == ']' || b == '}' || b == '<' || b == '>' {
			break
		}
		e++
	}
	if e == p {
		return hits, j
	}
	// Specific detectors get the first look at the value: a JWT after
	// "token=" is a JWT, a bcrypt hash after "password=" is a hash.
	n := len(hits)
	s.inAssign = true
	hits = s.scanRange(v[:e], p, c, hits)
	s.inAssign = false
	hits = s.contextValue(v, p, e, c, false, hits, n)
	// The value has had every detector but assignments. A long one is
	// skipped, so that "token=token=token=…" costs linear time; a short one
	// is scanned again in its text, where a phone number may go on past a
	// space.
	if len(hits) > n || e-p > 256 {
		return hits, e
	}
	return hits, j
}

// contextValue runs the detectors that need context on a whole value [a, b)
// of v, unless a specific detector already covered it (hits[from:]).
func (s *Scanner) contextValue(v []byte, a, b int, c ctx, fromJSON bool, hits []Hit, from int) []Hit {
	for a < b && (v[a] == ' ' || v[a] == '\t') {
		a++
	}
	for b > a && (v[b-1] == ' ' || v[b-1] == '\t') {
		b--
	}
	val := v[a:b]
	if len(val) == 0 || c&^(ctxHashed|ctxDOB|ctxOpaque) == 0 {
		return hits
	}
	covered := func(cats ...string) bool {
		for _, h := range hits[from:] {
			if h.Start < s.base+b && h.End > s.base+a {
				for _, cat := range cats {
					if h.Category == cat {
						return true
					}
				}
			}
		}
		return false
	}
	conf := 0.7
	if fromJSON {
		conf = 0.8
	}
	if c&ctxPassword != 0 && plausiblePassword(val, fromJSON) && !covered(CatCredentials, CatPassword) {
		hits = s.hit(hits, CatCredentials, "password", conf, a, b)
	}
	if c&ctxSecret != 0 && !covered(CatCredentials, CatPassword) {
		if det, cf := s.genericSecret(val); det != "" {
			hits = s.hit(hits, CatCredentials, det, cf, a, b)
		}
	}
	if c&(ctxSSN|ctxBSN) != 0 && len(val) == 9 && allDigits(val) && !covered(CatNationalID) {
		if c&ctxSSN != 0 && validSSN(val[0:3], val[3:5], val[5:9]) {
			hits = s.hit(hits, CatNationalID, "ssn", conf, a, b)
		} else if c&ctxBSN != 0 && validBSN(val) {
			hits = s.hit(hits, CatNationalID, "bsn", conf+0.05, a, b)
		}
	}
	if c&ctxPhone != 0 && !covered(CatPhone) && phoneLike(val) {
		hits = s.hit(hits, CatPhone, "phone", conf-0.1, a, b)
	}
	if !fromJSON {
		return hits
	}
	if c&(ctxNameStrong|ctxNameWeak) != 0 && !covered(CatName, CatEmail) {
		if cf := nameValue(val, c&ctxNameStrong != 0); cf > 0 {
			hits = s.hit(hits, CatName, "name", cf, a, b)
		}
	}
	if c&ctxAddress != 0 && !covered(CatAddress, CatEmail, CatIP) && addressValue(val) {
		hits = s.hit(hits, CatAddress, "address", 0.6, a, b)
	}
	return hits
}

func allDigits(v []byte) bool {
	for _, b := range v {
		if !isDigit(b) {
			return false
		}
	}
	return len(v) > 0
}

var placeholders = []string{
	"null", "nil", "none", "true", "false", "redacted", "[redacted]", "<redacted>", "(redacted)", "[filtered]", "filtered",
	"hidden", "masked", "secret", "password", "undefined", "empty", "n/a", "xxx", "<hidden>", "[hidden]", "removed",
}

// plausiblePassword rejects the values a password field holds when it holds
// no password: placeholders, masks, template references.
func plausiblePassword(v []byte, fromJSON bool) bool {
	min := 6
	if fromJSON {
		min = 4
	}
	if len(v) < min || len(v) > 256 {
		return false
	}
	same := true
	for _, b := range v {
		if b != v[0] {
			same = false
		}
		if b == '\n' {
			return false
		}
	}
	if same {
		return false
	}
	for _, p := range placeholders {
		if len(v) == len(p) && hasPrefixFold(v, 0, p) {
			return false
		}
	}
	switch {
	case hasPrefix(v, 0, "${"), hasPrefix(v, 0, "{{"), hasPrefix(v, 0, "%("), hasPrefix(v, 0, "$("), hasPrefix(v, 0, "env:"),
		bytes.Contains(v, []byte("***")), bytes.Contains(v, []byte("•")):
		return false
	}
	return true
}

// genericSecret decides whether a value under a key naming a secret looks
// like one: long, from a token alphabet, mixed, and random. UUIDs, words,
// paths, URLs and base64 of ordinary text are not.
func (s *Scanner) genericSecret(v []byte) (string, float64) {
	if len(v) == 34 && v[0] == 'S' && v[1] == 'K' && allHexLower(v[2:]) {
		return "twilio", 0.8
	}
	if len(v) < 24 || len(v) > 1024 || isUUID(v) {
		return "", 0
	}
	if v[0] == '/' || bytes.Contains(v, []byte("://")) || bytes.Contains(v, []byte("..")) {
		return "", 0
	}
	var up, lo, dig, hex int
	for _, b := range v {
		k := class[b]
		if k&cB64 == 0 && b != '.' && b != '~' {
			return "", 0
		}
		switch {
		case k&cUpper != 0:
			up++
		case k&cLower != 0:
			lo++
		case k&cDigit != 0:
			dig++
		}
		if k&cHex != 0 {
			hex++
		}
	}
	h := entropy(v)
	if hex == len(v) {
		if len(v) >= 32 && dig > 0 && up+lo > 0 && h >= 3.0 {
			return "secret", 0.6
		}
		return "", 0
	}
	if dig == 0 || up+lo == 0 || h < 3.5 {
		return "", 0
	}
	if s.base64Text(v) {
		return "", 0
	}
	return "secret", 0.75
}

func allHexLower(v []byte) bool {
	for _, b := range v {
		if !isDigit(b) && (b < 'a' || b > 'f') {
			return false
		}
	}
	return true
}

func isUUID(v []byte) bool {
	if len(v) != 36 {
		return false
	}
	for i, b := range v {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if b != '-' {
				return false
			}
		} else if class[b]&cHex == 0 {
			return false
		}
	}
	return true
}

// entropy is the Shannon entropy of v in bits per byte.
func entropy(v []byte) float64 {
	var counts [256]uint16
	for _, b := range v {
		counts[b]++
	}
	n := float64(len(v))
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

var b64encodings = []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding}

// base64Text reports whether v is base64 of printable text (a sentence, a
// JSON document): encoded, but not a secret.
func (s *Scanner) base64Text(v []byte) bool {
	for _, enc := range b64encodings {
		need := enc.DecodedLen(len(v))
		if cap(s.dec) < need {
			s.dec = make([]byte, need)
		}
		n, err := enc.Decode(s.dec[:need], v)
		if err != nil {
			continue
		}
		return printableText(s.dec[:n])
	}
	return false
}

func printableText(v []byte) bool {
	if len(v) == 0 {
		return false
	}
	ok, spaces := 0, 0
	for _, b := range v {
		if b >= 0x20 && b < 0x7f || b == '\n' || b == '\t' || b >= 0x80 {
			ok++
		}
		if b == ' ' || b == '"' || b == ':' || b == ',' {
			spaces++
		}
	}
	return ok == len(v) && spaces > 0
}

// phoneLike accepts a value that is only a phone number: digits with the
// usual separators, 7 to 15 digits, and not shaped like a date.
func phoneLike(v []byte) bool {
	if len(v) > 32 {
		return false
	}
	digits := 0
	for i, b := range v {
		switch {
		case isDigit(b):
			digits++
		case b == ' ' || b == '-' || b == '.' || b == '(' || b == ')':
		case b == '+' && i == 0:
		default:
			return false
		}
	}
	if digits < 7 || digits > 15 {
		return false
	}
	if len(v) == 10 && (v[4] == '-' || v[4] == '/' || v[4] == '.') {
		return false // 2006-01-02
	}
	return true
}
