// Package identity owns what an identity of a data subject is: the kinds a
// policy may declare (email, user_id, …), the one normalisation of each
// kind's values, how a value is compared with a column in SQL, and whether
// a value can be compared with a column of a given type at all.
//
// Requests, legal holds and retention all go through it, so a person is
// the same person everywhere: an email address held as
// "Ada.Held@Example.com" matches a hold on "ada.held@example.com", and an
// identity "1abc" is refused for an integer column instead of being
// coerced by the database into user 1.
package identity

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vowprivacy/vow/connector"
)

// Identity kinds a policy field may declare.
const (
	Email      = "email"
	UserID     = "user_id"
	Phone      = "phone"
	Username   = "username"
	CustomerID = "customer_id"
	ExternalID = "external_id"
)

// Kinds lists the identity kinds, in documentation order.
var Kinds = []string{Email, UserID, Phone, Username, CustomerID, ExternalID}

// ErrInvalid is wrapped by the errors of values that are not a valid
// identity of their kind.
var ErrInvalid = errors.New("invalid identity")

// MaxLen bounds an identity value, in bytes.
const MaxLen = 320

// Normalize returns the one form of an identity value that Vow stores and
// compares: emails trimmed and lower-cased (mailbox providers treat them
// case-insensitively, and applications store them either way), other
// kinds trimmed. It refuses empty values, invalid UTF-8, control
// characters and malformed emails.
func Normalize(kind, value string) (string, error) {
	if !slices.Contains(Kinds, kind) {
		return "", fmt.Errorf("%w: unknown identity kind %q (use %s)", ErrInvalid, kind, strings.Join(Kinds, ", "))
	}
	v := strings.TrimSpace(value)
	switch {
	case v == "":
		return "", fmt.Errorf("%w: empty value", ErrInvalid)
	case !utf8.ValidString(v):
		return "", fmt.Errorf("%w: not valid UTF-8", ErrInvalid)
	case len(v) > MaxLen:
		return "", fmt.Errorf("%w: longer than %d bytes", ErrInvalid, MaxLen)
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return "", fmt.Errorf("%w: contains control characters", ErrInvalid)
	}
	if kind == Email {
		a, err := mail.ParseAddress(v)
		if err != nil || a.Address != v || a.Name != "" {
			return "", fmt.Errorf("%w: %q is not an email address", ErrInvalid, value)
		}
		return strings.ToLower(v), nil
	}
	return v, nil
}

// Equal reports whether two values of a kind name the same identity.
func Equal(kind, a, b string) bool {
	na, err1 := Normalize(kind, a)
	nb, err2 := Normalize(kind, b)
	if err1 != nil || err2 != nil {
		return strings.TrimSpace(a) == strings.TrimSpace(b)
	}
	return na == nb
}

// Global reports whether a value of the kind names the same person in
// any table: an email address or a phone number does; a user_id,
// customer_id, username or external_id is a key of one table's people,
// and customer 7 is not employee 7.
func Global(kind string) bool { return kind == Email || kind == Phone }

// CaseInsensitive reports whether values of the kind compare without
// regard to case.
func CaseInsensitive(kind string) bool { return kind == Email }

// Match returns the SQL condition comparing column (already quoted, and
// qualified if need be) with value, normalised by [Normalize]. param
// writes the value's placeholder (and adds the value to the statement's
// arguments) each time it is called. dbKind is "postgres", "mysql" or
// "sqlite"; collation is the column's, where the database reports one
// (MySQL and MariaDB), or "".
//
// Emails are compared case-insensitively. On PostgreSQL and SQLite that
// is lower(column) = value, which an index on the bare column cannot
// serve (see [IndexTerm]). SQLite's lower() folds ASCII letters only, so
// a value with other letters (josé@, ÉMILE@) is compared with
// vow_lower(column), the SQLite connector's lower() over all of Unicode,
// which no index serves. MySQL and MariaDB compare text
// case-insensitively under their default collations — but also
// accent-insensitively (josé@ = jose@) and ignoring trailing spaces: the
// bare column finds the candidates through its index, and a byte-wise
// comparison of lower(column) keeps only the exact ones. A binary or
// case-sensitive collation (…_bin, …_cs) keeps the bare column from
// finding an email written in another case, so the comparison is of
// lower(column) alone — which no index serves.
func Match(dbKind, kind, column, collation string, value any, param func() string) string {
	ci := CaseInsensitive(kind)
	cs := strings.HasSuffix(collation, "_bin") || strings.HasSuffix(collation, "_cs")
	// MySQL's byte-wise comparisons are of the column's text in utf8mb4,
	// the connection's character set, in which the value arrives: a
	// latin1 column holds é as another byte than the value has.
	bytes := func(expr string) string { return "CAST(CONVERT(" + expr + " USING utf8mb4) AS BINARY)" }
	switch {
	case ci && dbKind == "mysql" && cs:
		return bytes("LOWER("+column+")") + " = CAST(" + param() + " AS BINARY)"
	case ci && dbKind == "mysql":
		return column + " = " + param() + " AND " + bytes("LOWER("+column+")") + " = CAST(" + param() + " AS BINARY)"
	case dbKind == "mysql" && (collation != "" || kind == Username || kind == ExternalID || kind == Phone):
		// Text keys are exact, whatever the column's collation says about
		// case, accents or trailing spaces ("ann " is not ann, cus_abc is
		// not cus_ABC). Only text columns have a collation; a number in
		// an integer column is checked against its type instead (Fits).
		return column + " = " + param() + " AND " + bytes(column) + " = CAST(" + param() + " AS BINARY)"
	case ci && dbKind == "sqlite" && !ascii(value):
		return SQLiteLower + "(" + column + ") = " + param()
	}
	return MatchExpr(dbKind, kind, column) + " = " + param()
}

// SQLiteLower is the SQL function the SQLite connector registers:
// lower() with Go's Unicode case mapping, as [Normalize] folds emails.
const SQLiteLower = "vow_lower"

// ascii reports whether v is a string of ASCII characters only (or not a
// string at all).
func ascii(v any) bool {
	s, ok := v.(string)
	if !ok {
		return true
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// MatchExpr is the column side of [Match] for a value of ASCII
// characters: the expression compared with the normalised value.
func MatchExpr(dbKind, kind, column string) string {
	if CaseInsensitive(kind) && dbKind != "mysql" {
		return "lower(" + column + ")"
	}
	return column
}

// IndexTerm is the index term a lookup of the kind in column needs, as
// the connectors report index terms ("lower(email)" or "email"), so that
// callers can tell whether an index serves it and suggest one.
func IndexTerm(dbKind, kind, column string) string {
	if CaseInsensitive(kind) && dbKind != "mysql" {
		return "lower(" + column + ")"
	}
	return column
}

// Indexed reports whether a live table has an index that serves matching
// an identity of the kind in column (see [IndexTerm]). PostgreSQL writes
// lower() of a varchar column with a cast to text, which counts too.
func Indexed(t *connector.Table, dbKind, kind, column string) bool {
	term := IndexTerm(dbKind, kind, column)
	if t.IndexStartsWith(term) {
		return true
	}
	return term != column && dbKind == "postgres" && t.IndexStartsWith("lower("+column+"::text)")
}

// TypeClass is what a column's type accepts, for checking values.
type TypeClass int

// Type classes.
const (
	Text TypeClass = iota
	Integer
	Number
	UUID
	Binary
)

// ClassOf classifies a column type as the connectors report it
// ("bigint", "uuid", "character varying(255)", "int(11)", "INTEGER").
func ClassOf(typ string) TypeClass {
	t := strings.ToLower(typ)
	switch {
	case t == "uuid":
		return UUID
	case strings.Contains(t, "int") && !strings.Contains(t, "interval") && !strings.Contains(t, "point"), strings.Contains(t, "serial"):
		return Integer
	case strings.Contains(t, "numeric"), strings.Contains(t, "decimal"), strings.Contains(t, "float"), strings.Contains(t, "double"), t == "real":
		return Number
	case strings.Contains(t, "binary"), strings.Contains(t, "blob"), t == "bytea":
		return Binary
	}
	return Text
}

// Comparable reports whether columns of types a and b can be compared
// without the database converting one to the other: integers and other
// numbers can; text and an integer cannot (MariaDB takes '1abc' for 1).
func Comparable(a, b string) bool {
	ca, cb := ClassOf(a), ClassOf(b)
	num := func(c TypeClass) bool { return c == Integer || c == Number }
	return ca == cb || num(ca) && num(cb)
}

var uuidRE = regexp.MustCompile(`^(?i)\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$`)

// Fits reports whether a normalised value can be compared with a column of
// type typ without the database converting it: "1abc" does not fit an
// integer column (MariaDB would compare it as 1), "x" does not fit a uuid
// column (PostgreSQL would fail the statement). The error says why, in
// words for the person who sent the value.
func Fits(value, typ string) error {
	switch ClassOf(typ) {
	case Integer:
		if _, err := strconv.ParseInt(value, 10, 64); err != nil {
			return fmt.Errorf("%w: %q is not an integer, and the column is %s", ErrInvalid, value, typ)
		}
	case Number:
		if _, err := strconv.ParseFloat(value, 64); err != nil {
			return fmt.Errorf("%w: %q is not a number, and the column is %s", ErrInvalid, value, typ)
		}
	case UUID:
		if !uuidRE.MatchString(value) {
			return fmt.Errorf("%w: %q is not a UUID, and the column is %s", ErrInvalid, value, typ)
		}
	case Binary:
		return fmt.Errorf("%w: the column is %s, which Vow does not match identities against", ErrInvalid, typ)
	}
	return nil
}

// Canonical is the one form of a subject whose kind is not known — a
// consent subject, who accepted a policy, a notice's recipient — that Vow
// pseudonymises and compares: an email address normalised as one
// (lower-cased), anything else trimmed.
func Canonical(v string) string {
	if n, err := Normalize(Email, v); err == nil {
		return n
	}
	return strings.TrimSpace(v)
}
