// Package scaffold writes a starter vow.yaml from the schema of a live
// database: every table and column, primary keys and relations as the
// database declares them, and a guessed data category for each column,
// marked for review. The guesses are a start, not a policy: `vow check` then
// lists the decisions left (retention periods, erasure strategies).
package scaffold

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vowprivacy/vow/classify"
	"github.com/vowprivacy/vow/connector"
)

// Options shape the generated policy.
type Options struct {
	// System is the name of the system in the policy; "app" when empty.
	System string
	// Kind is the datastore kind: postgres, mysql or sqlite.
	Kind string
	// Connection is the connection reference, e.g. {env: APP_DATABASE_URL}
	// or, for SQLite, {path: app.db}.
	ConnectionKey, ConnectionValue string
	// Organization is the company name; a placeholder when empty.
	Organization string
}

// Policy renders a starter policy for the schema.
func Policy(s *connector.Schema, o Options) ([]byte, error) {
	if o.System == "" {
		o.System = "app"
	}
	org := o.Organization
	if org == "" {
		org = "Example Ltd"
	}
	root := mapping()
	add(root, "version", scalar("1"), "")
	add(root, "organization", mapping(
		pair("name", scalar(org), "review: your company's name"),
		pair("contacts", mapping(pair("privacy", scalar("privacy@example.com"), "review: your privacy contact")), ""),
	), "")
	add(root, "purposes", mapping(pair("service", mapping(
		pair("title", scalar("Provide the service"), ""),
		pair("legal_basis", scalar("contract"), ""),
		pair("essential", scalar("true"), ""),
	), "review: add the purposes you process data for")), "")

	// A relation is worth declaring only between declared tables, so
	// decide which tables look personal before rendering any of them.
	declared := map[string]bool{}
	for i := range s.Tables {
		declared[s.Tables[i].Name] = personalTable(&s.Tables[i])
	}
	tables := mapping()
	var ignore []string
	for i := range s.Tables {
		t := &s.Tables[i]
		if !declared[t.Name] {
			ignore = append(ignore, t.Name)
			continue
		}
		add(tables, t.Name, table(t, declared), "")
	}
	sys := mapping(
		pair("kind", scalar(o.Kind), ""),
		pair("connection", flow(mapping(pair(o.ConnectionKey, scalar(o.ConnectionValue), ""))), "the DSN comes from here, never from this file"),
		pair("purposes", flow(seq("service")), ""),
		pair("tables", tables, ""),
	)
	if len(ignore) > 0 {
		add(sys, "ignore", flow(seq(ignore...)), "review: tables with no personal data that Vow guessed")
	}
	add(root, "systems", mapping(pair(o.System, sys, "")), "")
	add(root, "retention", mapping(pair("rules", &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}, "add one rule per table: name, table, from, keep (vow check lists the tables)")), "")
	add(root, "rights", mapping(
		pair("offered", flow(seq("access", "portability", "erasure", "rectification")), ""),
		pair("deadline_days", scalar("30"), ""),
		pair("verification", scalar("email_code"), ""),
	), "")

	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Starter policy written by `vow init` from the %s database. Lines marked\n# `review` are guesses: confirm each, then run `vow check --live`.\n", o.Kind)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		return nil, fmt.Errorf("scaffold: %w", err)
	}
	return buf.Bytes(), nil
}

// guess returns a column's guessed category, from its foreign key when it
// has one, else from its name and type.
func guess(t *connector.Table, c connector.Column) classify.Guess {
	for _, fk := range t.ForeignKeys {
		if len(fk.Columns) == 1 && fk.Columns[0] == c.Name {
			return classify.ForeignKey(fk.RefTable)
		}
	}
	return classify.Column(c.Name, c.Type, classify.PersonTable(t.Name))
}

// personalTable reports whether a table looks like it holds personal data.
func personalTable(t *connector.Table) bool {
	for _, c := range t.Columns {
		if strings.HasPrefix(guess(t, c).Category, "user.") {
			return true
		}
	}
	return false
}

// table renders one table; declared says which tables the policy will
// declare, so relations point only at those.
func table(t *connector.Table, declared map[string]bool) *yaml.Node {
	person := classify.PersonTable(t.Name)
	fields := mapping()
	refs := map[string]string{}
	for _, fk := range t.ForeignKeys {
		if len(fk.Columns) == 1 && declared[fk.RefTable] {
			refs[fk.Columns[0]] = fk.RefTable + "." + fk.RefColumns[0]
		}
	}
	for _, c := range t.Columns {
		g := guess(t, c)
		comment := ""
		if g.Category != "system.operations" || !g.Confident {
			comment = "review: guessed from " + describeGuess(g, c)
		}
		if g.Identity == "" && refs[c.Name] == "" {
			add(fields, c.Name, scalar(g.Category), comment)
			continue
		}
		f := mapping(pair("category", scalar(g.Category), ""))
		// A reference to a person's table identifies the subject through
		// the relation; only direct identifiers are marked as identities.
		if g.Identity != "" && (person || refs[c.Name] == "") {
			add(f, "identity", scalar(g.Identity), "")
		}
		if r := refs[c.Name]; r != "" {
			add(f, "references", scalar(r), "")
		}
		add(fields, c.Name, flow(f), comment)
	}
	n := mapping()
	add(n, "subject", scalar("customer"), "review: whose data a row is")
	if len(t.PrimaryKey) > 0 {
		add(n, "primary_key", flow(seq(t.PrimaryKey...)), "")
	}
	add(n, "fields", fields, "")
	return n
}

func describeGuess(g classify.Guess, c connector.Column) string {
	if g.Confident {
		return "the column name"
	}
	return "the column type " + c.Type
}

func mapping(pairs ...[]*yaml.Node) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, p := range pairs {
		if p != nil {
			n.Content = append(n.Content, p...)
		}
	}
	return n
}

func pair(k string, v *yaml.Node, comment string) []*yaml.Node {
	kn := &yaml.Node{Kind: yaml.ScalarNode, Value: k}
	if comment != "" {
		if v.Kind == yaml.ScalarNode || v.Style == yaml.FlowStyle {
			v.LineComment = comment
		} else {
			kn.LineComment = comment
		}
	}
	return []*yaml.Node{kn, v}
}

func add(m *yaml.Node, k string, v *yaml.Node, comment string) {
	m.Content = append(m.Content, pair(k, v, comment)...)
}

func scalar(v string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: v}
	switch v {
	case "true", "false":
		n.Tag = "!!bool"
	default:
		n.Tag = "!!str"
		if _, err := fmt.Sscan(v, new(int)); err == nil && strings.Trim(v, "0123456789") == "" {
			n.Tag = "!!int"
		}
	}
	return n
}

func seq(vs ...string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode}
	for _, v := range vs {
		n.Content = append(n.Content, scalar(v))
	}
	return n
}

func flow(n *yaml.Node) *yaml.Node { n.Style = yaml.FlowStyle; return n }
