package dsr_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/internal/testdb"
)

// TestPropertyOwnership generates random schemas, data and policies,
// computes in Go whose rows are whose, and checks that an access package
// holds exactly the subject's rows and that an erasure changes exactly
// what the truth says and not one byte of anyone else's rows.
//
// A schema has a person table (people, with a self-reference), and 2 to
// 7 tables owned at depth 1 to 3 (single or composite keys), each with a
// random erasure strategy (delete, nullify fields, hold), mention columns
// to people and sometimes a self-reference, all with nullify strategies.
//
// Seeds 1-20 run on SQLite and 1-5 on PostgreSQL and MariaDB (not with
// -short). Replay one with -seed N; -seeds N runs N random seeds per kind
// (the seeds are logged). VOW_CORPUS_STRICT=1 also generates holds over
// tables that own rows, which Vow gets wrong today (see corpusKnown:
// holdchildren).
var (
	propertySeed  = flag.Uint64("seed", 0, "TestPropertyOwnership: run this seed only")
	propertySeeds = flag.Int("seeds", 0, "TestPropertyOwnership: run this many random seeds per database kind")
)

func TestPropertyOwnership(t *testing.T) {
	t.Parallel()
	pool := newPGPool(t, 1)
	for _, kind := range kinds {
		if kind != "sqlite" && testing.Short() {
			continue
		}
		seeds := propertySeedList(t, kind)
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			for _, seed := range seeds {
				t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
					checkProperty(t, kind, pool, seed)
				})
			}
		})
	}
}

func propertySeedList(t *testing.T, kind string) []uint64 {
	switch {
	case *propertySeed != 0:
		return []uint64{*propertySeed}
	case *propertySeeds > 0:
		base := uint64(time.Now().UnixNano()) % 1_000_000_000
		t.Logf("%s: random seeds from %d", kind, base)
		out := make([]uint64, *propertySeeds)
		for i := range out {
			out[i] = base + uint64(i)
		}
		return out
	}
	n := 20
	if kind != "sqlite" {
		n = 5
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out
}

// genTable is a generated table.
type genTable struct {
	name      string
	composite bool      // key (grp, seq) rather than id
	parent    *genTable // owner; nil for people
	depth     int
	strategy  string   // delete, mask or hold
	mentions  []string // columns that reference people.id
	replyTo   bool     // a self-reference (a mention), single keys only
	rows      []*genRow
}

// genRow is a generated row: its key, its owner's key, and every column.
type genRow struct {
	key    []int64
	parent []int64
	vals   map[string]any // int64, string or nil
}

func (t *genTable) keyCols() []string {
	switch {
	case t.parent == nil:
		return []string{"id"}
	case t.composite:
		return []string{"grp", "seq"}
	}
	return []string{"id"}
}

// parentCols are the columns that reference the owner's key.
func (t *genTable) parentCols() []string {
	if t.parent == nil {
		return nil
	}
	if t.parent.composite {
		return []string{"p_grp", "p_seq"}
	}
	return []string{"parent_id"}
}

func (t *genTable) columns() []string {
	if t.parent == nil {
		return []string{"id", "email", "name", "referrer_id"}
	}
	cols := append(slices.Clone(t.keyCols()), t.parentCols()...)
	cols = append(cols, "note")
	cols = append(cols, t.mentions...)
	if t.replyTo {
		cols = append(cols, "reply_to")
	}
	return cols
}

// heldAbove reports whether the table or one of its owners is held.
func (t *genTable) heldAbove() bool {
	for x := t; x != nil; x = x.parent {
		if x.strategy == "hold" {
			return true
		}
	}
	return false
}

// genSchema is a generated schema with its data and the subject.
type genSchema struct {
	tables  []*genTable // people first, owners before what they own
	subject int64
	ids     dsr.Identities
}

func keyString(k []int64) string {
	parts := make([]string, len(k))
	for i, v := range k {
		parts[i] = strconv.FormatInt(v, 10)
	}
	return strings.Join(parts, "|")
}

// generate builds a schema, its data and a subject from a seed. With
// holdOwners, held tables may own rows (Vow's known failure).
func generate(seed uint64, holdOwners bool) *genSchema {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	g := &genSchema{}
	people := &genTable{name: "people", strategy: "delete"}
	if r.IntN(10) < 3 {
		people.strategy = "mask"
	}
	n := 5 + r.IntN(16)
	for i := 1; i <= n; i++ {
		email := fmt.Sprintf("p%d@example.com", i)
		if r.IntN(4) == 0 {
			email = fmt.Sprintf("P%d@Example.COM", i) // the application keeps what was typed
		}
		var ref any
		if i > 1 && r.IntN(2) == 0 {
			ref = int64(1 + r.IntN(i-1))
		}
		people.rows = append(people.rows, &genRow{key: []int64{int64(i)}, vals: map[string]any{
			"id": int64(i), "email": email, "name": fmt.Sprintf("Person %d", i), "referrer_id": ref,
		}})
	}
	g.tables = append(g.tables, people)
	owned := 2 + r.IntN(6)
	for i := 1; i <= owned; i++ {
		var parents []*genTable
		for _, p := range g.tables {
			if p.depth < 3 && (p.strategy != "hold" || holdOwners) {
				parents = append(parents, p)
			}
		}
		t := &genTable{name: fmt.Sprintf("t%d", i), composite: r.IntN(3) == 0}
		t.parent = parents[r.IntN(len(parents))]
		t.depth = t.parent.depth + 1
		strategies := []string{"delete", "mask"}
		if t.parent.strategy != "delete" {
			strategies = append(strategies, "hold") // a held row under a deleted one would block it
		}
		t.strategy = strategies[r.IntN(len(strategies))]
		if !t.heldAbove() {
			for m := range r.IntN(3) {
				t.mentions = append(t.mentions, fmt.Sprintf("m%d_person", m+1))
			}
			t.replyTo = !t.composite && r.IntN(3) == 0
		}
		// Rows: 0-3 per row of the owner; composite keys repeat seq
		// across groups, so that (1, 7) and (2, 7) are different rows.
		next := map[int64]int64{}
		for _, pr := range t.parent.rows {
			for range r.IntN(4) {
				row := &genRow{parent: pr.key, vals: map[string]any{}}
				if t.composite {
					grp := int64(1 + r.IntN(2))
					next[grp]++
					row.key = []int64{grp, next[grp]}
				} else {
					row.key = []int64{int64(len(t.rows) + 1)}
				}
				for j, c := range t.keyCols() {
					row.vals[c] = row.key[j]
				}
				for j, c := range t.parentCols() {
					row.vals[c] = pr.key[j]
				}
				row.vals["note"] = fmt.Sprintf("%s row %s", t.name, keyString(row.key))
				for _, m := range t.mentions {
					row.vals[m] = nil
					if r.IntN(2) == 0 {
						row.vals[m] = int64(1 + r.IntN(n))
					}
				}
				if t.replyTo {
					row.vals["reply_to"] = nil
					if len(t.rows) > 0 && r.IntN(3) == 0 {
						row.vals["reply_to"] = t.rows[r.IntN(len(t.rows))].key[0]
					}
				}
				t.rows = append(t.rows, row)
			}
		}
		g.tables = append(g.tables, t)
	}
	g.subject = int64(1 + r.IntN(n))
	if r.IntN(2) == 0 {
		g.ids = dsr.Identities{"user_id": strconv.FormatInt(g.subject, 10)}
	} else {
		g.ids = dsr.Identities{"email": strings.ToUpper(fmt.Sprintf("p%d@example.com", g.subject)[:1]) + fmt.Sprintf("p%d@example.com", g.subject)[1:]}
	}
	return g
}

// sqlTypes are the column types of each dialect: an integer and a text.
var sqlTypes = map[string][2]string{
	"postgres": {"bigint", "text"},
	"mysql":    {"BIGINT", "VARCHAR(255)"},
	"sqlite":   {"INTEGER", "TEXT"},
}

// ddl writes the schema for a kind.
func (g *genSchema) ddl(kind string) string {
	ty := sqlTypes[kind]
	var b strings.Builder
	for _, t := range g.tables {
		var cols []string
		for _, c := range t.columns() {
			typ, null := ty[0], " NOT NULL"
			switch {
			case c == "email" || c == "name" || c == "note":
				typ = ty[1]
			}
			switch {
			case c == "referrer_id" || c == "reply_to" || strings.HasPrefix(c, "m") && strings.HasSuffix(c, "_person"):
				null = ""
			case slices.Contains(t.parentCols(), c) && t.strategy == "mask":
				null = "" // masking detaches the row from its owner
			case c == "name" || c == "note":
				null = ""
			}
			cols = append(cols, c+" "+typ+null)
		}
		cols = append(cols, "PRIMARY KEY ("+strings.Join(t.keyCols(), ", ")+")")
		if t.parent == nil {
			cols = append(cols, "FOREIGN KEY (referrer_id) REFERENCES people (id)")
		} else {
			cols = append(cols, "FOREIGN KEY ("+strings.Join(t.parentCols(), ", ")+") REFERENCES "+t.parent.name+" ("+strings.Join(t.parent.keyCols(), ", ")+")")
		}
		for _, m := range t.mentions {
			cols = append(cols, "FOREIGN KEY ("+m+") REFERENCES people (id)")
		}
		if t.replyTo {
			cols = append(cols, "FOREIGN KEY (reply_to) REFERENCES "+t.name+" (id)")
		}
		fmt.Fprintf(&b, "CREATE TABLE %s (%s);\n", t.name, strings.Join(cols, ", "))
	}
	return b.String()
}

// data writes the rows, owners first.
func (g *genSchema) data() string {
	var b strings.Builder
	for _, t := range g.tables {
		cols := t.columns()
		for _, row := range t.rows {
			vals := make([]string, len(cols))
			for i, c := range cols {
				switch v := row.vals[c].(type) {
				case nil:
					vals[i] = "NULL"
				case int64:
					vals[i] = strconv.FormatInt(v, 10)
				case string:
					vals[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
				}
			}
			fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES (%s);\n", t.name, strings.Join(cols, ", "), strings.Join(vals, ", "))
		}
	}
	return b.String()
}

// policy writes vow.yaml for the schema.
func (g *genSchema) policy() string {
	var b strings.Builder
	b.WriteString(`version: 1
organization:
  name: Generated
  contacts: {privacy: privacy@generated.example}
purposes:
  service: {legal_basis: contract, essential: true}
rights:
  offered: [access, erasure]
  verification: trusted
systems:
  app:
    kind: KIND
    connection: {env: APP_DSN}
    purposes: [service]
    tables:
`)
	for _, t := range g.tables {
		fmt.Fprintf(&b, "      %s:\n", t.name)
		if t.parent == nil {
			b.WriteString("        subject: customer\n")
		}
		fmt.Fprintf(&b, "        primary_key: [%s]\n", strings.Join(t.keyCols(), ", "))
		switch t.strategy {
		case "delete":
			b.WriteString("        erase: delete\n")
		case "hold":
			b.WriteString("        erase: {hold: \"kept by law\", for: 10y}\n")
		}
		b.WriteString("        fields:\n")
		mask := t.strategy == "mask"
		if t.parent == nil {
			emailErase, nameErase := "", ""
			if mask {
				emailErase, nameErase = ", erase: hmac", ", erase: nullify"
			}
			b.WriteString("          id: {category: system.operations, identity: user_id}\n")
			fmt.Fprintf(&b, "          email: {category: user.contact.email, identity: email%s}\n", emailErase)
			fmt.Fprintf(&b, "          name: {category: user.name%s}\n", nameErase)
			b.WriteString("          referrer_id: {category: user.unique_id, references: people.id, relation: mention, erase: nullify}\n")
			continue
		}
		for _, c := range t.keyCols() {
			fmt.Fprintf(&b, "          %s: system.operations\n", c)
		}
		erase := ""
		if mask {
			erase = ", erase: nullify"
		}
		if !t.parent.composite {
			fmt.Fprintf(&b, "          parent_id: {category: user.unique_id, references: %s.id, relation: owner%s}\n", t.parent.name, erase)
		} else {
			for _, c := range t.parentCols() {
				fmt.Fprintf(&b, "          %s: {category: system.operations%s}\n", c, erase)
			}
		}
		fmt.Fprintf(&b, "          note: {category: user.content%s}\n", erase)
		for _, m := range t.mentions {
			fmt.Fprintf(&b, "          %s: {category: user.unique_id, references: people.id, relation: mention, erase: nullify}\n", m)
		}
		if t.replyTo {
			fmt.Fprintf(&b, "          reply_to: {category: system.operations, references: %s.id, relation: mention, erase: nullify}\n", t.name)
		}
		if t.parent.composite {
			fmt.Fprintf(&b, "        foreign_keys:\n          - {columns: [p_grp, p_seq], references: \"%s (grp, seq)\", relation: owner}\n", t.parent.name)
		}
	}
	return b.String()
}

// truth computes, from the generated rows alone, the subject's rows (the
// access truth: keys per table, mentioning values per "table#column")
// and what erasure does to each row.
func (g *genSchema) truth() (map[string][]string, map[string]map[string]effect) {
	own := map[*genTable]map[string]bool{}
	protected := map[*genTable]map[string]bool{} // kept by a hold on them or an owner
	access := map[string][]string{}
	effects := map[string]map[string]effect{}
	subject := keyString([]int64{g.subject})
	for _, t := range g.tables {
		own[t], protected[t] = map[string]bool{}, map[string]bool{}
		for _, row := range t.rows {
			k := keyString(row.key)
			switch {
			case t.parent == nil:
				if k != subject {
					continue
				}
			case !own[t.parent][keyString(row.parent)]:
				continue
			}
			own[t][k] = true
			access[t.name] = append(access[t.name], k)
			if t.strategy == "hold" || (t.parent != nil && protected[t.parent][keyString(row.parent)]) {
				protected[t][k] = true
			}
		}
		if _, ok := access[t.name]; !ok {
			access[t.name] = []string{}
		}
	}
	for _, t := range g.tables {
		effects[t.name] = map[string]effect{}
		mentions := slices.Clone(t.mentions)
		if t.parent == nil {
			mentions = append(mentions, "referrer_id")
		}
		for _, m := range mentions {
			access[t.name+"#"+m] = []string{}
		}
		if t.replyTo {
			access[t.name+"#reply_to"] = []string{}
		}
		for _, row := range t.rows {
			k := keyString(row.key)
			var e effect
			if own[t][k] && !protected[t][k] {
				// The subject's own rows: the table's strategy, or every
				// field's (mentions of others in them too).
				switch {
				case t.strategy == "delete":
					e.del = true
				case t.strategy == "mask" && t.parent == nil:
					e.hmac, e.nullify = []string{"email"}, []string{"name", "referrer_id"}
				case t.strategy == "mask":
					e.nullify = append(t.parentCols(), "note")
					e.nullify = append(e.nullify, t.mentions...)
					if t.replyTo {
						e.nullify = append(e.nullify, "reply_to")
					}
				}
			}
			for _, m := range mentions {
				if v, ok := row.vals[m].(int64); ok && v == g.subject {
					access[t.name+"#"+m] = append(access[t.name+"#"+m], subject)
					e.nullify = append(e.nullify, m)
				}
			}
			if v, ok := row.vals["reply_to"].(int64); ok && t.replyTo && own[t][keyString([]int64{v})] {
				access[t.name+"#reply_to"] = append(access[t.name+"#reply_to"], strconv.FormatInt(v, 10))
				e.nullify = append(e.nullify, "reply_to")
			}
			if e.del {
				e.nullify, e.hmac = nil, nil
			}
			slices.Sort(e.nullify)
			e.nullify = slices.Compact(e.nullify)
			e.keep = protected[t][k] && !e.del && len(e.nullify) == 0
			if e.keep || e.del || len(e.nullify) > 0 || len(e.hmac) > 0 {
				effects[t.name][k] = e
			}
		}
	}
	for id := range access {
		sort.Strings(access[id])
	}
	return access, effects
}

// describe prints the generated schema for a failure report.
func (g *genSchema) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "subject: person %d, identities %v\n", g.subject, g.ids)
	for _, t := range g.tables {
		owner := "(the subject's table)"
		if t.parent != nil {
			owner = "owned by " + t.parent.name
		}
		fmt.Fprintf(&b, "  %s: %s, depth %d, key %v, erase %s, mentions %v, self-reference %v, %d rows\n",
			t.name, owner, t.depth, t.keyCols(), t.strategy, t.mentions, t.replyTo || t.parent == nil, len(t.rows))
	}
	return b.String()
}

// checkProperty runs one seed on one kind of database.
func checkProperty(t *testing.T, kind string, pool pgPool, seed uint64) {
	g := generate(seed, true) // held tables may own rows: they keep them
	defer func() {
		if t.Failed() {
			t.Logf("replay: go test ./dsr -run 'TestPropertyOwnership/%s/' -seed %d\n%s\n--- schema\n%s--- policy\n%s", kind, seed, g.describe(), g.ddl(kind), g.policy())
		}
	}()
	dsn := pool.database(t, kind)
	ddl, data := g.ddl(kind), g.data()
	if kind != "postgres" {
		ddl, data = "BEGIN;\n"+ddl+"COMMIT;\n", "BEGIN;\n"+data+"COMMIT;\n"
	}
	testdb.Exec(t, kind, dsn, ddl)
	testdb.Exec(t, kind, dsn, data)
	e := newCorpusEnv(t, kind, dsn, fmt.Sprintf("generated-%d.yaml", seed), []byte(g.policy()))
	db := openCorpusDB(t, kind, dsn)
	access, effects := g.truth()

	before := db.snapshot(t, nil)
	r, err := e.svc.Create(t.Context(), dsr.NewRequest{Type: dsr.Access, Identities: g.ids, Verification: dsr.VerifyTrusted})
	if err != nil {
		t.Fatalf("Create access: %v", err)
	}
	if r, err = e.svc.Run(t.Context(), r.ID, nil); err != nil || r.Status != dsr.Completed {
		t.Fatalf("access: %v, %v", r, err)
	}
	checkPackage(t, readZip(t, filepath.Join(e.exports, r.Result.Export)), before, access)
	checkRows(t, before, db.snapshot(t, nil), nil)

	r, err = e.svc.Create(t.Context(), dsr.NewRequest{Type: dsr.Erasure, Identities: g.ids, Verification: dsr.VerifyTrusted})
	if err != nil {
		t.Fatalf("Create erasure: %v", err)
	}
	r, err = e.svc.Run(t.Context(), r.ID, nil)
	if r == nil || r.Status != dsr.Completed {
		t.Errorf("erasure: %v (%s)", err, r.LastError)
	}
	checkRows(t, before, db.snapshot(t, nil), effects)
}
