package policy

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ConditionError is why CheckCondition refuses a condition: what is wrong
// and at which byte offset of the condition (counting from 0).
type ConditionError struct {
	Offset  int
	Problem string
}

func (e *ConditionError) Error() string {
	return fmt.Sprintf("at byte offset %d: %s", e.Offset, e.Problem)
}

// CheckCondition reports whether sql may be used as a retention rule's
// where. Vow puts the condition between parentheses inside its own
// statements, next to the conditions that protect rows (the cutoff, legal
// holds); the condition must not be able to leave those parentheses, end
// the statement, or hide what follows it. So it refuses, outside quotes: a
// ')' that closes more than was opened, a '(' left open, ';', comments
// (--, /* and MySQL's #), and an unterminated quote. A condition is free
// to use subqueries, functions and operators otherwise.
//
// The databases Vow supports read some text differently (a backslash
// escapes a quote in MySQL's strings but not in PostgreSQL's or SQLite's;
// '$' may open a dollar-quoted string in PostgreSQL; '[' opens a quoted
// name in SQLite), so those are refused where they could change where a
// string or name ends: each database must see the same structure.
//
// The error is a *ConditionError.
func CheckCondition(sql string) error {
	depth := 0
	var opens []int // offsets of the '(' still open
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			end, err := quoted(sql, i)
			if err != nil {
				return err
			}
			i = end
		case c == '(':
			depth++
			opens = append(opens, i)
		case c == ')':
			if depth == 0 {
				return condErr(sql, i, "the ')' closes a parenthesis the condition never opened, so it would reach outside the condition into the rest of Vow's statement; remove it or add the matching '('")
			}
			depth--
			opens = opens[:len(opens)-1]
		case c == ';':
			return condErr(sql, i, "';' ends the statement; a where is a single condition, so remove it (inside quotes it is allowed)")
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			return condErr(sql, i, "'--' starts a comment, which would hide the rest of Vow's statement; remove it (to subtract a negative number write a - (-1))")
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			return condErr(sql, i, "'/*' starts a comment, which would hide the rest of Vow's statement; remove it")
		case c == '#':
			return condErr(sql, i, "'#' starts a comment in MySQL, which would hide the rest of Vow's statement; remove it (inside quotes it is allowed)")
		case c == '$':
			return condErr(sql, i, "'$' may start a dollar-quoted string in PostgreSQL; write values as '…' and quote a name that contains $ (\"name$1\")")
		case c == '[':
			end, err := subscript(sql, i)
			if err != nil {
				return err
			}
			i = end
		case c < ' ' && c != '\t' && c != '\n' && c != '\r', c == 0x7f:
			return condErr(sql, i, fmt.Sprintf("control character 0x%02x; remove it", c))
		}
	}
	if depth > 0 {
		return condErr(sql, opens[len(opens)-1], "the '(' is never closed; add the matching ')'")
	}
	return nil
}

// quoted returns the offset of the quote that closes the string ('…') or
// quoted name ("…", `…`) opened at sql[start]. A doubled quote stands for
// itself. A backslash before the quote is refused in '…' and "…": MySQL
// reads it as an escape (the string goes on), PostgreSQL and SQLite as a
// character (the string ends), so the databases would disagree on where
// the string ends.
func quoted(sql string, start int) (int, error) {
	q := sql[start]
	for i := start + 1; i < len(sql); i++ {
		switch c := sql[i]; {
		case c == '\\' && q != '`' && i+1 < len(sql) && sql[i+1] == q:
			return 0, condErr(sql, i, fmt.Sprintf(`a backslash before %c ends the quote in PostgreSQL and SQLite but escapes it in MySQL, so the databases would read the condition differently; write a quote inside quotes doubled (%c%c)`, q, q, q))
		case c == q && i+1 < len(sql) && sql[i+1] == q:
			i++
		case c == q:
			return i, nil
		}
	}
	what := map[byte]string{'\'': "string", '"': "quoted name (or MySQL string)", '`': "quoted name"}[q]
	return 0, condErr(sql, start, fmt.Sprintf("the %c opens a %s that is never closed; close it with %c (a %c inside it is written %c%c)", q, what, q, q, q, q))
}

// subscript returns the offset of the ']' closing the '[' at sql[start].
// SQLite reads […] as a quoted name, PostgreSQL as an array subscript: the
// two agree on the structure only when nothing inside can open a string,
// a comment or a parenthesis.
func subscript(sql string, start int) (int, error) {
	for i := start + 1; i < len(sql); i++ {
		c := sql[i]
		if c == ']' {
			return i, nil
		}
		comment := i+1 < len(sql) && (c == '-' && sql[i+1] == '-' || c == '/' && sql[i+1] == '*')
		if comment || strings.IndexByte("'\"`()[;#$", c) >= 0 || c < ' ' || c == 0x7f {
			return 0, condErr(sql, i, "inside […] only a plain subscript is allowed (SQLite reads […] as a quoted name, PostgreSQL as a subscript); write it without quotes, parentheses, comments or ';', or quote the name with \"…\"")
		}
	}
	return 0, condErr(sql, start, "the '[' is never closed; add the matching ']'")
}

// condErr builds the error at offset i, quoting the text around it so the
// reader finds it in a long condition.
func condErr(sql string, i int, problem string) *ConditionError {
	lo, hi := max(0, i-15), min(len(sql), i+15)
	for lo > 0 && !utf8.RuneStart(sql[lo]) {
		lo--
	}
	for hi < len(sql) && !utf8.RuneStart(sql[hi]) {
		hi++
	}
	near := strings.Join(strings.Fields(sql[lo:hi]), " ")
	return &ConditionError{Offset: i, Problem: fmt.Sprintf("%s (near %q)", problem, near)}
}

// clockFunctions are the SQL functions whose value is the session's clock
// (NOW(), CURRENT_DATE and the like in PostgreSQL and MySQL), as a wall
// time in the session's time zone or in UTC.
var clockFunctions = map[string]bool{
	"now": true, "current_timestamp": true, "current_date": true, "current_time": true, "curdate": true, "curtime": true,
	"sysdate": true, "localtime": true, "localtimestamp": true, "transaction_timestamp": true, "statement_timestamp": true,
	"clock_timestamp": true, "timeofday": true, "utc_timestamp": true, "utc_date": true, "utc_time": true,
}

// clockWithoutArguments are the functions that read the clock when called
// without a time: SQLite's date functions (date(), julianday()) and
// MySQL's UNIX_TIMESTAMP(); strftime reads it given only its format.
var clockWithoutArguments = map[string]int{
	"date": 0, "time": 0, "datetime": 0, "julianday": 0, "unixepoch": 0, "unix_timestamp": 0, "strftime": 1,
	"age":      1,  // PostgreSQL's age(x): from current_date
	"timediff": -2, // SQLite's: never without arguments; 'subsec' below
}

// xidColumn reports whether an argument is a row's transaction id
// (PostgreSQL's system columns xmin and xmax, qualified or not), whose
// age(…) counts transactions, not time.
func xidColumn(arg string) bool {
	arg = strings.TrimSpace(arg)
	if i := strings.LastIndexByte(arg, '.'); i >= 0 {
		arg = arg[i+1:]
	}
	return arg == "xmin" || arg == "xmax"
}

// sqliteDateFunctions take modifiers; 'localtime' and 'utc' among them
// convert with the zone of the machine Vow runs on, and 'subsec' as the
// time reads the clock.
var sqliteDateFunctions = map[string]bool{"date": true, "time": true, "datetime": true, "julianday": true, "unixepoch": true, "strftime": true, "timediff": true}

// clockWords are the strings that read the clock where a time is
// expected: PostgreSQL's 'now'::timestamp, 'today', SQLite's
// date('now').
var clockWords = map[string]bool{"now": true, "today": true, "yesterday": true, "tomorrow": true}

// ClockFunctions returns what in a condition reads the clock, lower-cased:
// the clock functions it calls or names outside quotes (now), and the
// strings that read it ('now', 'today', 'localtime'). Their time is the
// session's, in the session's time zone (or UTC, or the machine's), which
// may not be the zone the application writes its times in.
func ClockFunctions(sql string) []string {
	var out []string
	lower := strings.ToLower(sql)
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == '\'':
			end, err := quoted(sql, i)
			if err != nil {
				return out
			}
			if w := strings.TrimSpace(lower[i+1 : end]); clockWords[w] {
				out = append(out, "'"+w+"'")
			}
			i = end
		case c == '"' || c == '`':
			end, err := quoted(sql, i)
			if err != nil {
				return out
			}
			i = end
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(sql) && (sql[j] == '_' || sql[j] >= 'a' && sql[j] <= 'z' || sql[j] >= 'A' && sql[j] <= 'Z' || sql[j] >= '0' && sql[j] <= '9') {
				j++
			}
			word := lower[i:j]
			if clockFunctions[word] {
				out = append(out, word)
			} else if want, ok := clockWithoutArguments[word]; ok {
				parts, end, called := callArguments(lower, j)
				n := len(parts)
				switch {
				case !called:
					n = -1
				case strings.Join(parts, "") == "":
					n = 0 // "()", and "( ,)" with it
				}
				switch {
				case word == "age" && n == 1 && xidColumn(parts[0]):
					// age(xmin): a row's transaction age, not the clock.
				case n == want:
					out = append(out, word+"()")
				case n > 0 && sqliteDateFunctions[word]:
					// SQLite's modifiers: 'localtime' and 'utc' convert in
					// the zone of the machine Vow runs on (elsewhere they
					// are values); 'subsec' as the time is the clock.
					for _, m := range []string{"'localtime'", "'utc'"} {
						if strings.Contains(lower[j:end], m) {
							out = append(out, m)
						}
					}
					// The time is strftime's second argument, the others'
					// first (timediff's either).
					times := parts[:1]
					switch word {
					case "strftime":
						times = parts[1:min(2, n)]
					case "timediff":
						times = parts[:min(2, n)]
					}
					for _, a := range times {
						if a == "'subsec'" || a == "'subsecond'" {
							out = append(out, "'subsec'")
						}
					}
				}
			}
			i = j - 1
		}
	}
	return out
}

// callArguments returns the arguments of the call whose name ends at
// sql[i] — trimmed, split at the commas outside quotes and inner
// parentheses; "()" is one empty argument — and where its parentheses
// end (past the ')'). called is false when no parenthesis follows.
func callArguments(sql string, i int) (args []string, end int, called bool) {
	for i < len(sql) && (sql[i] == ' ' || sql[i] == '\t' || sql[i] == '\n') {
		i++
	}
	if i >= len(sql) || sql[i] != '(' {
		return nil, i, false
	}
	depth, start := 0, i+1
	for ; i < len(sql); i++ {
		switch c := sql[i]; {
		case c == '\'' || c == '"' || c == '`':
			q, err := quoted(sql, i)
			if err != nil {
				return append(args, strings.TrimSpace(sql[start:])), len(sql), true
			}
			i = q
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return append(args, strings.TrimSpace(sql[start:i])), i + 1, true
			}
		case c == ',' && depth == 1:
			args = append(args, strings.TrimSpace(sql[start:i]))
			start = i + 1
		}
	}
	return append(args, strings.TrimSpace(sql[start:])), len(sql), true
}
