package connector

import (
	"net/url"
	"regexp"
	"strings"
)

// Error is an error translated at a connector boundary. Its message is a
// single line meant for a person (what failed and what to do), while
// errors.Is and errors.As see both the sentinel Kind and the underlying
// driver error.
type Error struct {
	// Kind is one of the sentinel errors of this package, or nil.
	Kind error
	// Msg is the complete, single-line message returned by Error.
	Msg string
	// Err is the underlying driver error, or nil.
	Err error
}

// NewError returns an [*Error] with the given sentinel kind, message and
// underlying cause. Either kind or cause may be nil.
func NewError(kind error, msg string, cause error) *Error {
	return &Error{Kind: kind, Msg: msg, Err: cause}
}

// Error returns the message.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns the sentinel kind and the underlying cause, so that
// errors.Is and errors.As match either.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// redacted replaces passwords in the output of RedactDSN.
const redacted = "xxxxx"

var (
	// kvPassword matches a password=... parameter of a key/value DSN or a
	// URL query, with an optionally single-quoted value.
	kvPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s&]*)`)
)

// RedactDSN returns dsn with any password replaced by "xxxxx", so that the
// result can be logged or shown in an error message. It understands URL
// DSNs ("postgres://user:pass@host/db", "mysql://user:pass@host/db"),
// go-sql-driver/mysql DSNs ("user:pass@tcp(host:3306)/db"), key/value DSNs
// ("host=h password=pass") and password query parameters. It never fails;
// on input it cannot parse it masks everything that could be a password.
func RedactDSN(dsn string) string {
	out := kvPassword.ReplaceAllString(dsn, "${1}"+redacted)
	if i := strings.Index(out, "://"); i >= 0 {
		return redactURL(out, i)
	}
	return redactDriverForm(out)
}

// redactURL masks the password in the userinfo of a URL DSN whose scheme
// separator "://" starts at sep.
func redactURL(dsn string, sep int) string {
	if u, err := url.Parse(dsn); err == nil {
		if _, ok := u.User.Password(); !ok {
			return dsn
		}
		// Rebuild by hand: url.URL.String would re-escape the mask. Like
		// url.Parse, the authority ends at the first '/', '?' or '#' and
		// the user information at the last '@' of the authority.
		authority := dsn[sep+3:]
		if end := strings.IndexAny(authority, "/?#"); end >= 0 {
			authority = authority[:end]
		}
		at := strings.LastIndex(authority, "@")
		colon := strings.Index(authority, ":")
		if at < 0 || colon < 0 || colon > at {
			return dsn
		}
		return dsn[:sep+3+colon+1] + redacted + dsn[sep+3+at:]
	}
	// Unparseable URL: treat everything between the first ':' after the
	// scheme and the last '@' as the password.
	rest := dsn[sep+3:]
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return dsn
	}
	colon := strings.Index(rest[:at], ":")
	if colon < 0 {
		return dsn
	}
	return dsn[:sep+3+colon+1] + redacted + rest[at:]
}

// redactDriverForm masks the password of a go-sql-driver/mysql DSN,
// "user:pass@proto(addr)/db?params". It splits the DSN like the driver
// does: at the last '/', then at the last '@' before it, then at the first
// ':' of the user information.
func redactDriverForm(dsn string) string {
	head := dsn
	if slash := strings.LastIndex(dsn, "/"); slash >= 0 {
		head = dsn[:slash]
	}
	at := strings.LastIndex(head, "@")
	if at < 0 {
		return dsn
	}
	colon := strings.Index(head[:at], ":")
	if colon < 0 {
		return dsn
	}
	// A key/value DSN ("host=h user=a:b@c") is not driver form.
	if strings.ContainsAny(head[:colon], "= \t") {
		return dsn
	}
	return dsn[:colon+1] + redacted + dsn[at:]
}
