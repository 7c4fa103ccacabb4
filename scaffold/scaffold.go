// Package scaffold writes a starter vow.yaml from the schema of a live
// database: every table and column, keys and relations as the database
// declares them, and a guessed data category for each column, marked for
// review.
//
// Requests follow ownership (see policy.Ownership), so a starter policy
// that guessed whose rows a table holds, or which column identifies a
// person, would make requests take other people's data. The starter
// therefore says, for every table, only what it can show from the schema,
// and leaves a "# review:" comment wherever a human must decide:
//
//   - whose rows a table holds: the relation that owns them is chosen by
//     evidence (a NOT NULL reference over a nullable one; the person the row
//     is about over the entity it is part of, over someone who acted on it;
//     a customer over a member of staff), written as relation: owner and
//     the others as mentions when Vow would otherwise infer differently or
//     a table has several relations; a tie is named in a comment;
//   - a mention that may be NULL is cleared on erasure (erase: nullify);
//     one that may not gets no strategy, and a comment with what the
//     database does on delete;
//   - composite foreign keys are one foreign_keys entry, never one
//     reference per column;
//   - staff tables are of subject employee, a log is of its owner's
//     subject (or none), everything else customer;
//   - identities are only on the table of people that are their own rows,
//     never on a column that references another table, at most one of each
//     kind per table, and user_id only on one table per subject kind;
//   - a table without a primary key names rows by a unique index over NOT
//     NULL columns, or gets no erasure strategy until a human declares a
//     key.
//
// `vow check --live` then lists the decisions left: retention periods and
// erasure strategies.
package scaffold

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vowprivacy/vow/classify"
	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/scan"
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
	// Content, when set, returns what a content scan found in a column
	// (package scan; the zero Column when it was not scanned). Guesses
	// then rest on the values as well as the names, and JSON columns get
	// their keys declared.
	Content func(table, column string) scan.Column
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
	add(root, "starter", scalar("true"), "delete this line once the decisions vow check lists are made; until then no command acts on this file")
	add(root, "organization", mapping(
		pair("name", scalar(org), "review: your company's name"),
		pair("contacts", mapping(pair("privacy", scalar("privacy@example.com"), "review: your privacy contact")), ""),
	), "")
	add(root, "purposes", mapping(pair("service", mapping(
		pair("title", scalar("Provide the service"), ""),
		pair("legal_basis", scalar("contract"), ""),
		pair("essential", scalar("true"), ""),
	), "review: add the purposes you process data for")), "")

	m := newModel(s, o.Content)
	tables := mapping()
	var ignore []string
	for _, t := range m.tables {
		if !t.declared {
			ignore = append(ignore, t.lt.Name)
			continue
		}
		v := m.render(t)
		k := key(t.lt.Name)
		k.HeadComment = comments(t.tableNotes)
		tables.Content = append(tables.Content, k, v)
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
	fmt.Fprintf(&buf, "# Starter policy written by `vow init` from the %s database. Lines marked\n# `review` are guesses or decisions left to you: confirm each, above all whose\n# rows each table holds (subject, relation), then run `vow check --live`.\n", o.Kind)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		return nil, fmt.Errorf("scaffold: %w", err)
	}
	return buf.Bytes(), nil
}

// render writes one declared table.
func (m *model) render(t *table) *yaml.Node {
	fields := mapping()
	refs := map[string]*relation{} // column → its declared relation of one column
	for _, r := range t.rels {
		if r.to != nil && r.single() && refs[r.fk.Columns[0]] == nil {
			refs[r.fk.Columns[0]] = r
		}
	}
	for _, c := range t.lt.Columns {
		g := t.guesses[c.Name]
		var notes []string
		if g.Category != "system.operations" || !g.Confident {
			notes = append(notes, "guessed from "+describeGuess(g, c))
		}
		for _, r := range t.rels {
			if r.single() && r.fk.Columns[0] == c.Name && r.why != "" {
				notes = append(notes, r.why)
			}
		}
		notes = append(notes, t.lineNotes[c.Name]...)
		comment := ""
		if len(notes) > 0 {
			comment = "review: " + strings.Join(notes, "; ")
		}
		id, r, masked, keys := t.identity[c.Name], refs[c.Name], t.masked[c.Name], t.jsonKeys[c.Name]
		var v *yaml.Node
		if id == "" && r == nil && !masked && len(keys) == 0 {
			v = scalar(g.Category)
		} else {
			f := mapping(pair("category", scalar(g.Category), ""))
			if id != "" {
				add(f, "identity", scalar(id), "")
			}
			if r != nil {
				add(f, "references", scalar(r.fk.RefTable+"."+r.fk.RefColumns[0]), "")
				if t.explicit {
					add(f, "relation", scalar(r.role), "")
				}
			}
			if masked {
				add(f, "erase", scalar("nullify"), "")
			}
			if len(keys) > 0 {
				js := mapping()
				for _, k := range sortedKeys(keys) {
					add(js, k, scalar(keys[k]), "")
				}
				add(f, "json", flow(js), "")
			}
			v = flow(f)
		}
		v.LineComment = comment
		k := key(c.Name)
		k.HeadComment = comments(t.headNotes[c.Name])
		fields.Content = append(fields.Content, k, v)
	}
	n := mapping()
	if t.subject != "" {
		add(n, "subject", scalar(t.subject), t.subjectNote)
	}
	if len(t.key) > 0 {
		comment := ""
		if t.keyIndex != "" {
			comment = "not a primary key: the unique index " + t.keyIndex + " over NOT NULL columns, which Vow names rows by to erase them"
		}
		add(n, "primary_key", flow(seq(t.key...)), comment)
	}
	add(n, "fields", fields, "")
	var fks []*yaml.Node
	for _, r := range t.rels {
		if r.single() {
			continue
		}
		if r.to == nil {
			if r.why != "" {
				t.tableNotes = append(t.tableNotes, r.why)
			}
			continue
		}
		ref := scalar(r.fk.RefTable + " (" + strings.Join(r.fk.RefColumns, ", ") + ")")
		ref.Style = yaml.DoubleQuotedStyle
		e := mapping(pair("columns", flow(seq(r.fk.Columns...)), ""), pair("references", ref, ""))
		if t.explicit {
			add(e, "relation", scalar(r.role), "")
		}
		flow(e).HeadComment = comments(r.notes)
		fks = append(fks, e)
	}
	if len(fks) > 0 {
		add(n, "foreign_keys", &yaml.Node{Kind: yaml.SequenceNode, Content: fks}, "")
	}
	return n
}

// describeGuess says what a guess rests on, and how sure it is.
func describeGuess(g guessed, c connector.Column) string {
	var s string
	switch {
	case g.via != "":
		return "the reference to " + g.via
	case g.Evidence == classify.FromContent:
		s = "the values (" + g.seen + ")"
	case g.Evidence == classify.FromBoth:
		s = "the column name and the values (" + g.seen + ")"
	case g.Evidence == classify.FromOpaque:
		s = "the column name; the values look encrypted or binary (declare stored: encrypted if they are)"
	case g.Confident:
		s = "the column name"
	default:
		s = "the column type " + c.Base()
	}
	if g.Confident {
		return s + ", likely"
	}
	return s + ", uncertain"
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
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
	kn := key(k)
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

// key is a mapping key, quoted when YAML would read it as something other
// than a string (a column called null, true or 1).
func key(k string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k} }

// comments joins review notes into a comment block, each note wrapped at
// about 100 columns.
func comments(notes []string) string {
	var lines []string
	for _, n := range notes {
		line := ""
		for _, w := range strings.Fields(n) {
			if line != "" && len(line)+1+len(w) > 100 {
				lines = append(lines, line)
				line = "  "
			}
			if line != "" && line != "  " {
				line += " "
			}
			line += w
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
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
