package connector

import (
	"database/sql/driver"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// ArrayLiteral writes vals as a PostgreSQL array literal ({"1","a\"b"}),
// for a long list of keys passed as one parameter: the server reads each
// element with the input function of the type the parameter is compared
// with or cast to, so it works for types pgx cannot encode a Go slice
// into (citext, enums) as for the built-in ones. Values are written as
// PostgreSQL reads them back exactly: integers and floats in full, bytes
// as \x hex (bytea), times in RFC 3339 in UTC with nanoseconds (a
// timestamp without time zone, which pgx reads as UTC, ignores the
// zone). It reports false for a value of another kind, for a time BC, and
// for NULL, which a key never is.
func ArrayLiteral(vals []any) (string, bool) {
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		if dv, ok := v.(driver.Valuer); ok {
			var err error
			if v, err = dv.Value(); err != nil {
				return "", false
			}
		}
		var s string
		switch x := v.(type) {
		case int64:
			s = strconv.FormatInt(x, 10)
		case float64:
			s = strconv.FormatFloat(x, 'g', -1, 64)
		case string:
			s = x
		case []byte:
			s = `\x` + hex.EncodeToString(x)
		case time.Time:
			// In UTC: RFC 3339 writes a zone's offset to the minute, and
			// local mean time's is not whole minutes. A year before 1 is
			// BC, which RFC 3339 cannot write at all.
			x = x.UTC()
			if x.Year() < 1 {
				return "", false
			}
			s = x.Format(time.RFC3339Nano)
		default:
			return "", false
		}
		b.WriteByte('"')
		for j := 0; j < len(s); j++ {
			if s[j] == '"' || s[j] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(s[j])
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), true
}
