package policy

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestCheckCondition(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		where string
		// offset and words the error must have; offset -1: accepted.
		offset int
		words  string
	}{
		{"", -1, ""},
		{"deleted_at IS NOT NULL", -1, ""},
		{"org_id IN (SELECT id FROM organizations WHERE plan = 'free')", -1, ""},
		{"scan_id IN (SELECT s.id FROM scans s JOIN projects p ON p.id = s.project_id\nJOIN organizations o ON o.id = p.org_id WHERE o.plan = 'free')", -1, ""},
		{"note = 'it''s (not) a ; -- # /* comment'", -1, ""},
		{`"odd ) name" = 1 AND ` + "`my;col` = 2", -1, ""},
		{`"a""b" = 'x'`, -1, ""},
		{"tags[1] = 'x'", -1, ""},
		{"a - -1 > 0", -1, ""},
		{"x) OR (1=1", 1, "closes a parenthesis the condition never opened"},
		{"(a = 1))", 7, "never opened"},
		{"(a = 1", 0, "never closed"},
		{"a IN (SELECT (1)", 5, "never closed"},
		{"a = 1; DROP TABLE users", 5, "ends the statement"},
		{"a = 1 -- and b = 2", 6, "comment"},
		{"a = 1 /* */", 6, "comment"},
		{"a = 1 # mysql", 6, "comment"},
		{"a = 'open", 4, "never closed"},
		{`"open = 1`, 0, "never closed"},
		{"`open = 1", 0, "never closed"},
		{`a = 'x\' OR 1=1`, 6, "backslash"},
		{`a = 'x\' OR b = ') OR (1=1 -- '`, 6, "backslash"},
		{`a = "x\" OR 1=1`, 6, "backslash"},
		{"a = $$ ' $$", 4, "dollar-quoted"},
		{"a = [ ' ] ) OR (1=1 -- '", 6, "plain subscript"},
		{"a[1 = 1", 1, "never closed"},
		{"a = 1\x00", 5, "control character"},
	} {
		err := CheckCondition(tc.where)
		if tc.offset < 0 {
			if err != nil {
				t.Errorf("CheckCondition(%q) = %v, want it accepted", tc.where, err)
			}
			continue
		}
		var ce *ConditionError
		if !errors.As(err, &ce) || ce.Offset != tc.offset || !strings.Contains(err.Error(), tc.words) {
			t.Errorf("CheckCondition(%q) = %v, want an error at offset %d saying %q", tc.where, err, tc.offset, tc.words)
		}
	}
}

// FuzzCheckCondition checks the promise of CheckCondition: a condition it
// accepts, placed between parentheses and followed by more SQL, stays
// inside its parentheses, and the SQL after it is read as SQL (not as part
// of a comment, a string or a quoted name), by each database's reading of
// the text. The readings are modelled independently of CheckCondition.
func FuzzCheckCondition(f *testing.F) {
	for _, s := range []string{
		"x) OR (1=1",
		"deleted_at IS NOT NULL",
		"org_id IN (SELECT id FROM organizations WHERE plan = 'free')",
		"note = 'it''s ) -- '",
		`a = 'x\' ) OR (1=1 -- '`,
		// Read as one string by MySQL, as two by PostgreSQL and SQLite:
		// MySQL would see ") OR (1=1 -- …".
		`a = 'x\' OR b = ') OR (1=1 -- '`,
		`a = "x\" OR b = ") OR (1=1 -- "`,
		`a = E'x\' OR b = ') OR (1=1 -- '`,
		"a = $$ ' $$ ) OR (1=1 -- '",
		"a = $t$ ' $t$ ) OR (1=1 -- '",
		"a = [ ' ] ) OR (1=1 -- '",
		"a = 1 #",
		"a = 1 -- \n",
		"a /* ) */ = 1",
		"`a'` = 1",
		`"a""b" = '''' AND c = 1`,
		"a = '\\\\'",
		"tags[1] = 'x'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, where string) {
		if CheckCondition(where) != nil {
			return
		}
		stmt := "(" + where + ") AND x"
		for _, d := range []dialect{postgresReading, mysqlReading, sqliteReading} {
			if problem := d.check(stmt, len(where)+1); problem != "" {
				t.Fatalf("CheckCondition accepted %q, but %s reads %q: %s", where, d.name, stmt, problem)
			}
		}
	})
}

// dialect is one database's reading of SQL text: where strings, quoted
// names and comments begin and end.
type dialect struct {
	name string
	// backslash: a backslash escapes the next character in '…' and "…"
	// strings (MySQL); E'…' strings have it in PostgreSQL.
	backslash bool
	// doubleIsString: "…" is a string (MySQL) rather than a name.
	dollar, brackets, hash, nestedComments, dashNeedsSpace bool
}

var (
	postgresReading = dialect{name: "PostgreSQL", dollar: true, nestedComments: true}
	mysqlReading    = dialect{name: "MySQL", backslash: true, hash: true, dashNeedsSpace: true}
	sqliteReading   = dialect{name: "SQLite", brackets: true}
)

func identChar(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// check reads stmt, which is "(" + condition + ") AND x" with the closing
// parenthesis at offset closeAt, and returns what is wrong: the opening
// parenthesis closed before closeAt, or the text from closeAt on not read
// as plain SQL at depth 0.
func (d dialect) check(stmt string, closeAt int) string {
	depth := 0
	for i := 0; i < len(stmt); i++ {
		if i == closeAt && depth != 1 {
			return "the condition's closing parenthesis is not at depth 1"
		}
		c := stmt[i]
		next := byte(0)
		if i+1 < len(stmt) {
			next = stmt[i+1]
		}
		var end int // offset of the last byte of a string, name or comment
		switch {
		case c == '\'' || c == '"' || c == '`':
			esc := d.backslash && c != '`'
			if c == '\'' && i > 0 && (stmt[i-1] == 'E' || stmt[i-1] == 'e') && d.dollar && (i < 2 || !identChar(stmt[i-2])) {
				esc = true // PostgreSQL's E'…'
			}
			end = len(stmt)
			for j := i + 1; j < len(stmt); j++ {
				if esc && stmt[j] == '\\' {
					j++
					continue
				}
				if stmt[j] == c {
					if j+1 < len(stmt) && stmt[j+1] == c {
						j++
						continue
					}
					end = j
					break
				}
			}
		case d.dollar && c == '$' && (i == 0 || !identChar(stmt[i-1])):
			j := i + 1
			for j < len(stmt) && identChar(stmt[j]) && stmt[j] != '$' && !(j == i+1 && stmt[j] >= '0' && stmt[j] <= '9') {
				j++
			}
			if j >= len(stmt) || stmt[j] != '$' {
				continue // a parameter such as $1, or an operator
			}
			tag := stmt[i : j+1]
			k := strings.Index(stmt[j+1:], tag)
			if k < 0 {
				end = len(stmt)
			} else {
				end = j + 1 + k + len(tag) - 1
			}
		case d.brackets && c == '[':
			end = len(stmt)
			if k := strings.IndexByte(stmt[i+1:], ']'); k >= 0 {
				end = i + 1 + k
			}
		case c == '-' && next == '-' && (!d.dashNeedsSpace || i+2 >= len(stmt) || stmt[i+2] <= ' '),
			d.hash && c == '#':
			end = len(stmt)
			if k := strings.IndexByte(stmt[i:], '\n'); k >= 0 {
				end = i + k
			}
		case c == '/' && next == '*':
			end, level := len(stmt), 0
			for j := i; j+1 < len(stmt); j++ {
				switch {
				case stmt[j] == '/' && stmt[j+1] == '*' && (d.nestedComments || level == 0):
					level++
					j++
				case stmt[j] == '*' && stmt[j+1] == '/':
					level--
					j++
				}
				if level == 0 {
					end = j
					break
				}
			}
			if end >= closeAt {
				return "the rest of the statement is inside a comment"
			}
			i = end
			continue
		case c == '(':
			depth++
			continue
		case c == ')':
			depth--
			if depth == 0 && i != closeAt {
				return "the condition closes the parenthesis Vow opened"
			}
			continue
		default:
			continue
		}
		if end >= closeAt {
			return "the rest of the statement is inside a string, quoted name or comment"
		}
		i = end
	}
	if depth != 0 {
		return "the statement ends inside an open parenthesis"
	}
	return ""
}

func TestClockFunctions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		where string
		want  []string
	}{
		{"last_seen < NOW() - INTERVAL 1 DAY", []string{"now"}},
		{"a < current_date AND b > CURRENT_TIMESTAMP", []string{"current_date", "current_timestamp"}},
		{"a < localtimestamp - interval '1 day'", []string{"localtimestamp"}},
		{"last_seen < UTC_TIMESTAMP() - INTERVAL 1 DAY OR d < utc_date()", []string{"utc_timestamp", "utc_date"}},
		{"at < date('now', '-30 days')", []string{"'now'"}},
		{"at < datetime('now', 'localtime')", []string{"'localtime'", "'now'"}},
		{"last_seen < 'now'::timestamp - interval '1 day' AND d < timestamp ' today '", []string{"'now'", "'today'"}},
		{"CAST(at AS DATE) < '2026-01-01' AND date(at) > '2025-01-01'", nil},
		{"note = 'now()' AND `now` = 1 AND nowhere = 2 AND \"current_date\" = 3", nil},
		{"status = 'closed'", nil},
		{"at < datetime(julianday() - 1) OR d < date() OR x < strftime('%s') OR y < strftime('%s', at)", []string{"julianday()", "date()", "strftime()"}},
		{"at < datetime(unixepoch() - 86400, 'unixepoch')", []string{"unixepoch()"}},
		{"last_seen < FROM_UNIXTIME(UNIX_TIMESTAMP() - 86400) AND UNIX_TIMESTAMP(at) > 0", []string{"unix_timestamp()"}},
		{"at < timeofday()::timestamp", []string{"timeofday"}},
		{"mode <> 'localtime' AND time(at) > '10:00'", nil},
		{"at < date(at, 'localtime')", []string{"'localtime'"}},
		{"at < datetime(at, 'utc') AND mode <> 'utc'", []string{"'utc'"}},
		{"at < datetime('subsec', '-1 day') AND b < datetime(at, 'subsec')", []string{"'subsec'"}},
		{"at < strftime('%Y-%m-%d %H:%M:%f', 'subsec', '-30 days') AND b < strftime('subsec', at)", []string{"'subsec'"}},
		{"timediff('subsec', at) > '+0000-00-30'", []string{"'subsec'"}},
		{"age(created_at) > interval '30 days' AND age(a, b) > interval '1 day'", []string{"age()"}},
		// A row's transaction age counts transactions, not time.
		{"age(xmin) > 1000000 AND age(sessions.xmax) > 0", nil},
	} {
		if got := ClockFunctions(tc.where); !slices.Equal(got, tc.want) {
			t.Errorf("ClockFunctions(%q) = %q, want %q", tc.where, got, tc.want)
		}
	}
}
