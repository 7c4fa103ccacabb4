package connector_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/connector"
)

func TestRedactDSN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, dsn, want string
	}{
		{"postgres URL", "postgres://app:s3cret@db:5432/shop?sslmode=disable", "postgres://app:xxxxx@db:5432/shop?sslmode=disable"},
		{"postgresql URL", "postgresql://app:s3cret@db/shop", "postgresql://app:xxxxx@db/shop"},
		{"URL without password", "postgres://app@db/shop", "postgres://app@db/shop"},
		{"URL without user", "postgres://db/shop", "postgres://db/shop"},
		{"URL escaped password", "mysql://app:p%40ss%2Fw@db:3306/shop", "mysql://app:xxxxx@db:3306/shop"},
		{"URL '@' in query", "mysql://app:s3cret@db/shop?x=a@b", "mysql://app:xxxxx@db/shop?x=a@b"},
		{"URL password param", "postgres://app@db/shop?password=s3cret&sslmode=disable", "postgres://app@db/shop?password=xxxxx&sslmode=disable"},
		{"broken URL", "postgres://app:s3cret@[::1/shop", "postgres://app:xxxxx@[::1/shop"},
		{"broken URL raw '@' in password", "postgres://app:s3@cret@db/shop", "postgres://app:xxxxx@db/shop"},
		{"mysql driver", "app:s3cret@tcp(db:3306)/shop?parseTime=true", "app:xxxxx@tcp(db:3306)/shop?parseTime=true"},
		{"mysql driver odd password", "app:s3:c@r/et@tcp(db:3306)/shop", "app:xxxxx@tcp(db:3306)/shop"},
		{"mysql driver no password", "app@tcp(db:3306)/shop", "app@tcp(db:3306)/shop"},
		{"mysql driver no user", "tcp(db:3306)/shop", "tcp(db:3306)/shop"},
		{"key/value", "host=db user=app password=s3cret dbname=shop", "host=db user=app password=xxxxx dbname=shop"},
		{"key/value quoted", "host=db password='s3 cr\\'et' dbname=shop", "host=db password=xxxxx dbname=shop"},
		{"key/value spaced", "host=db password = s3cret", "host=db password = xxxxx"},
		{"key/value user with '@'", "host=db user=a:b@c dbname=shop", "host=db user=a:b@c dbname=shop"},
		{"sqlite path", "/var/lib/app.db", "/var/lib/app.db"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := connector.RedactDSN(tt.dsn)
			if got != tt.want {
				t.Errorf("RedactDSN(%q) = %q, want %q", tt.dsn, got, tt.want)
			}
			for _, secret := range []string{"s3cret", "s3 cr", "p%40ss", "r/et"} {
				if strings.Contains(got, secret) {
					t.Errorf("RedactDSN(%q) = %q still holds %q", tt.dsn, got, secret)
				}
			}
		})
	}
}

func TestSchemaTable(t *testing.T) {
	t.Parallel()
	s := &connector.Schema{Tables: []connector.Table{
		{Name: "Users"},
		{Name: "billing.invoices"},
		{Name: "users"},
	}}
	tests := []struct {
		name string
		want string // "" for nil
	}{
		{"users", "users"},
		{"Users", "Users"},
		{"USERS", "Users"},
		{"Billing.Invoices", "billing.invoices"},
		{"invoices", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got := s.Table(tt.name)
		switch {
		case tt.want == "" && got != nil:
			t.Errorf("Table(%q) = %q, want nil", tt.name, got.Name)
		case tt.want != "" && (got == nil || got.Name != tt.want):
			t.Errorf("Table(%q) = %v, want %q", tt.name, got, tt.want)
		}
	}
	var nilSchema *connector.Schema
	if nilSchema.Table("users") != nil {
		t.Error("nil Schema: Table returned non-nil")
	}
}

func TestTableColumn(t *testing.T) {
	t.Parallel()
	tb := &connector.Table{Columns: []connector.Column{{Name: "Email"}, {Name: "email"}, {Name: "id"}}}
	tests := []struct{ name, want string }{
		{"email", "email"},
		{"Email", "Email"},
		{"ID", "id"},
		{"missing", ""},
	}
	for _, tt := range tests {
		got := tb.Column(tt.name)
		switch {
		case tt.want == "" && got != nil:
			t.Errorf("Column(%q) = %q, want nil", tt.name, got.Name)
		case tt.want != "" && (got == nil || got.Name != tt.want):
			t.Errorf("Column(%q) = %v, want %q", tt.name, got, tt.want)
		}
	}
	var nilTable *connector.Table
	if nilTable.Column("id") != nil {
		t.Error("nil Table: Column returned non-nil")
	}
}

func TestTableIndexStartsWith(t *testing.T) {
	t.Parallel()
	tb := &connector.Table{
		Columns:    []connector.Column{{Name: "id"}, {Name: "Email"}, {Name: "org_id"}, {Name: "n"}},
		PrimaryKey: []string{"id"},
		Indexes: []connector.Index{
			{Name: "by_org", Columns: []string{"org_id", "Email"}},
			{Name: "by_email", Columns: []string{"lower(Email)"}},
			{Name: "by_n", Columns: []string{"n + 1"}, Partial: true},
			{Name: "empty"},
		},
	}
	tests := []struct {
		term string
		want bool
	}{
		{"id", true},                      // primary key
		{"ID", true},                      // plain columns in any case
		{"org_id", true},                  // first index term
		{`"ORG_ID"`, true},                // quoted
		{"Email", false},                  // second term only
		{"lower(Email)", true},            // expression, canonical
		{"LOWER( email )", true},          // case, spaces and the column's spelling
		{`(lower("Email"))`, true},        // quotes and outer parentheses
		{"upper(Email)", false},           // another expression
		{"(n+1)", true},                   // a partial index counts
		{"n", false},                      // not the expression's column
		{"", false},                       // nothing
		{"lower(Email) || 'x'", false},    // a longer expression
		{"lower(Email) -- comment", true}, // comments are ignored
	}
	for _, tt := range tests {
		if got := tb.IndexStartsWith(tt.term); got != tt.want {
			t.Errorf("IndexStartsWith(%q) = %v, want %v", tt.term, got, tt.want)
		}
	}
	var nilTable *connector.Table
	if nilTable.IndexStartsWith("id") {
		t.Error("nil Table: IndexStartsWith returned true")
	}
	if got := tb.ColumnNames(); strings.Join(got, ",") != "id,Email,org_id,n" {
		t.Errorf("ColumnNames() = %q", got)
	}
}

func TestError(t *testing.T) {
	t.Parallel()
	cause := &fs.PathError{Op: "open", Path: "/x", Err: fs.ErrNotExist}
	err := connector.NewError(connector.ErrNoDatabase, "sqlite: /x does not exist", cause)
	if err.Error() != "sqlite: /x does not exist" {
		t.Errorf("Error() = %q", err.Error())
	}
	if !errors.Is(err, connector.ErrNoDatabase) {
		t.Error("errors.Is(err, ErrNoDatabase) = false")
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("errors.Is(err, fs.ErrNotExist) = false, want the cause matched")
	}
	var pathErr *fs.PathError
	if !errors.As(err, &pathErr) {
		t.Error("errors.As(err, *fs.PathError) = false")
	}
	if errors.Is(err, connector.ErrAuth) {
		t.Error("errors.Is(err, ErrAuth) = true")
	}
	if bare := connector.NewError(nil, "m", nil); len(bare.Unwrap()) != 0 {
		t.Errorf("Unwrap of an error without kind or cause = %v", bare.Unwrap())
	}
}
