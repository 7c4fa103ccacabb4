package detect

import (
	"fmt"
	"strings"
	"testing"
)

// fake builds a token-shaped test value from a deterministic generator, so
// that no string in this file is a real credential or trips a secret scanner.
func fake(prefix, alphabet string, n int) string {
	const mixed = "aB3dE5gH7jK9mN2pQ4sT6vW8yZ0cF1hL"
	if alphabet == "" {
		alphabet = mixed
	}
	var b strings.Builder
	b.WriteString(prefix)
	x := uint32(len(prefix)*7919 + n)
	for i := 0; i < n; i++ {
		x = x*1664525 + 1013904223
		b.WriteByte(alphabet[(x>>16)%uint32(len(alphabet))])
	}
	return b.String()
}

const (
	alnum  = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	crypt  = alnum + "./"
	b64url = alnum + "-_"
)

var (
	jwtToken = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ." + fake("", b64url, 43)
	ghToken  = fake("ghp_", alnum, 36)
	bcrypt   = fake("$2b$12$", crypt, 53)
	pemKey   = "-----BEGIN RSA PRIVATE KEY-----\n" + fake("MIIEow", alnum+"+/", 64) + "\n-----END RSA PRIVATE KEY-----"
)

// want is one expected hit: the category, the detector ("" for any), the
// exact matched text, and the JSON path.
type want struct {
	cat, det, match, path string
}

type detCase struct {
	name string
	in   string
	want []want
	// not lists categories that must have no hit with confidence >= 0.5.
	not []string
}

var detCases = []detCase{
	// Email.
	{name: "email plain", in: "jane.doe@example.com", want: []want{{CatEmail, "email", "jane.doe@example.com", ""}}},
	{name: "email in sentence", in: "Write to j.o+news@mail.example.co.uk.", want: []want{{CatEmail, "email", "j.o+news@mail.example.co.uk", ""}}},
	{name: "email in log line", in: "2026-01-02T10:00:00Z INFO login ok user=jane.doe@example.com ip=203.0.113.7",
		want: []want{{CatEmail, "email", "jane.doe@example.com", ""}, {CatIP, "ipv4", "203.0.113.7", ""}},
		not:  []string{CatPhone, CatBirthDate, CatCard}},
	{name: "email mailto", in: `<a href="mailto:bob@example.org">`, want: []want{{CatEmail, "email", "bob@example.org", ""}}},
	{name: "retina asset", in: "url(img/logo@2x.png) icon@3x.webp", not: []string{CatEmail}},
	{name: "handle", in: "ping @handle and a@b and name@localhost", not: []string{CatEmail}},
	{name: "npm scoped", in: "@types/node@20.1.0", not: []string{CatEmail, CatIP}},

	// Phone.
	{name: "e164 spaced", in: "call +44 20 7946 0958 now", want: []want{{CatPhone, "phone", "+44 20 7946 0958", ""}}},
	{name: "e164 compact", in: "tel:+14155550132", want: []want{{CatPhone, "phone", "+14155550132", ""}}},
	{name: "e164 dashes parens", in: "+1 (415) 555-0132", want: []want{{CatPhone, "phone", "+1 (415) 555-0132", ""}}},
	{name: "nanp parens", in: "Phone: (415) 555-0132.", want: []want{{CatPhone, "phone", "(415) 555-0132", ""}}},
	{name: "uk national", in: "ring 020 7946 0958 today", want: []want{{CatPhone, "phone", "020 7946 0958", ""}}},
	{name: "fr national", in: "portable 06 12 34 56 78", want: []want{{CatPhone, "phone", "06 12 34 56 78", ""}}},
	{name: "phone near misses", in: "on 2026-01-02 at 10:00:00 from 192.168.1.1 v1.2.3 id 12345678901 paid $1,234.56 +1.50 +0200",
		not: []string{CatPhone}},
	{name: "phone json key", in: `{"contact":{"phone":"4155550132"}}`, want: []want{{CatPhone, "phone", "4155550132", "contact.phone"}}},

	// IP addresses.
	{name: "ipv4", in: "client 198.51.100.23:443 connected", want: []want{{CatIP, "ipv4", "198.51.100.23", ""}}},
	{name: "ipv6 compressed", in: "from [2001:db8::1]:8080", want: []want{{CatIP, "ipv6", "2001:db8::1", ""}}},
	{name: "ipv6 full", in: "addr=2001:0db8:85a3:0000:0000:8a2e:0370:7334", want: []want{{CatIP, "ipv6", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", ""}}},
	{name: "ipv6 mapped", in: "::ffff:192.0.2.1", want: []want{{CatIP, "ipv6", "::ffff:192.0.2.1", ""}}},
	{name: "ip near misses", in: "version 1.2.3.4 and 1.2.3.4.5 and 256.1.1.1 and 01.02.03.04 at 10:00:00 Chrome/120.0.6099.109 a::b x[::2]",
		not: []string{CatIP}},
	{name: "loopback low", in: "listen 127.0.0.1 and ::1", not: []string{CatIP}},

	// Cards.
	{name: "visa plain", in: "card 4111111111111111 ok", want: []want{{CatCard, "card", "4111111111111111", ""}}},
	{name: "visa spaced", in: "4111 1111 1111 1111", want: []want{{CatCard, "card", "4111 1111 1111 1111", ""}}},
	{name: "mc dashed", in: "pan=5555-5555-5555-4444;", want: []want{{CatCard, "card", "5555-5555-5555-4444", ""}}},
	{name: "amex grouped", in: "Amex 3782 822463 10005", want: []want{{CatCard, "card", "3782 822463 10005", ""}}},
	{name: "discover", in: "6011111111111117", want: []want{{CatCard, "card", "6011111111111117", ""}}},
	{name: "jcb", in: "3530111333300000", want: []want{{CatCard, "card", "3530111333300000", ""}}},
	{name: "diners", in: "30569309025904", want: []want{{CatCard, "card", "30569309025904", ""}}},
	{name: "mc 2-series", in: "2223003122003222", want: []want{{CatCard, "card", "2223003122003222", ""}}},
	{name: "unionpay", in: "6200000000000005", want: []want{{CatCard, "card", "6200000000000005", ""}}},
	{name: "card json number", in: `{"payment":{"card":4111111111111111}}`, want: []want{{CatCard, "card", "4111111111111111", "payment.card"}}},
	{name: "card json array", in: `{"cards":[{"pan":"4111 1111 1111 1111"}]}`, want: []want{{CatCard, "card", "4111 1111 1111 1111", "cards[].pan"}}},
	{name: "card near misses", in: "4111111111111112 1234567812345670 12344111111111111111 4111 1111-1111 1111 1767348000000 order 5555555555554443",
		not: []string{CatCard}},

	// IBAN.
	{name: "iban compact", in: "IBAN DE89370400440532013000", want: []want{{CatBankAccount, "iban", "DE89370400440532013000", ""}}},
	{name: "iban spaced", in: "pay to GB82 WEST 1234 5698 7654 32 please", want: []want{{CatBankAccount, "iban", "GB82 WEST 1234 5698 7654 32", ""}}},
	{name: "iban nl", in: `{"iban":"NL91ABNA0417164300"}`, want: []want{{CatBankAccount, "iban", "NL91ABNA0417164300", "iban"}}},
	{name: "iban bad check", in: "DE88370400440532013000 and DE8937040044053201300", not: []string{CatBankAccount}},

	// National ids.
	{name: "ssn dashed", in: "SSN 123-45-6789", want: []want{{CatNationalID, "ssn", "123-45-6789", ""}}},
	{name: "ssn json key", in: `{"ssn":"123456789"}`, want: []want{{CatNationalID, "ssn", "123456789", "ssn"}}},
	{name: "ssn text key", in: "ssn=123456789", want: []want{{CatNationalID, "ssn", "123456789", ""}}},
	{name: "ssn invalid", in: "078-05-1120 666-12-3456 000-12-3456 123-00-4567 and 123456789", not: []string{CatNationalID}},
	{name: "nino", in: "NI number AB 12 34 56 C and AB123456D", want: []want{{CatNationalID, "nino", "AB 12 34 56 C", ""}, {CatNationalID, "nino", "AB123456D", ""}}},
	{name: "nino invalid", in: "QQ123456C GB123456A AB123456E", not: []string{CatNationalID}},
	{name: "bsn key", in: `{"bsn":"111222333"}`, want: []want{{CatNationalID, "bsn", "111222333", "bsn"}}},
	{name: "bsn needs key", in: `{"order":"111222333"}`, not: []string{CatNationalID}},
	{name: "dni", in: "DNI 12345678Z", want: []want{{CatNationalID, "dni", "12345678Z", ""}}},
	{name: "nie", in: "NIE X1234567L", want: []want{{CatNationalID, "nie", "X1234567L", ""}}},
	{name: "dni bad letter", in: "12345678A X1234567A", not: []string{CatNationalID}},
	{name: "nir grouped", in: "NIR 1 84 12 76 451 089 46", want: []want{{CatNationalID, "nir", "1 84 12 76 451 089 46", ""}}},
	{name: "nir bad key", in: "1 84 12 76 451 089 47", not: []string{CatNationalID}},
	{name: "codice fiscale", in: "CF RSSMRA85T10A562S", want: []want{{CatNationalID, "codice-fiscale", "RSSMRA85T10A562S", ""}}},
	{name: "codice fiscale bad", in: "RSSMRA85T10A562T", not: []string{CatNationalID}},
	{name: "personnummer", in: "pnr 811228-9874", want: []want{{CatNationalID, "personnummer", "811228-9874", ""}}},
	{name: "personnummer bad", in: "811228-9875", not: []string{CatNationalID}},
	{name: "hetu", in: "hetu 131052-308T", want: []want{{CatNationalID, "hetu", "131052-308T", ""}}},
	{name: "hetu bad", in: "131052-308U", not: []string{CatNationalID}},

	// Dates of birth.
	{name: "dob json", in: `{"profile":{"dob":"1990-05-17"}}`, want: []want{{CatBirthDate, "date", "1990-05-17", "profile.dob"}}},
	{name: "dob json timestamp", in: `{"birth_date":"1990-05-17T00:00:00Z"}`, want: []want{{CatBirthDate, "date", "1990-05-17", "birth_date"}}},
	{name: "dob text", in: "Date of birth: 02/01/1985", want: []want{{CatBirthDate, "date", "02/01/1985", ""}}},
	{name: "dob words", in: "born 17 May 1990 in Leeds", want: []want{{CatBirthDate, "date", "17 May 1990", ""}}},
	{name: "dob month first", in: "Birthday: January 2, 1980", want: []want{{CatBirthDate, "date", "January 2, 1980", ""}}},
	{name: "dob geboren", in: "geboren am 03.04.1975", want: []want{{CatBirthDate, "date", "03.04.1975", ""}}},
	{name: "dates without context", in: "created 1990-05-17 updated 2026-01-02T10:00:00Z due 02/01/1985", not: []string{CatBirthDate}},
	{name: "dob too recent", in: `{"dob":"2024-01-01"}`, not: []string{CatBirthDate}},

	// Addresses.
	{name: "street en", in: "ship to 221B Baker Street, London", want: []want{{CatAddress, "street", "221B Baker Street", ""}}},
	{name: "street abbrev", in: "10 Downing St", want: []want{{CatAddress, "street", "10 Downing St", ""}}},
	{name: "street fr", in: "au 12 rue de Rivoli", want: []want{{CatAddress, "street", "12 rue de Rivoli", ""}}},
	{name: "street de", in: "Hauptstraße 5, 10115 Berlin", want: []want{{CatAddress, "street", "Hauptstraße 5", ""}, {CatAddress, "postcode", "10115 Berlin", ""}}},
	{name: "uk postcode", in: "London SW1A 1AA", want: []want{{CatAddress, "postcode", "SW1A 1AA", ""}}},
	{name: "us zip", in: "San Francisco, CA 94105-1234", want: []want{{CatAddress, "postcode", "CA 94105-1234", ""}}},
	{name: "address json", in: `{"shipping_address":{"line1":"742 Evergreen Terrace"}}`, want: []want{{CatAddress, "", "742 Evergreen Terrace", "shipping_address.line1"}}},
	{name: "address near misses", in: "we have 3 Road Trips and 5 ways; ip_address 10.0.0.1", not: []string{CatAddress}},

	// Names.
	{name: "name text", in: "Contact Maria Schmidt for details", want: []want{{CatName, "name", "Maria Schmidt", ""}}},
	{name: "name particle", in: "signed by Jan van der Berg", want: []want{{CatName, "name", "Jan van der Berg", ""}}},
	{name: "name json", in: `{"first_name":"jane","lastName":"Doe"}`, want: []want{{CatName, "name", "jane", "first_name"}, {CatName, "name", "Doe", "lastName"}}},
	{name: "name near misses", in: "Will Power at Maria Street; The Project Team; Error Handling", not: []string{CatName}},
	{name: "project name", in: `{"name":"billing-service"}`, not: []string{CatName}},

	// Credentials.
	{name: "jwt", in: "token " + jwtToken, want: []want{{CatCredentials, "jwt", jwtToken, ""}}},
	{name: "bearer jwt", in: "Authorization: Bearer " + jwtToken, want: []want{{CatCredentials, "jwt", jwtToken, ""}}},
	{name: "bearer opaque", in: "Authorization: Bearer " + fake("", alnum, 40), want: []want{{CatCredentials, "bearer", fake("", alnum, 40), ""}}},
	{name: "pem", in: "key:\n" + pemKey + "\n", want: []want{{CatCredentials, "private-key", pemKey, ""}}},
	{name: "aws", in: "aws_access_key_id=AKIAIOSFODNN7EXAMPLE", want: []want{{CatCredentials, "aws-key", "AKIAIOSFODNN7EXAMPLE", ""}}},
	{name: "github", in: "GITHUB_TOKEN=" + ghToken, want: []want{{CatCredentials, "github-token", ghToken, ""}}},
	{name: "github pat", in: fake("github_pat_", alnum+"_", 82), want: []want{{CatCredentials, "github-token", fake("github_pat_", alnum+"_", 82), ""}}},
	{name: "gitlab", in: fake("glpat-", alnum, 20), want: []want{{CatCredentials, "gitlab-token", fake("glpat-", alnum, 20), ""}}},
	{name: "slack", in: "xoxb-123456789012-" + fake("", alnum, 24), want: []want{{CatCredentials, "slack-token", "xoxb-123456789012-" + fake("", alnum, 24), ""}}},
	{name: "stripe", in: `{"stripe":"` + fake("sk_live_", alnum, 24) + `"}`, want: []want{{CatCredentials, "stripe-key", fake("sk_live_", alnum, 24), "stripe"}}},
	{name: "stripe publishable", in: fake("pk_live_", alnum, 24), not: []string{CatCredentials}},
	{name: "google api", in: fake("AIza", b64url, 35), want: []want{{CatCredentials, "google-api-key", fake("AIza", b64url, 35), ""}}},
	{name: "google oauth", in: fake("ya29.", b64url, 60), want: []want{{CatCredentials, "google-oauth", fake("ya29.", b64url, 60), ""}}},
	{name: "sendgrid", in: fake("SG.", alnum, 22) + fake(".", alnum, 43), want: []want{{CatCredentials, "sendgrid-key", fake("SG.", alnum, 22) + fake(".", alnum, 43), ""}}},
	{name: "openai", in: fake("sk-proj-", b64url, 48), want: []want{{CatCredentials, "openai-key", fake("sk-proj-", b64url, 48), ""}}},
	{name: "npm", in: fake("npm_", alnum, 36), want: []want{{CatCredentials, "npm-token", fake("npm_", alnum, 36), ""}}},
	{name: "twilio with key", in: `{"twilio_api_key":"` + fake("SK", "0123456789abcdef", 32) + `"}`, want: []want{{CatCredentials, "twilio", fake("SK", "0123456789abcdef", 32), "twilio_api_key"}}},
	{name: "password assignment", in: "db connect password=Tr0ub4dor&3x user=app", want: []want{{CatCredentials, "password", "Tr0ub4dor", ""}}},
	{name: "password json", in: `{"user":{"password":"hunter2!"}}`, want: []want{{CatCredentials, "password", "hunter2!", "user.password"}}},
	{name: "generic secret json", in: `{"api_token":"` + fake("", alnum, 32) + `"}`, want: []want{{CatCredentials, "secret", fake("", alnum, 32), "api_token"}}},
	{name: "generic secret text", in: `client_secret: "` + fake("", alnum, 40) + `"`, want: []want{{CatCredentials, "secret", fake("", alnum, 40), ""}}},
	{name: "secret near misses", in: "id 550e8400-e29b-41d4-a716-446655440000 sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 commit 3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c https://example.com/a/b /var/lib/app/data.db",
		not: []string{CatCredentials}},
	{name: "secret key near misses", in: `{"token":"550e8400-e29b-41d4-a716-446655440000","secret":"dGhpcyBpcyBqdXN0IHNvbWUgb3JkaW5hcnkgdGV4dCwgbm90aGluZyBzZWNyZXQgaGVyZQ==","token_hash":"` + fake("", "0123456789abcdef", 64) + `","password":"********","token_url":"https://example.com/oauth/token","session":"/var/lib/sessions/abc"}`,
		not: []string{CatCredentials}},
	{name: "hex digest without key", in: `{"checksum":"` + fake("", "0123456789abcdef", 64) + `"}`, not: []string{CatCredentials}},

	// Password hashes.
	{name: "bcrypt", in: `{"password_hash":"` + bcrypt + `"}`, want: []want{{CatPassword, "bcrypt", bcrypt, "password_hash"}}, not: []string{CatCredentials}},
	{name: "bcrypt under password", in: `{"password":"` + bcrypt + `"}`, want: []want{{CatPassword, "bcrypt", bcrypt, "password"}}, not: []string{CatCredentials}},
	{name: "argon2", in: "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", want: []want{{CatPassword, "argon2", "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", ""}}},
	{name: "django pbkdf2", in: "pbkdf2_sha256$260000$c29tZXNhbHQ$" + fake("", alnum+"+/", 43) + "=", want: []want{{CatPassword, "pbkdf2", "pbkdf2_sha256$260000$c29tZXNhbHQ$" + fake("", alnum+"+/", 43) + "=", ""}}},
	{name: "sha512crypt", in: fake("$6$saltsalt$", crypt, 86), want: []want{{CatPassword, "sha512-crypt", fake("$6$saltsalt$", crypt, 86), ""}}},
	{name: "md5crypt", in: fake("$1$saltsalt$", crypt, 22), want: []want{{CatPassword, "md5-crypt", fake("$1$saltsalt$", crypt, 22), ""}}},
	{name: "scrypt libsodium", in: fake("$7$C6..../....SodiumChloride$", crypt, 43), want: []want{{CatPassword, "scrypt", fake("$7$C6..../....SodiumChloride$", crypt, 43), ""}}},
	{name: "hash near misses", in: "$2b$12$short $6$salt$tooshort price $100 $argon2id$v=19$", not: []string{CatPassword}},

	// Escapes and structure.
	{name: "json escapes", in: `{"note":"line1\nmail jane@example.com\t\u0041"}`, want: []want{{CatEmail, "email", "jane@example.com", "note"}}},
	{name: "json email key", in: `{"jane@example.com":{"role":"admin"}}`, want: []want{{CatEmail, "email", "jane@example.com", "*"}}},
	{name: "invalid json as text", in: `{"email": jane@example.com`, want: []want{{CatEmail, "email", "jane@example.com", ""}}},
	{name: "nested arrays", in: `[{"users":[{"emails":["a.b@example.com"]}]}]`, want: []want{{CatEmail, "email", "a.b@example.com", "[].users[].emails[]"}}},
}

func TestDetectors(t *testing.T) {
	s := NewScanner()
	for _, tc := range detCases {
		t.Run(tc.name, func(t *testing.T) {
			hits := s.Scan([]byte(tc.in), nil)
			for _, w := range tc.want {
				found := false
				for _, h := range hits {
					if h.Category == w.cat && (w.det == "" || h.Detector == w.det) && tc.in[h.Start:h.End] == w.match && h.Path == w.path {
						found = true
					}
				}
				if !found {
					t.Errorf("no %s/%s hit %q path %q; hits:\n%s", w.cat, w.det, w.match, w.path, dump(tc.in, hits))
				}
			}
			for _, cat := range tc.not {
				for _, h := range hits {
					if h.Category == cat && h.Confidence >= 0.5 {
						t.Errorf("unexpected %s hit %q (%s, %.2f)", cat, tc.in[h.Start:h.End], h.Detector, h.Confidence)
					}
				}
			}
		})
	}
}

func dump(in string, hits []Hit) string {
	var b strings.Builder
	for _, h := range hits {
		fmt.Fprintf(&b, "  %s/%s %.2f path=%q %q\n", h.Category, h.Detector, h.Confidence, h.Path, in[h.Start:h.End])
	}
	return b.String()
}

// TestLowConfidence pins the matches a detector reports but does not
// believe: loopback addresses, bare postcodes.
func TestLowConfidence(t *testing.T) {
	s := NewScanner()
	for _, in := range []string{"127.0.0.1", "::1", "0.0.0.0"} {
		hits := s.Scan([]byte(in), nil)
		if len(hits) != 1 || hits[0].Category != CatIP || hits[0].Confidence >= 0.5 {
			t.Errorf("%s: want one low-confidence IP hit, got\n%s", in, dump(in, hits))
		}
	}
	if hits := NewScanner(WithMinConfidence(0.5)).Scan([]byte("127.0.0.1"), nil); len(hits) != 0 {
		t.Errorf("WithMinConfidence(0.5) kept %v", hits)
	}
}

func TestMask(t *testing.T) {
	s := NewScanner()
	for _, tc := range detCases {
		hits := s.Scan([]byte(tc.in), nil)
		for _, h := range hits {
			match := tc.in[h.Start:h.End]
			m := Mask(h.Category, h.Detector, match)
			if strings.Contains(m, match) {
				t.Errorf("%s: mask %q contains the match", tc.name, m)
				continue
			}
			secret := strings.TrimPrefix(match, publicPrefix(h.Detector, match))
			if k := strings.Index(secret, "-----END "); h.Detector == "private-key" && k >= 0 {
				secret = secret[:k] // the END line is as public as the BEGIN line
			}
			for k := 0; k+6 <= len(secret); k++ {
				if sub := secret[k : k+6]; strings.Contains(m, sub) {
					t.Errorf("%s: mask %q of %s/%s leaks %q", tc.name, m, h.Category, h.Detector, sub)
					break
				}
			}
		}
	}
	for _, tc := range []struct{ cat, det, in, want string }{
		{CatEmail, "email", "jane.doe@example.com", "j•••@•••.com"},
		{CatCard, "card", "4111 1111 1111 1111", "•••• •••• •••• 1111"},
		{CatCredentials, "github-token", ghToken, "ghp_•••• (40 chars)"},
		{CatPassword, "bcrypt", bcrypt, "$2b$•••• (60 chars)"},
		{CatNationalID, "ssn", "123-45-6789", "•••-••-••••"},
		{CatBankAccount, "iban", "DE89370400440532013000", "DE•• •••• … 3000"},
		{CatPhone, "phone", "+44 20 7946 0958", "+••••••••••58"},
		{CatIP, "ipv4", "203.0.113.7", "203.•••.•••.•••"},
	} {
		if got := Mask(tc.cat, tc.det, tc.in); got != tc.want {
			t.Errorf("Mask(%s, %s) = %q, want %q", tc.cat, tc.det, got, tc.want)
		}
	}
}

func TestCategories(t *testing.T) {
	known := map[string]bool{}
	for _, c := range Categories() {
		known[c] = true
	}
	if len(known) != 11 {
		t.Fatalf("Categories() = %v", Categories())
	}
	s := NewScanner()
	for _, tc := range detCases {
		for _, h := range s.Scan([]byte(tc.in), nil) {
			if !known[h.Category] {
				t.Errorf("%s: unknown category %q", tc.name, h.Category)
			}
		}
	}
}

func TestNoAllocsWithoutHits(t *testing.T) {
	s := NewScanner()
	vals := [][]byte{
		[]byte("2026-01-02T10:00:00Z INFO request done method=GET path=/api/v1/items status=200 dur=12ms"),
		[]byte(`{"id":123,"status":"active","tags":["a","b"],"meta":{"count":4,"ratio":0.5}}`),
		[]byte("The quick brown fox jumps over the lazy dog. Version 1.2.3 released."),
	}
	hits := make([]Hit, 0, 16)
	for _, v := range vals {
		s.Scan(v, hits[:0]) // warm the key cache
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, v := range vals {
			if h := s.Scan(v, hits[:0]); len(h) != 0 {
				t.Fatalf("unexpected hits in %q: %v", v, h)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per no-hit scan, want 0", allocs)
	}
}

func TestHugeAndBinary(t *testing.T) {
	s := NewScanner(WithMaxBytes(1 << 16))
	big := []byte(strings.Repeat("[", 100000))
	if hits := s.Scan(big, nil); len(hits) != 0 {
		t.Errorf("hits in brackets: %v", hits)
	}
	bin := make([]byte, 4096)
	for i := range bin {
		bin[i] = byte(i * 31)
	}
	s.Scan(bin, nil)
	tail := append([]byte(strings.Repeat("x ", 1<<16)), " jane@example.com"...)
	if hits := s.Scan(tail, nil); len(hits) != 0 {
		t.Errorf("hit beyond WithMaxBytes: %v", hits)
	}
}

// TestPathsHoldNoValues: a JSON key that is itself data — a person's name,
// an email or a dotted user name, an IBAN, a token — never appears in a
// finding's path, which reports, logs and policies show.
func TestPathsHoldNoValues(t *testing.T) {
	s := NewScanner()
	for _, tc := range []struct{ in, leak string }{
		{`{"contacts":{"Alice Smith":{"phone":"+44 20 7946 0958"}}}`, "Alice"},
		{`{"max.mustermann":{"email":"max@example.com"}}`, "mustermann"},
		{`{"DE89370400440532013000":{"email":"max@example.com"}}`, "DE89"},
		{`{"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":{"email":"max@example.com"}}`, "wWPw"},
		{`{"jane@example.com":{"phone":"+44 20 7946 0958"}}`, "jane"},
	} {
		hits := s.Scan([]byte(tc.in), nil)
		if len(hits) == 0 {
			t.Errorf("%s: nothing found", tc.in)
		}
		for _, h := range hits {
			if strings.Contains(h.Path, tc.leak) {
				t.Errorf("%s: path %q shows the key", tc.in, h.Path)
			}
		}
	}
	// Keys programs give stay readable.
	hits := s.Scan([]byte(`{"billing_contact":{"e-mail":"max@example.com"}}`), nil)
	if len(hits) == 0 || hits[0].Path != "billing_contact.e-mail" {
		t.Errorf("path %+v; want billing_contact.e-mail", hits)
	}
}

// TestMaskEscapedEmail: an email found in JSON with escapes is masked
// from after its @; nothing of the local part leaks through the "TLD".
func TestMaskEscapedEmail(t *testing.T) {
	for _, m := range []string{`john.smith@example\u002ecom`, `john.smith@localhost`} {
		got := Mask(CatEmail, "email", m)
		if strings.Contains(got, "smith") || strings.Contains(got, `\u`) || strings.Contains(got, "localhost") {
			t.Errorf("Mask(%q) = %q", m, got)
		}
	}
}
