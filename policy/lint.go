package policy

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	// Time zone names are checked against the zones built into the
	// binary, not the machine's: a policy valid on a laptop is valid in
	// a container without tzdata.
	_ "time/tzdata"

	"github.com/vowprivacy/vow/taxonomy"
)

// Vocabularies the policy file accepts.
var (
	Kinds          = []string{"postgres", "mysql", "sqlite", "webhook"}
	Identities     = []string{"email", "user_id", "phone", "username", "customer_id", "external_id"}
	RightsList     = []string{"access", "portability", "erasure", "rectification", "restriction", "objection"}
	Verifications  = []string{"email_code", "trusted"}
	Safeguards     = []string{"adequacy", "scc", "bcr", "dpf", "consent", "derogation"}
	CookieKinds    = []string{"essential", "functional", "analytics", "marketing"}
	ConsentModes   = []string{"opt_in", "opt_out"}
	RetentionThens = []string{"delete", "anonymise"}
)

var categoryKey = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

// linter runs the semantic checks of a decoded policy.
type linter struct {
	p     *Policy
	diags Diagnostics
	// absence enables the checks that report something missing (no
	// retention rule, no erasure strategy, no system holding a category).
	absence bool
	own     *Ownership // resolved once, by owner()
}

// owner returns the policy's ownership, resolved once per lint.
func (l *linter) owner() *Ownership {
	if l.own == nil {
		l.own = l.p.Ownership()
	}
	return l.own
}

// jsonPath is a key path inside a JSON value: keys joined by dots, each
// optionally marked [] for the elements of an array.
var jsonPath = regexp.MustCompile(`^[^.\[\]\s]+(\[\])?(\.[^.\[\]\s]+(\[\])?)*$`)

// forbidden checks the categories the policy promises never to hold.
func (l *linter) forbidden() {
	for i, c := range l.p.Forbidden {
		path := fmt.Sprintf("forbidden[%d]", i)
		l.category(path, c)
		if !strings.HasPrefix(c, "user.") {
			l.warnf(path, "invalid-value", "forbidden: lists personal-data categories (user.…)", "%q is not a personal-data category; a promise not to hold it means little", c)
		}
	}
}

// forbiddenField reports a field declared with a category the policy
// promises never to hold: the data map and the promise contradict.
func (l *linter) forbiddenField(s *System, t *Table, f *Field, fp string) {
	if f.Category != "" && l.p.IsForbidden(f.Category) {
		l.errorf(fp+".category", "forbidden-category", "drop the column (or stop filling it), or remove the category from forbidden:", "%s:%s.%s holds %s, which forbidden: promises is never held", s.Name, t.Name, f.Name, f.Category)
	}
}

func lint(p *Policy, absence bool) Diagnostics {
	l := &linter{p: p, absence: absence}
	if p.Starter {
		l.warnf("starter", "starter-policy", "decide how long to keep each table and what erasure does to it (the warnings below), then delete the line starter: true",
			"this is a starter policy: vow check and vow scan read it, and every command that acts on it refuses it until the decisions are made")
	}
	l.top()
	l.categories()
	l.forbidden()
	l.purposes()
	l.systems()
	l.processors()
	l.retention()
	l.throttle()
	l.rights()
	l.consent()
	l.cookies()
	l.zeroDurations()
	l.statements()
	l.ownership()
	return l.diags
}

func (l *linter) report(sev Severity, path, code, hint, format string, args ...any) {
	l.diags = append(l.diags, Diagnostic{Pos: l.p.PosOf(path), Severity: sev, Code: code, Path: path, Message: fmt.Sprintf(format, args...), Hint: hint})
}

func (l *linter) errorf(path, code, hint, format string, args ...any) {
	l.report(Error, path, code, hint, format, args...)
}

func (l *linter) warnf(path, code, hint, format string, args ...any) {
	l.report(Warning, path, code, hint, format, args...)
}

// decision reports a decision only a human can make (how long to keep
// data, what erasure does to it): an error, but a warning in a starter
// policy, which no command acts on until the decisions are made.
func (l *linter) decision(path, code, hint, format string, args ...any) {
	if l.p.Starter {
		l.warnf(path, code, hint, format, args...)
		return
	}
	l.errorf(path, code, hint, format, args...)
}

// oneOf checks a value against a vocabulary, with a did-you-mean.
func (l *linter) oneOf(path, what, v string, allowed []string) bool {
	if v == "" || slices.Contains(allowed, v) {
		return true
	}
	msg := fmt.Sprintf("unknown %s %q", what, v)
	if s := closest(v, allowed); s != "" {
		msg += fmt.Sprintf(", did you mean %q?", s)
	}
	l.errorf(path, "unknown-value", "valid: "+strings.Join(allowed, ", "), "%s", msg)
	return false
}

// category checks a category reference.
func (l *linter) category(path, key string) {
	if key == "" {
		return
	}
	if _, ok := l.p.Category(key); ok {
		return
	}
	msg := fmt.Sprintf("unknown category %q", key)
	hint := "declare it under categories:, or use a built-in key (vow check --categories lists them)"
	if s := closest(key, l.p.CategoryKeys()); s != "" {
		msg += fmt.Sprintf(", did you mean %q?", s)
	}
	l.errorf(path, "unknown-category", hint, "%s", msg)
}

func (l *linter) purposeRef(path, key string) {
	if key == "" || l.p.Purpose(key) != nil {
		return
	}
	keys := make([]string, len(l.p.Purposes))
	for i, x := range l.p.Purposes {
		keys[i] = x.Name
	}
	msg := fmt.Sprintf("unknown purpose %q", key)
	if s := closest(key, keys); s != "" {
		msg += fmt.Sprintf(", did you mean %q?", s)
	}
	l.errorf(path, "unknown-purpose", "declare it under purposes:", "%s", msg)
}

func (l *linter) email(path, v string) {
	if v == "" {
		return
	}
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
		l.errorf(path, "invalid-value", "write a plain address such as privacy@example.com", "%q is not an email address", v)
	}
}

func (l *linter) top() {
	p := l.p
	if p.Version != 0 && p.Version != 1 {
		l.errorf("version", "unsupported-version", "this Vow reads version 1", "policy file version %d is not supported", p.Version)
	}
	l.email("organization.contacts.privacy", p.Organization.Contacts.Privacy)
	l.email("organization.contacts.security", p.Organization.Contacts.Security)
	if c := p.Organization.Contacts.DPO; c != nil {
		l.email("organization.contacts.dpo.email", c.Email)
	}
	if c := p.Organization.Contacts.Representative; c != nil {
		l.email("organization.contacts.representative.email", c.Email)
	}
	for i, t := range p.Organization.Transfers {
		path := fmt.Sprintf("organization.transfers[%d]", i)
		l.oneOf(path+".safeguard", "safeguard", t.Safeguard, Safeguards)
		for j, c := range t.Categories {
			l.category(fmt.Sprintf("%s.categories[%d]", path, j), c)
		}
	}
	n := p.Notices
	if n.MinimumAge < 0 || n.MinimumAge > 21 {
		l.errorf("notices.minimum_age", "invalid-value", "typical values are 13, 16 or 18", "minimum age %d is out of range", n.MinimumAge)
	}
	if n.ChangeNoticeDays < 0 {
		l.errorf("notices.change_notice_days", "invalid-value", "", "change notice days cannot be negative")
	}
	if n.BreachNoticeHours < 0 {
		l.errorf("notices.breach_notice_hours", "invalid-value", "", "breach notice hours cannot be negative")
	} else if n.BreachNoticeHours > 72 {
		l.warnf("notices.breach_notice_hours", "breach-window", "GDPR art. 33 requires notifying the authority within 72 hours", "breach notice window of %d hours exceeds 72", n.BreachNoticeHours)
	}
}

func (l *linter) categories() {
	for _, c := range l.p.Categories {
		path := "categories." + c.Name
		if !categoryKey.MatchString(c.Name) {
			l.errorf(path, "invalid-value", "use lower-case dotted keys such as user.security.scan_finding", "category key %q is not a dotted key", c.Name)
			continue
		}
		if _, ok := taxonomy.Lookup(c.Name); ok {
			l.warnf(path, "builtin-category", "remove it to use the built-in definition", "category %q is built in already", c.Name)
		}
		if parent := taxonomy.Parent(c.Name); parent != "" {
			if _, ok := l.p.Category(parent); !ok {
				l.errorf(path, "unknown-category", "declare the parent too, or place the key under a built-in one such as user.content", "the parent %q of category %q is not defined", parent, c.Name)
			}
		}
	}
	for _, s := range l.p.Subjects {
		if _, ok := taxonomy.Subjects[s.Name]; ok {
			l.warnf("subjects."+s.Name, "builtin-subject", "remove it to use the built-in definition", "subject %q is built in already", s.Name)
		}
	}
}

func (l *linter) subject(path, key string) {
	if key == "" {
		return
	}
	if _, ok := taxonomy.Subjects[key]; ok {
		return
	}
	keys := make([]string, 0, len(taxonomy.Subjects)+len(l.p.Subjects))
	for k := range taxonomy.Subjects {
		keys = append(keys, k)
	}
	for _, s := range l.p.Subjects {
		if s.Name == key {
			return
		}
		keys = append(keys, s.Name)
	}
	sort.Strings(keys)
	msg := fmt.Sprintf("unknown subject %q", key)
	if s := closest(key, keys); s != "" {
		msg += fmt.Sprintf(", did you mean %q?", s)
	}
	l.errorf(path, "unknown-subject", "declare it under subjects:, or use one of "+strings.Join(keys, ", "), "%s", msg)
}

func (l *linter) purposes() {
	bases := make([]string, 0, len(taxonomy.LegalBases))
	for k := range taxonomy.LegalBases {
		bases = append(bases, k)
	}
	sort.Strings(bases)
	for _, x := range l.p.Purposes {
		path := "purposes." + x.Name
		l.oneOf(path+".legal_basis", "legal basis", x.LegalBasis, bases)
		if x.LegalBasis == "legitimate_interests" && x.Interest == "" {
			l.warnf(path, "missing-interest", "add interest: with the interest pursued; readers are owed it (GDPR art. 13(1)(d))", "purpose %q rests on legitimate interests but does not say which", x.Name)
		}
		if x.LegalBasis == "consent" && x.Essential {
			l.errorf(path+".essential", "contradiction", "consent must be freely given: a purpose that rests on consent cannot be essential", "purpose %q rests on consent but is marked essential", x.Name)
		}
	}
}

func (l *linter) systems() {
	p := l.p
	for _, s := range p.Systems {
		path := "systems." + s.Name
		if s.Kind == "mariadb" {
			s.Kind = "mysql"
		}
		l.oneOf(path+".kind", "system kind", s.Kind, Kinds)
		c := s.Connection
		switch {
		case c.DSN != "":
			l.errorf(path+".connection.dsn", "inline-secret", "put the DSN in an environment variable (env: APP_DATABASE_URL) or a file (file: /run/secrets/app-dsn)", "a DSN must not be written in the policy file")
		case c.Path != "" && s.Kind != "sqlite":
			l.errorf(path+".connection.path", "invalid-value", "use env or file for server databases", "connection path is only for sqlite systems")
		case countSet(c.Env, c.File, c.Path) > 1:
			l.errorf(path+".connection", "invalid-value", "keep one of env, file, path", "connection names more than one source")
		case countSet(c.Env, c.File, c.Path) == 0 && s.Kind != "":
			l.errorf(path+".connection", "missing-key", "add env: VAR_NAME, file: /path/to/secret or (sqlite) path: app.db", "connection names no source")
		}
		if s.TimeZone != "" {
			if s.Kind == "webhook" {
				l.errorf(path+".time_zone", "invalid-value", "remove time_zone: a webhook has no times of its own for Vow to compare", "a webhook system has no time zone")
			} else if _, err := time.LoadLocation(s.TimeZone); err != nil || s.TimeZone == "Local" {
				l.errorf(path+".time_zone", "invalid-value", "write an IANA time zone name, such as UTC, Europe/Berlin or America/New_York", "unknown time zone %q", s.TimeZone)
			}
		}
		for i, r := range s.Replicas {
			rp := fmt.Sprintf("%s.replicas[%d]", path, i)
			switch {
			case r.DSN != "":
				l.errorf(rp+".dsn", "inline-secret", "put the replica's DSN in an environment variable (env: APP_REPLICA_URL) or a file", "a DSN must not be written in the policy file")
			case s.Kind == "postgres":
				l.errorf(rp, "invalid-value", "remove replicas: a PostgreSQL primary reports its standbys' lag itself (pg_stat_replication); grant Vow's role pg_monitor so that it can read it", "PostgreSQL standbys are watched from the primary, not listed")
			case s.Kind != "mysql":
				l.errorf(rp, "invalid-value", "remove replicas: only a mysql (MariaDB) system has replicas to watch", "a %s system has no replicas to watch", s.Kind)
			case r.Path != "":
				l.errorf(rp+".path", "invalid-value", "use env or file", "a replica is a server: path is only for sqlite systems")
			case countSet(r.Env, r.File) != 1:
				l.errorf(rp, "invalid-value", "give each replica one of env: VAR_NAME or file: /path/to/secret", "a replica names %d DSN sources, not one", countSet(r.Env, r.File))
			}
		}
		for i, pu := range s.Purposes {
			l.purposeRef(fmt.Sprintf("%s.purposes[%d]", path, i), pu)
		}
		l.webhook(s, path)
		for _, t := range s.Tables {
			l.table(s, t, path+".tables."+t.Name)
		}
	}
}

// webhook checks a webhook system, and that only webhook systems have a
// webhook block.
func (l *linter) webhook(s *System, path string) {
	w := s.Webhook
	switch {
	case s.Kind != "webhook" && w != nil:
		l.errorf(path+".webhook", "invalid-value", "remove it, or set kind: webhook", "only a webhook system has a webhook block")
		return
	case s.Kind != "webhook":
		return
	case w == nil:
		l.errorf(path, "missing-key", "add webhook: {url: https://…, identities: [email], categories: [user.contact.email]}", "a webhook system needs a webhook block")
		return
	}
	if len(s.Tables) > 0 {
		l.errorf(path+".tables", "invalid-value", "list what it holds under webhook.categories", "a webhook system has no tables")
	}
	if s.Connection.Path != "" {
		l.errorf(path+".connection.path", "invalid-value", "use env or file for the signing secret", "a webhook's connection is its signing secret")
	}
	u, err := url.Parse(w.URL)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		l.errorf(path+".webhook.url", "invalid-value", "write an absolute URL such as https://app.example.com/vow", "webhook url %q is not an http(s) URL", w.URL)
	case u.Scheme != "https" && !w.AllowPrivate:
		l.errorf(path+".webhook.url", "invalid-value", "use https (plain http is allowed only with allow_private, for a service on your own network)", "webhook url %q is not https", w.URL)
	case u.User != nil:
		l.errorf(path+".webhook.url", "inline-secret", "Vow signs each request with the secret named by connection", "a webhook url must not carry credentials")
	}
	for i, id := range w.Identities {
		l.oneOf(fmt.Sprintf("%s.webhook.identities[%d]", path, i), "identity", id, Identities)
	}
	for i, c := range w.Categories {
		cp := fmt.Sprintf("%s.webhook.categories[%d]", path, i)
		l.category(cp, c)
		if l.p.IsForbidden(c) {
			l.errorf(cp, "forbidden-category", "remove it from the service's categories, or from forbidden:", "system %s holds %s, which forbidden: promises is never held", s.Name, c)
		}
	}
}

func countSet(vs ...string) int {
	n := 0
	for _, v := range vs {
		if v != "" {
			n++
		}
	}
	return n
}

func (l *linter) table(s *System, t *Table, path string) {
	p := l.p
	l.subject(path+".subject", t.Subject)
	if t.Erase != nil && t.Erase.Method != Delete && t.Erase.Method != Hold {
		l.errorf(path+".erase", "invalid-value", "per-column strategies go on fields; a table is either deleted or held", "table erasure must be delete or {hold: …}, not %s", t.Erase.Method)
	}
	personal := false
	var unerased []string
	for _, f := range t.Fields {
		fp := path + ".fields." + f.Name
		if f.Category == "" && f.References == "" && f.Identity == "" {
			l.errorf(fp, "missing-key", "write the category, e.g. email: user.contact.email (system.operations for non-personal columns)", "field %q has no category", f.Name)
		}
		l.category(fp+".category", f.Category)
		l.forbiddenField(s, t, f, fp)
		l.oneOf(fp+".stored", "storage form", f.Stored, StoredForms)
		for _, k := range f.JSON {
			kp := fp + ".json." + k.Name
			if !jsonPath.MatchString(k.Name) {
				l.errorf(kp, "invalid-value", "write the keys from the column's top level, dot-separated, with [] for any element of an array: address.city, items[].email", "%q is not a JSON key path", k.Name)
			}
			l.category(kp+".category", k.Category)
			if l.p.IsForbidden(k.Category) {
				l.errorf(kp+".category", "forbidden-category", "remove the key from the JSON, or the category from forbidden:", "%s:%s.%s.%s holds %s, which forbidden: promises is never held", s.Name, t.Name, f.Name, k.Name, k.Category)
			}
		}
		if f.Identity != "" {
			l.oneOf(fp+".identity", "identity", f.Identity, Identities)
			if l.owner().Kind(s.Name, t.Name) == "" {
				l.errorf(fp+".identity", "identity-without-subject", "add subject: customer (or the kind of person the rows are about) to the table",
					"%s:%s.%s is an identity, but the table names no subject: a request could not tell whose rows they are", s.Name, t.Name, f.Name)
			}
		}
		for i, pu := range f.Purposes {
			l.purposeRef(fmt.Sprintf("%s.purposes[%d]", fp, i), pu)
		}
		if f.Erase != nil && f.Erase.Method == Hold && f.Erase.From != "" {
			l.errorf(fp+".erase.from", "invalid-value", "put the hold with from: on the table (erase: {hold: …, for: …, from: …}); a column's hold lasts its whole period", "from: bounds a table's hold by a date column; a field's hold cannot end row by row")
		}
		if f.Erase != nil && f.Erase.Method == Delete {
			l.errorf(fp+".erase", "invalid-value", "put erase: delete on the table to delete whole rows", "a field cannot be deleted on its own")
		}
		if f.References != "" {
			l.reference(s, t, f, fp+".references")
		}
		if f.Label != "" {
			l.label(s, f, fp+".label")
		}
		if f.Relation != "" {
			if f.References == "" {
				l.errorf(fp+".relation", "invalid-value", "add references: table.column, or remove relation", "relation says whose rows a reference makes them, but %s references nothing", f.Name)
			} else {
				l.oneOf(fp+".relation", "relation", f.Relation, RelationRoles)
			}
		}
		if p.Personal(f) {
			personal = true
			if f.Erase == nil {
				unerased = append(unerased, f.Name)
			}
		}
	}
	for i, fk := range t.ForeignKeys {
		l.foreignKey(s, t, fk, fmt.Sprintf("%s.foreign_keys[%d]", path, i))
	}
	if t.Erase != nil && t.Erase.Method == Hold && t.Erase.From != "" && !t.HasColumn(t.Erase.From) {
		l.errorf(path+".erase.from", "broken-reference", fmt.Sprintf("declare %s as a field (category system.operations)", t.Erase.From), "the hold runs from column %q, which %s:%s does not declare", t.Erase.From, s.Name, t.Name)
	}
	if personal && t.Subject == "" && l.owner().Kind(s.Name, t.Name) == "" {
		l.warnf(path, "missing-subject", "add subject: customer (or whom the rows are about)", "table %q holds personal data but names no subject", t.Name)
	}
	if l.absence && p.Offers("erasure") && t.Erase == nil && len(unerased) > 0 {
		l.decision(path, "no-erasure-strategy", "add erase: delete to the table, or erase: nullify|hmac|{set: …}|{hold: …} to each field",
			"erasure is offered but table %s:%s has personal fields with no erasure strategy: %s", s.Name, t.Name, strings.Join(unerased, ", "))
	}
}

func (l *linter) reference(s *System, t *Table, f *Field, path string) {
	r, err := ParseRef(f.References)
	if err != nil {
		l.errorf(path, "invalid-value", "", "%v", err)
		return
	}
	if r.System != "" && l.p.System(r.System) == nil {
		l.errorf(path, "broken-relation", "declare the system, or fix the name", "relation %s points to unknown system %q", f.References, r.System)
		return
	}
	ts, tt := l.p.LookupTable(TableRef{System: r.System, Table: r.Table}, sysIf(r.System == "", s))
	if tt == nil {
		l.errorf(path, "broken-relation", "declare the table under its system, or fix the reference", "relation %s points to table %q, which the policy does not declare", f.References, r.Table)
		return
	}
	if !tt.HasColumn(r.Column) {
		l.errorf(path, "broken-relation", fmt.Sprintf("declare the column as a field or in primary_key of %s:%s", ts.Name, tt.Name), "relation %s points to column %q, which table %s:%s does not declare", f.References, r.Column, ts.Name, tt.Name)
	}
}

// label checks that a label names a column of the referenced table.
func (l *linter) label(s *System, f *Field, path string) {
	r, err := ParseRef(f.References)
	if f.References == "" || err != nil {
		l.errorf(path, "invalid-value", "add references: table.column, or remove label", "label shows a column of the row a reference points to, but %s references nothing", f.Name)
		return
	}
	ts, tt := l.p.LookupTable(TableRef{System: r.System, Table: r.Table}, sysIf(r.System == "", s))
	if tt == nil {
		return // the reference itself is reported
	}
	if ts != s {
		l.errorf(path, "invalid-value", "label a reference within one system", "label %q is in system %s, another system than the reference's", f.Label, ts.Name)
		return
	}
	if !tt.HasColumn(f.Label) {
		l.errorf(path, "broken-relation", fmt.Sprintf("declare %s as a field of %s:%s", f.Label, ts.Name, tt.Name), "label %q is not a declared column of %s:%s", f.Label, ts.Name, tt.Name)
	}
}

// foreignKey checks a relation over several columns.
func (l *linter) foreignKey(s *System, t *Table, fk *ForeignKey, path string) {
	l.oneOf(path+".relation", "relation", fk.Relation, RelationRoles)
	for i, c := range fk.Columns {
		if !t.HasColumn(c) {
			l.errorf(fmt.Sprintf("%s.columns[%d]", path, i), "broken-relation", "declare it as a field of the table", "foreign key column %q is not declared in %s:%s", c, s.Name, t.Name)
		}
	}
	if fk.References == "" {
		return
	}
	ref, cols, err := ParseKeyRef(fk.References)
	if err != nil {
		l.errorf(path+".references", "invalid-value", "write it as in SQL: table (column, …)", "%v", err)
		return
	}
	if len(cols) != len(fk.Columns) {
		l.errorf(path+".references", "broken-relation", "name one referenced column per column, in the same order", "foreign key has %d column(s) but references %d", len(fk.Columns), len(cols))
	}
	if ref.System != "" && l.p.System(ref.System) == nil {
		l.errorf(path+".references", "broken-relation", "declare the system, or fix the name", "relation %s points to unknown system %q", fk.References, ref.System)
		return
	}
	ts, tt := l.p.LookupTable(ref, sysIf(ref.System == "", s))
	if tt == nil {
		l.errorf(path+".references", "broken-relation", "declare the table under its system, or fix the reference", "relation %s points to table %q, which the policy does not declare", fk.References, ref.Table)
		return
	}
	for _, c := range cols {
		if !tt.HasColumn(c) {
			l.errorf(path+".references", "broken-relation", fmt.Sprintf("declare the column as a field or in primary_key of %s:%s", ts.Name, tt.Name), "relation %s points to column %q, which table %s:%s does not declare", fk.References, c, ts.Name, tt.Name)
		}
	}
}

// ownership reports where the policy leaves open whose rows a table holds.
func (l *linter) ownership() {
	for _, pr := range l.owner().Problems {
		l.errorf(pr.Path, "ambiguous-owner", pr.Hint, "%s", pr.Message)
	}
}

// heldCategories returns every category some table declares.
func (l *linter) heldCategories() []string {
	var out []string
	for _, s := range l.p.Systems {
		for _, t := range s.Tables {
			for _, f := range t.Fields {
				if f.Category != "" {
					out = append(out, f.Category)
				}
			}
		}
		if s.Webhook != nil {
			out = append(out, s.Webhook.Categories...)
		}
	}
	return out
}

func (l *linter) processors() {
	held := l.heldCategories()
	names := map[string]int{}
	for i, pr := range l.p.Processors {
		path := fmt.Sprintf("processors[%d]", i)
		if j, dup := names[pr.Name]; dup && pr.Name != "" {
			l.errorf(path+".name", "duplicate-name", "merge the two entries", "processor %q is declared twice (first at line %d)", pr.Name, l.p.PosOf(fmt.Sprintf("processors[%d]", j)).Line)
		}
		names[pr.Name] = i
		for j, pu := range pr.Purposes {
			l.purposeRef(fmt.Sprintf("%s.purposes[%d]", path, j), pu)
		}
		l.oneOf(path+".safeguard", "safeguard", pr.Safeguard, Safeguards)
		l.oneOf(path+".role", "role", pr.Role, []string{"processor", "sub-processor"})
		for j, c := range pr.Categories {
			cp := fmt.Sprintf("%s.categories[%d]", path, j)
			if _, ok := l.p.Category(c); !ok {
				l.category(cp, c)
				continue
			}
			// A forbidden category is never held, yet a processor may take it
			// on the company's behalf (the card goes to the payment provider).
			if l.absence && !l.p.IsForbidden(c) && !slices.ContainsFunc(held, func(h string) bool { return taxonomy.Related(h, c) }) {
				l.errorf(cp, "unheld-category", "declare the field that holds it, or remove it from the processor", "processor %q receives %q, but no system holds that category", pr.Name, c)
			}
		}
	}
}

func (l *linter) retention() {
	p := l.p
	names := map[string]int{}
	covered := map[string]bool{} // system:table covered by a rule or a cascade from one
	for i, r := range p.Retention.Rules {
		path := fmt.Sprintf("retention.rules[%d]", i)
		if j, dup := names[r.Name]; dup && r.Name != "" {
			l.errorf(path+".name", "duplicate-name", "give each rule its own name", "retention rule %q is declared twice (first at line %d)", r.Name, p.PosOf(fmt.Sprintf("retention.rules[%d]", j)).Line)
		}
		names[r.Name] = i
		l.ruleCondition(path, r)
		if r.Then != "" && r.Then != "anonymize" {
			l.oneOf(path+".then", "action", r.Then, RetentionThens)
		}
		if r.Table == "" {
			continue
		}
		s, t := p.LookupTable(ParseTableRef(r.Table), nil)
		if t == nil {
			l.errorf(path+".table", "broken-reference", "write system:table for a table declared under systems", "retention rule %q names table %q, which the policy does not declare (or more than one system has it)", r.Name, r.Table)
			continue
		}
		covered[s.Name+":"+t.Name] = true
		if r.From != "" && !t.HasColumn(r.From) {
			l.errorf(path+".from", "no-timestamp", fmt.Sprintf("declare %q as a field of %s:%s (category system.operations)", r.From, s.Name, t.Name), "retention rule %q measures from column %q, which table %s:%s does not declare", r.Name, r.From, s.Name, t.Name)
		}
		if r.Then == "anonymise" || r.Then == "anonymize" {
			hasStrategy := slices.ContainsFunc(t.Fields, func(f *Field) bool { return f.Erase != nil && f.Erase.Method != Hold })
			if !hasStrategy {
				l.errorf(path+".then", "no-erasure-strategy", "give the personal fields erase: nullify, hmac or {set: …}", "rule %q anonymises %s:%s but no field says how", r.Name, s.Name, t.Name)
			}
		}
	}
	// Deleting a parent row cascades to the rows that reference it, so a
	// rule on a parent covers its children.
	if !l.absence {
		return
	}
	rels := l.owner().Relations
	for changed := true; changed; {
		changed = false
		for _, rel := range rels {
			// A rule on an owner covers what it owns: rows owned through
			// the relation go with it; mentions do not.
			owner, owned := rel.ToSystem+":"+rel.ToTable, rel.FromSystem+":"+rel.FromTable
			switch rel.Role {
			case RoleOwner:
			case RoleOwns:
				owner, owned = owned, owner
			default:
				continue
			}
			if covered[owner] && !covered[owned] {
				covered[owned], changed = true, true
			}
		}
	}
	own := l.owner()
	for _, s := range p.Systems {
		for _, t := range s.Tables {
			if covered[s.Name+":"+t.Name] || (t.Erase != nil && t.Erase.Method == Hold) || own.Problem(s.Name, t.Name) != nil {
				continue // an ambiguous owner is reported once, on its own
			}
			var cats []string
			for _, f := range t.Fields {
				if p.Personal(f) && !slices.Contains(cats, f.Category) {
					cats = append(cats, f.Category)
				}
			}
			if len(cats) > 0 {
				l.decision("systems."+s.Name+".tables."+t.Name, "no-retention", "add a retention rule for this table, or for a table it references",
					"personal data (%s) in %s:%s is kept with no retention rule", strings.Join(cats, ", "), s.Name, t.Name)
			}
		}
	}
}

func (l *linter) rights() {
	r := l.p.Rights
	for i, x := range r.Offered {
		l.oneOf(fmt.Sprintf("rights.offered[%d]", i), "right", x, RightsList)
	}
	if r.DeadlineDays < 0 {
		l.errorf("rights.deadline_days", "invalid-value", "", "deadline cannot be negative")
	} else if r.DeadlineDays > 90 {
		l.warnf("rights.deadline_days", "long-deadline", "GDPR allows one month, extendable by two for complex requests", "a deadline of %d days exceeds what GDPR allows", r.DeadlineDays)
	}
	l.oneOf("rights.verification", "verification method", r.Verification, Verifications)
	l.rightActions("restriction", r.Restriction)
	l.rightActions("objection", r.Objection)
	if g := r.ErasureGrace; g != nil {
		if !l.p.Offers("erasure") {
			l.warnf("rights.erasure_grace", "unused", "offer erasure, or remove the grace period", "an erasure grace period is set but erasure is not offered")
		}
		if g.Period.Approx() > 30*24*time.Hour {
			l.warnf("rights.erasure_grace.period", "long-grace", "keep it well inside the response deadline", "a grace period of %s leaves little of the response deadline", g.Period)
		}
		l.actionColumns("rights.erasure_grace.mark", g.Mark)
	}
}

// rightActions checks the columns that record a right, and warns when the
// right is offered with nothing to record it.
func (l *linter) rightActions(right string, actions []*RightAction) {
	path := "rights." + right
	if l.absence && l.p.Offers(right) && len(actions) == 0 {
		example := `[{set: "app:users.processing_restricted", value: "true"}]`
		if right == "objection" {
			example = `[{set: "app:email_preferences.marketing", value: "false"}]`
		}
		l.warnf("rights.offered", "unrecorded-right", fmt.Sprintf("add %s: %s", path, example),
			"%s is offered but nothing records it: Vow refuses %s requests until %s names a column", right, right, path)
	}
	l.actionColumns(path, actions)
}

// actionColumns checks that each action names a declared column.
func (l *linter) actionColumns(path string, actions []*RightAction) {
	for i, a := range actions {
		ap := fmt.Sprintf("%s[%d].set", path, i)
		r, err := ParseRef(a.Set)
		if err != nil {
			l.errorf(ap, "invalid-value", "", "%v", err)
			continue
		}
		sys, t := l.p.LookupTable(TableRef{System: r.System, Table: r.Table}, nil)
		switch {
		case t == nil:
			l.errorf(ap, "broken-reference", "declare the table, or name its system (system:table.column)", "%s names table %q, which the policy does not declare (or several systems have it)", path, r.Table)
		case t.Field(r.Column) == nil:
			l.errorf(ap, "broken-reference", fmt.Sprintf("declare %s as a field of %s:%s", r.Column, sys.Name, t.Name), "%s names column %q, which %s:%s does not declare", path, r.Column, sys.Name, t.Name)
		}
	}
}

func (l *linter) consent() {
	for _, c := range l.p.Consent.Purposes {
		path := "consent.purposes." + c.Name
		l.oneOf(path+".mode", "consent mode", c.Mode, ConsentModes)
		l.oneOf(path+".default", "default", c.Default, []string{"granted", "denied"})
		pu := l.p.Purpose(c.Name)
		if pu == nil {
			l.purposeRef(path, c.Name)
			continue
		}
		if pu.Essential {
			l.errorf(path, "contradiction", "essential purposes are not optional; remove the consent entry or the essential flag", "purpose %q is essential, so consent cannot be asked for it", c.Name)
		}
		if c.Mode == "opt_in" && c.Default == "granted" {
			l.errorf(path+".default", "contradiction", "opt-in consent starts denied", "consent for %q is opt-in but defaults to granted", c.Name)
		}
	}
	for _, t := range l.p.Communications.Topics {
		l.purposeRef("communications.topics."+t.Name+".purpose", t.Purpose)
	}
}

func (l *linter) consentPurpose(key string) bool {
	return slices.ContainsFunc(l.p.Consent.Purposes, func(c *ConsentPurpose) bool { return c.Name == key })
}

func (l *linter) cookies() {
	names := map[string]int{}
	for i, c := range l.p.Cookies {
		path := fmt.Sprintf("cookies[%d]", i)
		if j, dup := names[c.Name]; dup && c.Name != "" {
			l.errorf(path+".name", "duplicate-name", "merge the two entries", "cookie %q is declared twice (first at line %d)", c.Name, l.p.PosOf(fmt.Sprintf("cookies[%d]", j)).Line)
		}
		names[c.Name] = i
		l.oneOf(path+".category", "cookie category", c.Category, CookieKinds)
		l.purposeRef(path+".purpose", c.Purpose)
		if c.Category != "" && c.Category != "essential" {
			if c.Purpose == "" {
				l.errorf(path+".purpose", "missing-key", "name the consent purpose that covers it", "non-essential cookie %q needs a purpose", c.Name)
			} else if l.p.Purpose(c.Purpose) != nil && !l.consentPurpose(c.Purpose) {
				l.errorf(path+".purpose", "cookie-without-consent", "declare the purpose under consent.purposes, or mark the cookie essential", "non-essential cookie %q is set for %q, which asks no consent", c.Name, c.Purpose)
			}
		}
	}
}
