package scaffold

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vowprivacy/vow/classify"
	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/detect"
	"github.com/vowprivacy/vow/identity"
	"github.com/vowprivacy/vow/scan"
	"github.com/vowprivacy/vow/taxonomy"
)

// The model decides, before anything is rendered, what the starter policy
// says about each table: whether it is declared, whose rows it holds (its
// subject kind and the relation that owns its rows), which of its columns
// identify the subject, and what erasure does to the columns that only
// mention someone. Every decision errs on the side of reaching fewer rows:
// a guess that is wrong here makes a request take other people's data.

// Subject kinds the starter policy uses (built into the taxonomy).
const (
	subjectCustomer = "customer"
	subjectEmployee = "employee"
)

// Relation roles (as in package policy).
const (
	roleOwner   = "owner"
	roleMention = "mention"
)

// Classes of evidence that a reference owns the rows, weakest first.
const (
	classActor  = iota // created_by, actor_id, …: someone who acted on the row
	classParent        // org_id, project_id, …: the entity the row is part of
	classPerson        // customer_id, user_id: the person the row is about
)

type model struct {
	kind   string
	tables []*table
}

type table struct {
	lt      *connector.Table
	guesses map[string]guessed

	declared bool
	// person is a table of people that are their own rows: the subject's
	// identities live here, and no relation owns its rows.
	person bool
	// employee is a table of the company's staff; why says how Vow knows.
	employee    bool
	employeeWhy string
	log         bool

	subject     string
	subjectNote string
	subjectDone bool
	subjectBusy bool

	key      []string // the primary key, or the unique key used as one
	keyIndex string   // the unique index the key comes from, if not the primary key

	rels     []*relation // the foreign keys of the table, declared or not
	owner    *relation
	explicit bool // write relation: on every declared relation

	identity   map[string]string            // column → identity kind
	jsonKeys   map[string]map[string]string // JSON column → key path → category
	masked     map[string]bool              // columns erasure nullifies
	lineNotes  map[string][]string          // column → review notes after the field
	headNotes  map[string][]string          // column → review notes above the field
	tableNotes []string                     // review notes above the table
}

type relation struct {
	fk      connector.ForeignKey
	to      *table // nil when the relation is not declared
	why     string // why a foreign key to a declared table is not declared
	self    bool
	notNull bool
	class   int
	role    string
	notes   []string // review notes above a foreign_keys entry
}

func (r *relation) single() bool { return len(r.fk.Columns) == 1 }

// columns names the referencing columns.
func (r *relation) columns() string { return strings.Join(r.fk.Columns, ", ") }

// target names the referenced key for messages: "staff.staff_id".
func (r *relation) target() string {
	return r.fk.RefTable + "." + strings.Join(r.fk.RefColumns, ", ")
}

func newModel(s *connector.Schema, content func(table, column string) scan.Column) *model {
	m := &model{kind: s.Kind}
	for i := range s.Tables {
		lt := &s.Tables[i]
		t := &table{lt: lt, guesses: map[string]guessed{}, identity: map[string]string{}, masked: map[string]bool{}, jsonKeys: map[string]map[string]string{},
			lineNotes: map[string][]string{}, headNotes: map[string][]string{}}
		t.log = classify.LogTable(lt.Name)
		if classify.EmployeeTable(lt.Name) {
			t.employee, t.employeeWhy = true, "the table name"
		}
		m.tables = append(m.tables, t)
	}
	// A table referenced as a support or sales rep holds staff, whatever
	// it is called.
	for _, t := range m.tables {
		for _, fk := range t.lt.ForeignKeys {
			if len(fk.Columns) == 1 && classify.EmployeeReference(fk.Columns[0]) {
				if to := m.table(fk.RefTable); to != nil && !to.employee {
					to.employee, to.employeeWhy = true, t.lt.Name+"."+fk.Columns[0]+" references it"
				}
			}
		}
	}
	for _, t := range m.tables {
		t.person = (classify.PersonTable(t.lt.Name) || t.employee) && !t.log
		for _, c := range t.lt.Columns {
			g := guess(s, t.lt, c, t.person)
			if content != nil && g.via == "" && !isKey(t.lt, c.Name) {
				col := content(t.lt.Name, c.Name)
				g.Guess = classify.Refine(g.Guess, c.Base(), col.Values, col.Opaque, col.Findings)
				g.seen = seen(col.Findings)
				if keys := classify.Keys(col.Findings); len(keys) > 0 {
					t.jsonKeys[c.Name] = keys
				}
			}
			t.guesses[c.Name] = g
		}
	}
	m.companyContent(s)
	for _, t := range m.tables {
		for _, c := range t.lt.Columns {
			if strings.HasPrefix(t.guesses[c.Name].Category, "user.") || len(t.jsonKeys[c.Name]) > 0 {
				t.declared = true
			}
		}
	}
	for _, t := range m.tables {
		m.keys(t)
		m.relations(t)
	}
	// A table of people that references another table of people of the
	// same kind one to one (profiles.user_id, unique → users) extends it:
	// its rows are that person's, not a person of their own. A reference
	// many rows share (users.account_id → accounts) only names someone.
	for _, t := range m.tables {
		if !t.person {
			continue
		}
		for _, r := range t.rels {
			if r.to != nil && !r.self && r.to.person && r.to.employee == t.employee && unique(t.lt, r.fk.Columns) {
				t.person = false
				break
			}
		}
	}
	for _, t := range m.tables {
		if t.declared {
			m.chooseOwner(t)
		}
	}
	for _, t := range m.tables {
		if t.declared {
			m.subjectOf(t)
		}
	}
	for _, t := range m.tables {
		if t.declared {
			m.roles(t)
		}
	}
	m.identities()
	return m
}

// table returns the table named name: exactly, else case-insensitively.
func (m *model) table(name string) *table {
	for _, t := range m.tables {
		if t.lt.Name == name {
			return t
		}
	}
	for _, t := range m.tables {
		if strings.EqualFold(t.lt.Name, name) {
			return t
		}
	}
	return nil
}

// guessed is a column's guessed category, and the table a reference to
// which it was guessed from.
type guessed struct {
	classify.Guess
	via  string
	seen string // what the values looked like, for the review comment
}

// isKey reports whether column is (part of) the table's primary key: its
// values are keys, whatever a detector makes of them.
func isKey(t *connector.Table, column string) bool {
	return slices.Contains(t.PrimaryKey, column)
}

// seen describes the strongest findings of a column for a review
// comment, masked: "92% email addresses, e.g. j•••@•••.com".
func seen(fs []detect.Finding) string {
	for _, f := range fs {
		if f.Path == "" {
			return fmt.Sprintf("%.0f%% %s, e.g. %s", f.HitRate*100, f.Category, f.Example)
		}
	}
	return ""
}

// companyContent settles the free text and amounts of tables that hold
// no one's data: a campaign's body, a template, a product's description
// and price are the company's, not a person's. A table holds someone's
// data when it is a table of people, has a column of structured personal
// data (an email, a name, an address; not free text or an amount), or
// references such a table, directly or through others. Other tables'
// free-text and payment guesses become operational, unless their values
// showed personal data.
func (m *model) companyContent(s *connector.Schema) {
	someones := map[*table]bool{}
	for _, t := range m.tables {
		if t.person {
			someones[t] = true
			continue
		}
		for name, g := range t.guesses {
			if strings.HasPrefix(g.Category, "user.") && !companyKind(g.Category) || len(t.jsonKeys[name]) > 0 {
				someones[t] = true
				break
			}
		}
	}
	// References lead to someone's table: follow them until nothing
	// changes (a line of an invoice of an organization with an email).
	for changed := true; changed; {
		changed = false
		for _, t := range m.tables {
			if someones[t] {
				continue
			}
			for _, fk := range t.lt.ForeignKeys {
				if to := m.table(fk.RefTable); to != nil && to != t && someones[to] {
					someones[t], changed = true, true
					break
				}
			}
		}
	}
	for _, t := range m.tables {
		if someones[t] {
			continue
		}
		for name, g := range t.guesses {
			if companyKind(g.Category) && g.Evidence != classify.FromContent && g.Evidence != classify.FromBoth {
				g.Category, g.Confident = "system.operations", true
				t.guesses[name] = g
			}
		}
	}
}

// companyKind reports whether a category guessed from a name may as well
// be the company's own: free text and amounts.
func companyKind(category string) bool {
	return taxonomy.Within(category, "user.content") || category == "user.payment"
}

// guess returns a column's guessed category: from the foreign key it is
// part of when it has one (a reference to a person, directly or through
// the referenced column, is their identifier; to anything else, an
// operational key), else from its name and type. The single primary key
// of a table of people is their identifier.
func guess(s *connector.Schema, t *connector.Table, c connector.Column, person bool) guessed {
	var self *connector.ForeignKey
	for i, fk := range t.ForeignKeys {
		j := slices.Index(fk.Columns, c.Name)
		if j < 0 {
			continue
		}
		if strings.EqualFold(fk.RefTable, t.Name) {
			self = &t.ForeignKeys[i]
			continue
		}
		g := classify.ForeignKey(fk.RefTable)
		if g.Category != "user.unique_id" && refersToPerson(s, fk.RefTable, fk.RefColumns[j], 3) {
			g = classify.ForeignKey("users")
		}
		return guessed{Guess: g, via: fk.RefTable}
	}
	if person && len(t.PrimaryKey) == 1 && t.PrimaryKey[0] == c.Name {
		return guessed{Guess: classify.Guess{Category: "user.unique_id", Identity: identity.UserID, Confident: true}}
	}
	if self != nil {
		return guessed{Guess: classify.ForeignKey(self.RefTable), via: self.RefTable}
	}
	return guessed{Guess: classify.Column(c.Name, c.Base(), person)}
}

// refersToPerson reports whether column col of table name is, through
// foreign keys, a reference to a table of people (memberships.user_id →
// users.id), up to depth steps away.
func refersToPerson(s *connector.Schema, name, col string, depth int) bool {
	t := s.Table(name)
	if t == nil || depth == 0 {
		return false
	}
	for _, fk := range t.ForeignKeys {
		j := slices.IndexFunc(fk.Columns, func(c string) bool { return strings.EqualFold(c, col) })
		if j < 0 || strings.EqualFold(fk.RefTable, t.Name) {
			continue
		}
		if classify.PersonTable(fk.RefTable) || refersToPerson(s, fk.RefTable, fk.RefColumns[j], depth-1) {
			return true
		}
	}
	return false
}

// keys decides the key Vow names a table's rows by: its primary key, else
// a unique index over NOT NULL columns that covers every row.
func (m *model) keys(t *table) {
	if len(t.lt.PrimaryKey) > 0 {
		t.key = t.lt.PrimaryKey
		return
	}
	for _, ix := range t.lt.Indexes {
		if !ix.Unique || ix.Partial || len(ix.Columns) == 0 {
			continue
		}
		ok := true
		var cols []string
		for _, name := range ix.Columns {
			c := t.lt.Column(name)
			if c == nil || c.Nullable { // an expression, or a column that may be NULL
				ok = false
				break
			}
			cols = append(cols, c.Name)
		}
		if ok {
			t.key, t.keyIndex = cols, ix.Name
			return
		}
	}
	if t.declared {
		t.tableNotes = append(t.tableNotes, fmt.Sprintf("review: %s has no primary key and no unique index over NOT NULL columns: Vow refuses to erase its rows until you declare one (primary_key: [a unique NOT NULL column]), so this starter gives none of its columns an erasure strategy", t.lt.Name))
	}
}

// unique reports whether cols are unique in t: its primary key or a
// unique, non-partial index lies within them.
func unique(t *connector.Table, cols []string) bool {
	within := func(key []string) bool {
		return len(key) > 0 && !slices.ContainsFunc(key, func(k string) bool {
			return !slices.ContainsFunc(cols, func(c string) bool { return strings.EqualFold(c, k) })
		})
	}
	if within(t.PrimaryKey) {
		return true
	}
	return slices.ContainsFunc(t.Indexes, func(ix connector.Index) bool { return ix.Unique && !ix.Partial && within(ix.Columns) })
}

// relations reads the foreign keys of t: each is declared when both
// tables are and the referenced columns are unique (matching on a column
// that is not reaches every row with the same value).
func (m *model) relations(t *table) {
	for _, fk := range t.lt.ForeignKeys {
		r := &relation{fk: fk, notNull: true}
		for _, col := range fk.Columns {
			if c := t.lt.Column(col); c == nil || c.Nullable {
				r.notNull = false
			}
		}
		to := m.table(fk.RefTable)
		r.self = to == t
		switch {
		case to == nil || !to.declared || !t.declared:
		case len(fk.Columns) == 1 && slices.ContainsFunc(t.rels, func(o *relation) bool { return o.to != nil && slices.Equal(o.fk.Columns, fk.Columns) }):
			r.why = fmt.Sprintf("also references %s, which the policy cannot say as well: a field has one references:", r.target())
		case !unique(to.lt, fk.RefColumns):
			r.why = fmt.Sprintf("references %s, which is not unique in the database, so the relation is not declared: matching on it would reach every row with the same value", r.target())
		default:
			r.to = to
		}
		r.class = classParent
		switch {
		case r.single() && classify.Actor(fk.Columns[0], m.otherParent(t, r)):
			r.class = classActor
		case to != nil && to.person:
			r.class = classPerson
		}
		t.rels = append(t.rels, r)
	}
}

// otherParent reports whether t references some table other than through
// r, itself and people: author_id and owner_id then name an actor.
func (m *model) otherParent(t *table, r *relation) bool {
	for _, fk := range t.lt.ForeignKeys {
		if slices.Equal(fk.Columns, r.fk.Columns) && fk.RefTable == r.fk.RefTable {
			continue
		}
		to := m.table(fk.RefTable)
		if to == t || (to != nil && to.person) {
			continue
		}
		if len(fk.Columns) == 1 && classify.Actor(fk.Columns[0], false) {
			continue
		}
		return true
	}
	return false
}

// chooseOwner picks the relation whose row owns t's rows, by evidence: a
// NOT NULL reference over a nullable one; the person the row is about
// over the entity it is part of, over someone who acted on it; a
// customer over a member of staff; then the first. A table of people has
// no owner, and neither does one whose best evidence is an actor when it
// also has a parent (whose row owns it, though Vow cannot say).
func (m *model) chooseOwner(t *table) {
	if t.person {
		return
	}
	var cands []*relation
	for _, r := range t.rels {
		if r.to != nil && !r.self && !classify.AddressTable(r.to.lt.Name) {
			cands = append(cands, r)
		}
	}
	if len(cands) == 0 {
		return
	}
	rank := func(r *relation) [3]int {
		kind := 1
		if r.to.employee {
			kind = 0
		}
		return [3]int{b2i(r.notNull), r.class, kind}
	}
	best := cands[0]
	for _, r := range cands[1:] {
		if less(rank(best), rank(r)) {
			best = r
		}
	}
	if best.class == classActor && slices.ContainsFunc(t.rels, func(r *relation) bool { return r != best && !r.self && r.class != classActor }) {
		t.tableNotes = append(t.tableNotes, fmt.Sprintf("review: whose rows are these? %s names someone who acted on a row, not whose it is, so no relation here owns these rows and Vow finds them only as mentions. Write relation: owner on the reference to the row they belong to, if that is someone's",
			strings.Join(colsOf(cands, classActor), ", ")))
		return
	}
	t.owner = best
	ties := []string{best.columns() + " (→ " + best.fk.RefTable + ")"}
	for _, r := range cands {
		if r != best && rank(r) == rank(best) {
			ties = append(ties, r.columns()+" (→ "+r.fk.RefTable+")")
		}
	}
	if len(ties) > 1 {
		t.tableNotes = append(t.tableNotes, fmt.Sprintf("review: whose rows are these? %s could each name whose they are; Vow takes the first for the owner and the others for mentions. Move relation: owner to the reference whose row they belong to",
			strings.Join(ties, " and ")))
	}
}

func colsOf(rs []*relation, class int) []string {
	var out []string
	for _, r := range rs {
		if r.class == class {
			out = append(out, r.columns())
		}
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func less(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// subjectOf decides whose data t's rows are: staff are employees, other
// people customers; a table owned through a relation is of its owner's
// kind; a log without an owner is no one's until a human says.
func (m *model) subjectOf(t *table) string {
	if t.subjectDone || t.subjectBusy {
		return t.subject
	}
	t.subjectBusy = true
	defer func() { t.subjectBusy, t.subjectDone = false, true }()
	switch {
	case t.person && t.employee:
		t.subject, t.subjectNote = subjectEmployee, "review: your staff ("+t.employeeWhy+")"
	case t.person:
		t.subject, t.subjectNote = classify.SubjectKind(t.lt.Name), "review: whose data a row is"
	case t.owner != nil:
		t.subject = m.subjectOf(t.owner.to)
		t.subjectNote = "review: inherited from " + t.owner.to.lt.Name + ", whose rows own these"
		if t.subject == "" && !t.log {
			t.subject, t.subjectNote = subjectCustomer, "review: whose data a row is"
		}
	case t.log:
		t.tableNotes = append(t.tableNotes, fmt.Sprintf("review: whose events are these? No relation of %s says, so it names no subject and Vow finds no one's rows here: the names in a log are not its rows' owner. Add subject: and relation: owner on the reference to the person or account the rows belong to", t.lt.Name))
	default:
		t.subject, t.subjectNote = subjectCustomer, "review: whose data a row is"
	}
	return t.subject
}

// roles sets the role of each declared relation of t, decides whether to
// write the roles (whenever Vow's inference would differ, or a table has
// several relations), and gives the mentions their erasure strategy.
func (m *model) roles(t *table) {
	var declared []*relation
	for _, r := range t.rels {
		if r.to == nil {
			continue
		}
		declared = append(declared, r)
		r.role = roleMention
		if r == t.owner {
			r.role = roleOwner
		}
	}
	// What Vow infers when no role is written (policy.Ownership).
	inferred := map[*relation]string{}
	var cands []*relation
	for _, r := range declared {
		if r.self || (t.subject != "" && r.to.subject != "" && r.to.subject != t.subject) {
			inferred[r] = roleMention
			continue
		}
		cands = append(cands, r)
	}
	if len(cands) == 1 {
		inferred[cands[0]] = roleOwner
	}
	t.explicit = len(declared) > 1
	for _, r := range declared {
		if inferred[r] != r.role {
			t.explicit = true
		}
	}
	for _, r := range declared {
		if r.role == roleMention {
			m.mention(t, r)
		}
	}
}

// mention gives a mention its erasure strategy: a column that may be NULL
// is cleared (even where the database's ON DELETE SET NULL would do it, so
// that the policy says so); one that may not is left to a human, with what
// the database does when the row it names is deleted.
func (m *model) mention(t *table, r *relation) {
	note := func(s string) {
		if r.single() {
			t.headNotes[r.fk.Columns[0]] = append(t.headNotes[r.fk.Columns[0]], s)
		} else {
			r.notes = append(r.notes, s)
		}
	}
	owns := ""
	if classify.AddressTable(r.to.lt.Name) && !r.self {
		owns = " If each address is this row's own, write relation: owns (a request then takes it with the row); never if rows share one."
	}
	if len(t.key) == 0 { // erasure is refused on a table without a key: see the table's note
		if owns != "" {
			note("review:" + owns)
		}
		return
	}
	if !r.notNull {
		var blocked []string
		for _, col := range r.fk.Columns {
			if slices.Contains(t.key, col) {
				blocked = append(blocked, col+" is part of the key")
			}
			for _, ck := range t.lt.Checks {
				if slices.ContainsFunc(ck.Columns, func(c string) bool { return strings.EqualFold(c, col) }) && nullSensitive(ck.Expr) {
					blocked = append(blocked, fmt.Sprintf("CHECK (%s) may refuse a NULL %s", ck.Expr, col))
				}
			}
		}
		if len(blocked) == 0 {
			for _, col := range r.fk.Columns {
				t.masked[col] = true
			}
			if owns != "" {
				note("review:" + owns)
			}
			return
		}
		note(fmt.Sprintf("review: a mention of %s that erasure cannot clear (%s): write erase: {set: …} with a value the table accepts.%s", r.fk.RefTable, strings.Join(blocked, "; "), owns))
		return
	}
	fix := "Write erase: {set: …}, or relation: owner if these rows are theirs."
	if t.person { // people's own rows belong to no one else
		fix = "Write erase: {set: …} if erasing that row must not be refused."
	}
	note(fmt.Sprintf("review: a mention of %s, NOT NULL, so no erasure strategy: %s. %s%s",
		r.fk.RefTable, onDelete(r.fk.RefTable, r.fk.OnDelete), fix, owns))
}

// nullSensitive reports whether a CHECK expression can refuse a NULL: a
// condition over NULL is unknown, which a CHECK lets pass, unless it tests
// for NULL itself or replaces it.
func nullSensitive(expr string) bool {
	e := strings.ToLower(expr)
	for _, w := range []string{"null", "coalesce", "ifnull", "nvl", "nonnulls"} {
		if strings.Contains(e, w) {
			return true
		}
	}
	return false
}

// onDelete says what the database does to a referencing row when the row
// of table it references is deleted.
func onDelete(table, action string) string {
	switch action {
	case connector.ActionCascade:
		return "deleting the " + table + " row deletes this one (ON DELETE CASCADE)"
	case connector.ActionSetNull:
		return "deleting the " + table + " row fails, as the column cannot be NULL (ON DELETE SET NULL)"
	case connector.ActionSetDefault:
		return "deleting the " + table + " row sets the column to its default (ON DELETE SET DEFAULT)"
	case "":
		action = connector.ActionNoAction
	}
	return "the database refuses to delete the " + table + " row while this one names it (ON DELETE " + action + ")"
}

// identities marks the columns that identify a subject: only in a table
// of people that are their own rows, never a column that references
// another table (it names someone else), and at most one of each kind per
// table. Emails and phone numbers name the same person in every table;
// ids and usernames count in one table's own namespace, so user_id is
// declared on the primary key of one table only, and usernames and
// external ids only for that table's subject kind: customer 7 is not
// employee 7, and a customer's request must not take employee 7's row.
func (m *model) identities() {
	var primary *table // the table whose key is the user_id
	for _, t := range m.tables {
		if !t.declared || !t.person || t.subject == "" {
			continue
		}
		if primary == nil || (primary.subject != subjectCustomer && t.subject == subjectCustomer) ||
			(primary.subject == t.subject && personRank(t.lt.Name) < personRank(primary.lt.Name)) {
			primary = t
		}
	}
	// The primary table's subject first, so that the other kinds know
	// which namespaces its requests use.
	var order []*table
	for _, t := range m.tables {
		if t.declared && t.person && t.subject != "" {
			order = append(order, t)
		}
	}
	slices.SortStableFunc(order, func(a, b *table) int { return b2i(b.subject == primary.subject) - b2i(a.subject == primary.subject) })
	used := map[string]bool{} // identity kinds of the primary table's subject
	for _, t := range order {
		inFK := map[string]bool{}
		for _, fk := range t.lt.ForeignKeys {
			for _, c := range fk.Columns {
				inFK[c] = true
			}
		}
		local := t.subject == primary.subject // ids here share the namespace of requests for this kind
		switch {
		case primary == t && len(t.lt.PrimaryKey) == 1 && !inFK[t.lt.PrimaryKey[0]]:
			t.identity[t.lt.PrimaryKey[0]] = identity.UserID
		case primary == t:
			for _, c := range t.lt.Columns {
				if t.guesses[c.Name].Identity == identity.UserID && !inFK[c.Name] && !c.Nullable && unique(t.lt, []string{c.Name}) {
					t.identity[c.Name] = identity.UserID
					break
				}
			}
		case !local && len(t.lt.PrimaryKey) == 1:
			k := t.lt.PrimaryKey[0]
			t.lineNotes[k] = append(t.lineNotes[k], fmt.Sprintf("not an identity: %s requests use user_id, and the same number here is someone else", primary.subject))
		}
		for _, kind := range []string{identity.Email, identity.Phone, identity.Username, identity.ExternalID} {
			var pick string
			for _, c := range t.lt.Columns {
				if t.guesses[c.Name].Identity != kind || inFK[c.Name] || t.identity[c.Name] != "" {
					continue
				}
				if pick == "" || (kind == identity.Email && strings.EqualFold(c.Name, "email") && !strings.EqualFold(pick, "email")) {
					pick = c.Name
				}
			}
			if pick == "" {
				continue
			}
			if !local && used[kind] && (kind == identity.Username || kind == identity.ExternalID) {
				t.lineNotes[pick] = append(t.lineNotes[pick], fmt.Sprintf("not an identity: %s requests use %s, and the same value here may be someone else", primary.subject, kind))
				continue
			}
			t.identity[pick] = kind
			if local {
				used[kind] = true
			}
			if kind == identity.Email && (m.kind == "postgres" || m.kind == "sqlite") {
				if term := identity.IndexTerm(m.kind, kind, pick); !t.lt.IndexStartsWith(term) {
					t.lineNotes[pick] = append(t.lineNotes[pick], "requests match it as "+term+", which no index serves: add one")
				}
			}
		}
	}
}

// personRank orders tables of people: the one whose key is the user_id of
// its subject kind comes first.
func personRank(name string) int {
	order := []string{"users", "user", "customers", "customer", "accounts", "account", "members", "member", "employees", "employee", "staff"}
	if i := slices.Index(order, classify.Snake(baseName(name))); i >= 0 {
		return i
	}
	return len(order)
}

func baseName(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return name
}
