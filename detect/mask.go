package detect

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

const dot = "•"

// Mask returns a form of match safe to show in a report: enough to tell
// what kind of value was found, never enough to recover it. Cards, IBANs and
// phone numbers keep at most their last digits; emails their first letter
// and top-level domain; IPv4 addresses their first octet; secrets and hashes
// only their public prefix (the scheme, "ghp_", "eyJ") and their length;
// everything else only its shape.
func Mask(category, detector, match string) string {
	switch category {
	case CatEmail:
		at := strings.LastIndexByte(match, '@')
		if at <= 0 {
			return dot + dot + dot
		}
		// The top-level domain, after the @ only, and only if it is
		// plain letters (a match from escaped JSON holds \u002e).
		domain := match[at+1:]
		tld := domain[strings.LastIndexByte(domain, '.')+1:]
		if tld == domain || len(tld) > 24 || strings.IndexFunc(tld, func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') }) >= 0 {
			tld = dot + dot
		}
		first, _ := utf8.DecodeRuneInString(match)
		return string(first) + dot + dot + dot + "@" + dot + dot + dot + "." + tld
	case CatCard:
		d := digitsOf(match)
		return strings.Repeat(dot+dot+dot+dot+" ", 3) + lastN(d, 4)
	case CatBankAccount:
		d := alnumOf(match)
		if len(d) < 8 {
			return shape(match)
		}
		return d[:2] + dot + dot + " " + dot + dot + dot + dot + " … " + lastN(d, 4)
	case CatPhone:
		d := digitsOf(match)
		prefix := ""
		if strings.HasPrefix(match, "+") {
			prefix = "+"
		}
		return prefix + strings.Repeat(dot, max(len(d)-2, 1)) + lastN(d, 2)
	case CatIP:
		if detector == "ipv4" {
			if k := strings.IndexByte(match, '.'); k > 0 {
				return match[:k] + "." + dot + dot + dot + "." + dot + dot + dot + "." + dot + dot + dot
			}
		}
		if k := strings.IndexByte(match, ':'); k > 0 && k <= 4 {
			return match[:k] + ":" + dot + dot + dot + dot + ":" + dot + dot + dot + dot
		}
		return dot + dot + dot + dot
	case CatCredentials, CatPassword:
		return publicPrefix(detector, match) + dot + dot + dot + dot + " (" + strconv.Itoa(len(match)) + " chars)"
	}
	return shape(match)
}

// publicPrefix is the part of a secret that says what it is and nothing
// else: a vendor prefix, a hash scheme, a PEM label.
func publicPrefix(detector, match string) string {
	switch detector {
	case "private-key":
		if k := strings.Index(match[min(len(match), 5):], "-----"); k >= 0 {
			return match[:k+10]
		}
	case "jwt":
		return "eyJ"
	case "aws-key":
		return match[:min(len(match), 4)]
	case "google-api-key":
		return "AIza"
	case "sendgrid-key":
		return "SG."
	case "twilio":
		return "SK"
	case "bearer", "secret", "password":
		return ""
	case "bcrypt":
		return match[:min(len(match), 4)]
	case "argon2", "scrypt", "yescrypt", "pbkdf2", "sha512-crypt", "sha256-crypt", "md5-crypt":
		// The scheme: "$argon2id$", "$6$", "pbkdf2_sha256$".
		k := strings.IndexByte(match[1:], '$')
		if k >= 0 && k < 16 {
			return match[:k+2]
		}
		return ""
	}
	// Vendor tokens: everything up to the last '_' or '-' of the prefix.
	for _, p := range tokenPrefixes {
		if strings.HasPrefix(match, p) {
			return p
		}
	}
	return ""
}

var tokenPrefixes = []string{
	"github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "glpat-", "xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-",
	"xapp-", "sk_live_", "sk_test_", "rk_live_", "rk_test_", "sk-proj-", "sk-svcacct-", "sk-admin-", "sk-ant-", "sk-",
	"ya29.", "npm_",
}

// shape keeps punctuation and spacing and hides every letter and digit.
func shape(match string) string {
	var b strings.Builder
	n := 0
	for _, r := range match {
		if n == 40 {
			b.WriteString("…")
			break
		}
		n++
		switch {
		case r < 0x80 && !isAlnum(byte(r)) && r != '\n' && r != '\r' && r != '\t':
			b.WriteRune(r)
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		default:
			b.WriteString(dot)
		}
	}
	return b.String()
}

func digitsOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func alnumOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if isAlnum(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func lastN(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
