package scaffold_test

import (
	"testing"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/scaffold"
)

// A column typed by a PostgreSQL domain is guessed as its base type: over
// inet, jsonb and bytea the table was taken for holding nothing personal
// and went under ignore:, where drift never looks again.
func TestDomainsGuessedByTheirBase(t *testing.T) {
	t.Parallel()
	render := func(domain bool) string {
		c := func(name, base, dom string) connector.Column {
			if domain {
				return connector.Column{Name: name, Type: dom, Domain: base, Nullable: true}
			}
			return connector.Column{Name: name, Type: base, Nullable: true}
		}
		s := &connector.Schema{Tables: []connector.Table{{Name: "visits", PrimaryKey: []string{"id"},
			Columns: []connector.Column{{Name: "id", Type: "bigint"}, c("origin", "inet", "ip_addr"), c("payload", "jsonb", "doc_t"), c("blobby", "bytea", "raw_t")}}}}
		b, err := scaffold.Policy(s, scaffold.Options{Kind: "postgres", ConnectionKey: "env", ConnectionValue: "X"})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	plain, dom := render(false), render(true)
	if plain != dom {
		t.Errorf("plain types:\n%s\ndomains:\n%s", plain, dom)
	}
}
