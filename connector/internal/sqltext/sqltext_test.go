package sqltext_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/connector/internal/sqltext"
)

// columns resolves the names of a table with columns Email and n.
func columns(name string) (string, bool) {
	for _, c := range []string{"Email", "n"} {
		if strings.EqualFold(c, name) {
			return c, true
		}
	}
	return "", false
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		syn    sqltext.Syntax
		column sqltext.Resolver
		want   string
	}{
		{"function", "lower(email)", sqltext.Postgres, nil, "lower(email)"},
		{"upper case and spaces", "LOWER ( email )", sqltext.Postgres, nil, "lower(email)"},
		{"quoted keeps case", `lower("Email")`, sqltext.Postgres, nil, "lower(Email)"},
		{"backticks", "lower(`Email`)", sqltext.MySQL, nil, "lower(Email)"},
		{"brackets in SQLite", "lower([Email])", sqltext.SQLite, nil, "lower(Email)"},
		{"brackets elsewhere are subscripts", "(tags)[1]", sqltext.Postgres, nil, "(tags)[1]"},
		{"outer parentheses", "((n + 1))", sqltext.Postgres, nil, "n + 1"},
		{"inner parentheses stay", "(a + 1) * (b + 1)", sqltext.Postgres, nil, "(a + 1) * (b + 1)"},
		{"operators spaced", "n+1>=2", sqltext.SQLite, nil, "n + 1 >= 2"},
		{"unary minus", "n > -1 AND m = (-2)", sqltext.SQLite, nil, "n > -1 and m = (-2)"},
		{"cast", "(email)::text", sqltext.Postgres, nil, "(email)::text"},
		{"literal kept", "COALESCE(email, 'X'::text)", sqltext.Postgres, nil, "coalesce(email, 'X'::text)"},
		{"doubled quote", "a <> 'it''s'", sqltext.Postgres, nil, "a <> 'it''s'"},
		{"backslash escape", `a <> 'it\'s' and b`, sqltext.MySQL, nil, `a <> 'it\'s' and b`},
		{"prefixed literal", "`r` in (_utf8mb4'x',_utf8mb4'y')", sqltext.MySQL, nil, "r in (_utf8mb4'x', _utf8mb4'y')"},
		{"keyword before group", "role = ANY (ARRAY['a'::text, 'b'::text])", sqltext.Postgres, nil, "role = any (array['a'::text, 'b'::text])"},
		{"in list", "role IN ('a','b')", sqltext.SQLite, nil, "role in ('a', 'b')"},
		{"comments", "lower(email) -- why\n/* no */", sqltext.SQLite, nil, "lower(email)"},
		{"resolver spells columns", "lower(email) || N", sqltext.SQLite, columns, "lower(Email) || n"},
		{"resolver skips functions", "n(email)", sqltext.SQLite, columns, "n(Email)"},
		{"qualified", `"T".email`, sqltext.Postgres, nil, "T.email"},
		{"unicode word", "lower(prénom)", sqltext.Postgres, nil, "lower(prénom)"},
		{"unterminated", "lower('x", sqltext.Postgres, nil, "lower('x"},
		{"empty", "", sqltext.Postgres, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := sqltext.Normalize(tt.in, tt.syn, tt.column); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSplitAndClose(t *testing.T) {
	t.Parallel()
	toks := sqltext.Tokenize("(a, f(b, c), [d, e]) x", sqltext.Postgres)
	end := sqltext.Close(toks, 0)
	if end != len(toks)-2 {
		t.Fatalf("Close = %d, want %d", end, len(toks)-2)
	}
	var got []string
	for _, part := range sqltext.Split(toks[1:end]) {
		got = append(got, sqltext.Format(part, nil))
	}
	if want := []string{"a", "f(b, c)", "[d, e]"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Split = %q, want %q", got, want)
	}
	if sqltext.Close(toks, len(toks)-1) != -1 {
		t.Errorf("Close on a word should be -1")
	}
	if sqltext.Close(sqltext.Tokenize("(a", sqltext.Postgres), 0) != -1 {
		t.Errorf("Close of an unclosed parenthesis should be -1")
	}
	if sqltext.Split(nil) != nil {
		t.Errorf("Split(nil) should be nil")
	}
}

func TestColumns(t *testing.T) {
	t.Parallel()
	cols := []string{"id", "Role", "b", "year"}
	tests := []struct {
		clause string
		want   []string
	}{
		{"`b` between 1 and 5 and `Role` in ('x','y')", []string{"Role", "b"}},
		{"char_length(`role`) > 0", []string{"Role"}},
		{"year(created_at) > 2000 and 'b' <> 'id'", nil},
		{"year > 2000 and ID > 0", []string{"id", "year"}},
	}
	for _, tt := range tests {
		if got := sqltext.Columns(sqltext.Tokenize(tt.clause, sqltext.MySQL), cols); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Columns(%q) = %q, want %q", tt.clause, got, tt.want)
		}
	}
}

func TestAction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"CASCADE", "CASCADE", true},
		{"set  null", "SET NULL", true},
		{"SET DEFAULT", "SET DEFAULT", true},
		{"restrict", "RESTRICT", true},
		{" NO ACTION ", "NO ACTION", true},
		{"x", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got, ok := sqltext.Action(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("Action(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
