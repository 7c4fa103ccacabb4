package render

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/taxonomy"
)

// Document is what a policy says to its readers, resolved from the model
// and sorted, with no wording of its own: the templates turn it into
// sentences. Every number in it is the number Vow enforces.
type Document struct {
	Org        policy.Organization
	Effective  time.Time // zero when the policy names no date
	VersionID  string    // set when rendering a published version
	Collected  []Source  // categories collected, grouped by source
	Uses       []Use
	Topics     []Topic
	Processors []Processor
	Retention  []Retention
	Holds      []Hold
	Backups    policy.Duration
	Rights     Rights
	Cookies    []Cookie
	Locations  []string
	Transfers  []Transfer
	// ProcessorTransfers are processors outside the home locations, with their safeguard.
	ProcessorTransfers []Processor
	Sensitive          []CategoryRef // sensitive categories collected
	// Forbidden are the categories the policy promises never to hold.
	Forbidden []CategoryRef
	// Protected is true when the policy holds passwords or credentials and
	// declares every column of them stored encrypted or hashed: only then
	// may the document say they are kept in protected form.
	Protected         bool
	MinimumAge        int
	ChangeNoticeDays  int
	BreachNoticeHours int

	// What follows is stated only because the policy declares it.

	Scope           policy.Scope
	Updated         time.Time // zero when the policy names no date
	MinimumAges     []policy.RegionalAge
	Acceptance      string   // "", continued_use or explicit
	ChangeChannels  []string // email, in_app, website
	ForbiddenReason string
	// ForbiddenProcessors receive forbidden categories on the company's behalf.
	ForbiddenProcessors []string
	Promises            Promises
	Disclosures         policy.Disclosures
	Measures            []Measure
	NoGuarantee         bool
	// UntilClosed: data no rule covers is kept while the account is open.
	UntilClosed bool
	// Erasure is true when erasure is offered: only then may the document
	// say that Vow erases what a reader asks it to.
	Erasure bool
	// Cookie facts Vow reads from the declared cookies.
	EssentialCookiesOnly  bool
	FirstPartyCookiesOnly bool
	// HomeOnly is true when every processor is in one of the home
	// locations and no transfer is declared: only then may the document
	// say that nothing leaves them.
	HomeOnly bool
}

// Promises are the commitments the policy declares under promises:.
type Promises struct {
	NoSale, NoAdvertising bool
	NoTraining            []CategoryRef
	Confidential          []CategoryRef
}

// Measure is a declared security measure. Checked is true when Vow
// verifies it: every column it covers is declared in the stored form it
// promises, and the content scan reports a readable value in one.
type Measure struct {
	Kind, Description string
	Categories        []CategoryRef
	Checked           bool
}

// CategoryRef names a data category for readers.
type CategoryRef struct {
	Key         string
	Title       string // the policy's own title, else the catalog's, else the taxonomy's
	Description string
	Sensitive   bool
}

// Source is a group of categories that come from the same place (what
// the reader gives, what is collected automatically, …); the grouping is
// in the template directory's sources.yaml.
type Source struct {
	Key        string
	Categories []Collected
}

// Collected is one category of personal data the policy's systems hold.
type Collected struct {
	CategoryRef
	Purposes []string // purpose titles
	Subjects []string // subject keys
}

// Use is a purpose with its legal basis.
type Use struct {
	Key         string
	Title       string
	Description string
	LegalBasis  string // taxonomy key: consent, contract, …
	Interest    string
	Essential   bool
	Consent     string // "", opt_in or opt_out
	GPC         bool
	Categories  []CategoryRef
}

// Topic is a kind of message the organization sends.
type Topic struct {
	Key, Title, Description string
	Essential               bool
}

// Processor is a row of the sharing table.
type Processor struct {
	Name       string
	Purposes   []string // purpose titles
	Categories []CategoryRef
	Location   string
	Safeguard  string // safeguard key: scc, adequacy, …
	Role       string
	URL        string
}

// Retention is one enforced retention rule.
type Retention struct {
	Name        string
	Description string // the policy's own words, if any
	Table       string // the table's description, else its name
	Categories  []CategoryRef
	Keep        policy.Duration
	From        string // the column the period runs from
	After       string // the policy's words for it, if any
	Then        string // delete or anonymise
	Conditional bool   // the rule covers only some rows (where)
}

// Hold is data kept despite an erasure request, and for how long.
type Hold struct {
	Table      string
	Reason     string
	For        policy.Duration
	Categories []CategoryRef
}

// Rights is what readers may ask for and how.
type Rights struct {
	Offered      []string // right keys, in the policy's order
	DeadlineDays int
	RequestURL   string
	SelfService  string
	Free         bool
	Complaint    bool
	Verification string
	Email        string
	// ErasureGrace is how long an erasure waits, the account deactivated
	// and recoverable, before it runs; zero when it runs at once.
	ErasureGrace policy.Duration
}

// Cookie is a row of the cookie table.
type Cookie struct {
	Name, Category, Purpose, Provider, Description string
	Duration                                       policy.Duration // zero: session
}

// Transfer is an international transfer and its safeguard.
type Transfer struct {
	To, Safeguard, Description string
	Categories                 []CategoryRef // empty: all
}

// Build resolves p into a Document. titles supplies catalog titles for
// categories the policy does not name itself (nil: the taxonomy's).
func Build(p *policy.Policy, sources []SourceRule, titles func(key string) string) *Document {
	d := &Document{
		Org:               p.Organization,
		Effective:         p.Notices.Effective.Time,
		Backups:           p.Retention.Backups,
		Locations:         p.Organization.Locations,
		MinimumAge:        p.Notices.MinimumAge,
		ChangeNoticeDays:  p.Notices.ChangeNoticeDays,
		BreachNoticeHours: cmp.Or(p.Notices.BreachNoticeHours, 72),
		Scope:             p.Scope,
		Updated:           p.Notices.Updated.Time,
		Acceptance:        p.Notices.Acceptance,
		ChangeChannels:    p.Notices.ChangeChannels,
		ForbiddenReason:   p.ForbiddenReason,
		Disclosures:       p.Disclosures,
		NoGuarantee:       p.Security.NoGuarantee,
		UntilClosed:       p.Retention.UntilClosed,
		Erasure:           p.Offers("erasure"),
	}
	for _, a := range p.Notices.MinimumAges {
		d.MinimumAges = append(d.MinimumAges, *a)
	}
	ref := func(key string) CategoryRef {
		r := CategoryRef{Key: key, Title: key}
		if c, ok := p.Category(key); ok {
			r.Title, r.Description, r.Sensitive = c.Name, c.Description, c.Sensitive
		}
		if titles != nil {
			if t := titles(key); t != "" && !declared(p, key) {
				r.Title = t
			}
		}
		return r
	}
	refs := func(keys []string) []CategoryRef {
		out := make([]CategoryRef, 0, len(keys))
		for _, k := range keys {
			out = append(out, ref(k))
		}
		return out
	}
	purposeTitle := func(key string) string {
		if x := p.Purpose(key); x != nil && x.Title != "" {
			return x.Title
		}
		return words(key)
	}

	// What is collected: every personal category of every declared field,
	// with the purposes it serves and whose data it is.
	type acc struct {
		purposes, subjects []string
	}
	byCat := map[string]*acc{}
	var order []string
	purposeCats := map[string][]string{}
	add := func(list []string, v string) []string {
		if v == "" || slices.Contains(list, v) {
			return list
		}
		return append(list, v)
	}
	for _, s := range p.Systems {
		// A service reached by webhook declares its categories, not fields.
		if s.Webhook != nil {
			for _, key := range s.Webhook.Categories {
				if c, ok := p.Category(key); !ok || !c.Personal {
					continue
				}
				a := byCat[key]
				if a == nil {
					a = &acc{}
					byCat[key] = a
					order = append(order, key)
				}
				for _, pk := range s.Purposes {
					a.purposes = add(a.purposes, pk)
					purposeCats[pk] = add(purposeCats[pk], key)
				}
			}
		}
		for _, t := range s.Tables {
			for _, f := range t.Fields {
				if !p.Personal(f) {
					continue
				}
				a := byCat[f.Category]
				if a == nil {
					a = &acc{}
					byCat[f.Category] = a
					order = append(order, f.Category)
				}
				purposes := f.Purposes
				if len(purposes) == 0 {
					purposes = s.Purposes
				}
				for _, pk := range purposes {
					a.purposes = add(a.purposes, pk)
					purposeCats[pk] = add(purposeCats[pk], f.Category)
				}
				a.subjects = add(a.subjects, t.Subject)
			}
		}
	}
	// Within a source, categories follow the order of sources.yaml (names
	// and contact details before credentials), then their keys.
	rank := func(key string) int {
		i := 0
		for _, r := range sources {
			for _, c := range r.Categories {
				if key == c || strings.HasPrefix(key, c+".") {
					return i
				}
				i++
			}
		}
		return i
	}
	slices.SortFunc(order, func(a, b string) int { return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b)) })
	groups := map[string][]Collected{}
	for _, key := range order {
		a := byCat[key]
		titles := make([]string, 0, len(a.purposes))
		for _, pk := range a.purposes {
			titles = append(titles, purposeTitle(pk))
		}
		c := Collected{CategoryRef: ref(key), Purposes: titles, Subjects: a.subjects}
		if c.Sensitive {
			d.Sensitive = append(d.Sensitive, c.CategoryRef)
		}
		src := sourceOf(sources, key)
		groups[src] = append(groups[src], c)
	}
	for _, r := range sources {
		if len(groups[r.Key]) > 0 {
			d.Collected = append(d.Collected, Source{Key: r.Key, Categories: groups[r.Key]})
			delete(groups, r.Key)
		}
	}
	if len(groups[""]) > 0 {
		d.Collected = append(d.Collected, Source{Key: "other", Categories: groups[""]})
	}
	for _, key := range p.Forbidden {
		d.Forbidden = append(d.Forbidden, ref(key))
		// A processor may take what the company never stores (the card
		// goes to the payment provider); readers are told who.
		for _, x := range p.Processors {
			if !slices.Contains(d.ForbiddenProcessors, x.Name) && slices.ContainsFunc(x.Categories, func(c string) bool { return taxonomy.Within(c, key) }) {
				d.ForbiddenProcessors = append(d.ForbiddenProcessors, x.Name)
			}
		}
	}
	d.Protected = protected(p)
	d.Promises = Promises{NoSale: p.Promises.NoSale, NoAdvertising: p.Promises.NoAdvertising,
		NoTraining: refs(p.Promises.NoTraining), Confidential: refs(p.Promises.Confidential)}
	for _, m := range p.Security.Measures {
		d.Measures = append(d.Measures, Measure{Kind: m.Kind, Description: m.Description, Categories: refs(m.Categories), Checked: checked(p, m)})
	}

	consent := map[string]*policy.ConsentPurpose{}
	for _, c := range p.Consent.Purposes {
		consent[c.Name] = c
	}
	for _, x := range p.Purposes {
		u := Use{Key: x.Name, Title: cmp.Or(x.Title, words(x.Name)), Description: x.Description, LegalBasis: x.LegalBasis,
			Interest: x.Interest, Essential: x.Essential, Categories: refs(sorted(purposeCats[x.Name]))}
		if c := consent[x.Name]; c != nil {
			u.Consent, u.GPC = c.Mode, c.GPC
		}
		d.Uses = append(d.Uses, u)
	}
	for _, t := range p.Communications.Topics {
		d.Topics = append(d.Topics, Topic{Key: t.Name, Title: cmp.Or(t.Title, words(t.Name)), Description: t.Description, Essential: t.Essential})
	}

	home := map[string]bool{}
	for _, l := range p.Organization.Locations {
		home[strings.ToLower(l)] = true
	}
	d.HomeOnly = len(home) > 0 && len(p.Organization.Transfers) == 0
	for _, x := range p.Processors {
		row := Processor{Name: x.Name, Categories: refs(x.Categories), Location: x.Location, Safeguard: x.Safeguard, Role: cmp.Or(x.Role, "processor"), URL: x.URL}
		for _, pk := range x.Purposes {
			row.Purposes = append(row.Purposes, purposeTitle(pk))
		}
		d.Processors = append(d.Processors, row)
		if !home[strings.ToLower(x.Location)] {
			d.HomeOnly = false
		}
		if x.Safeguard != "" && !home[strings.ToLower(x.Location)] {
			d.ProcessorTransfers = append(d.ProcessorTransfers, row)
		}
	}

	// A table's categories, for retention: every category but system data,
	// so that a rule over non-personal content still says what it covers.
	tableCats := func(t *policy.Table) []CategoryRef {
		var keys []string
		for _, f := range t.Fields {
			if !taxonomy.Within(f.Category, "system") {
				keys = add(keys, f.Category)
			}
		}
		return refs(sorted(keys))
	}
	for _, r := range p.Retention.Rules {
		row := Retention{Name: words(r.Name), Description: r.Description, Table: r.Table, Keep: r.Keep, From: r.From, After: r.After, Then: cmp.Or(r.Then, "delete"), Conditional: r.Where != ""}
		if _, t := p.LookupTable(policy.ParseTableRef(r.Table), nil); t != nil {
			row.Table = cmp.Or(t.Description, t.Name)
			row.Categories = tableCats(t)
		}
		d.Retention = append(d.Retention, row)
	}
	for _, s := range p.Systems {
		for _, t := range s.Tables {
			if t.Erase != nil && t.Erase.Method == policy.Hold {
				d.Holds = append(d.Holds, Hold{Table: label(t), Reason: t.Erase.Reason, For: t.Erase.For, Categories: tableCats(t)})
			}
			for _, f := range t.Fields {
				if f.Erase != nil && f.Erase.Method == policy.Hold {
					d.Holds = append(d.Holds, Hold{Table: label(t), Reason: f.Erase.Reason, For: f.Erase.For, Categories: refs([]string{f.Category})})
				}
			}
		}
	}

	d.Rights = Rights{Offered: p.Rights.Offered, DeadlineDays: p.DeadlineDays(), RequestURL: p.Rights.RequestURL,
		Verification: p.Rights.Verification, Email: p.Organization.Contacts.Privacy,
		SelfService: p.Rights.SelfService, Free: p.Rights.Free, Complaint: p.Rights.Complaint}
	if g := p.Rights.ErasureGrace; g != nil {
		d.Rights.ErasureGrace = g.Period
	}
	d.EssentialCookiesOnly, d.FirstPartyCookiesOnly = len(p.Cookies) > 0, len(p.Cookies) > 0
	for _, c := range p.Cookies {
		if c.Category != "essential" {
			d.EssentialCookiesOnly = false
		}
		if c.Provider != "" && c.Provider != "first-party" {
			d.FirstPartyCookiesOnly = false
		}
		d.Cookies = append(d.Cookies, Cookie{Name: c.Name, Category: c.Category, Purpose: purposeTitle(c.Purpose),
			Provider: c.Provider, Description: c.Description, Duration: c.Duration})
	}
	for _, t := range p.Organization.Transfers {
		d.Transfers = append(d.Transfers, Transfer{To: t.To, Safeguard: t.Safeguard, Description: t.Description, Categories: refs(t.Categories)})
	}
	return d
}

// protected reports whether the policy holds credentials (user.authorization)
// and declares every column of them stored encrypted or hashed.
func protected(p *policy.Policy) bool {
	n := 0
	for _, s := range p.Systems {
		for _, t := range s.Tables {
			for _, f := range t.Fields {
				if !taxonomy.Within(f.Category, "user.authorization") {
					continue
				}
				if f.Stored != policy.StoredEncrypted && f.Stored != policy.StoredHashed {
					return false
				}
				n++
			}
		}
		if s.Webhook != nil && slices.ContainsFunc(s.Webhook.Categories, func(c string) bool { return taxonomy.Within(c, "user.authorization") }) {
			return false // a service's storage is not declared
		}
	}
	return n > 0
}

// label names a table for readers: its description without a closing
// full stop (the templates punctuate), else its name in words.
func label(t *policy.Table) string {
	return strings.TrimSuffix(strings.TrimSpace(cmp.Or(t.Description, words(t.Name))), ".")
}

// words turns a key (audit_logs, free-plan_findings) into words, so that
// no identifier reaches a reader when the policy gives no title.
func words(key string) string {
	return strings.ReplaceAll(key, "_", " ")
}

// checked reports whether Vow verifies a measure: it covers columns of the
// data map (password hashing, encryption at rest of named categories), and
// every one is declared in the stored form it promises, which the content
// scan then tests.
func checked(p *policy.Policy, m *policy.Measure) bool {
	var cats, forms []string
	switch {
	case m.Kind == policy.MeasurePasswords:
		cats, forms = []string{"user.authorization.password"}, []string{policy.StoredHashed}
	case m.Kind == policy.MeasureAtRest && len(m.Categories) > 0:
		cats, forms = m.Categories, []string{policy.StoredEncrypted, policy.StoredHashed}
	default:
		return false
	}
	n := 0
	for _, s := range p.Systems {
		if s.Webhook != nil && slices.ContainsFunc(s.Webhook.Categories, func(c string) bool {
			return slices.ContainsFunc(cats, func(k string) bool { return taxonomy.Within(c, k) })
		}) {
			return false // a service's storage is not declared
		}
		for _, t := range s.Tables {
			for _, f := range t.Fields {
				if !slices.ContainsFunc(cats, func(k string) bool { return taxonomy.Within(f.Category, k) }) {
					continue
				}
				if !slices.Contains(forms, f.Stored) {
					return false
				}
				n++
			}
		}
	}
	return n > 0
}

func declared(p *policy.Policy, key string) bool {
	for _, c := range p.Categories {
		if c.Name == key && c.Title != "" {
			return true
		}
	}
	return false
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// SourceRule puts categories under a source: the first rule with a
// prefix the category lies within wins.
type SourceRule struct {
	Key        string   `yaml:"key"`
	Categories []string `yaml:"categories"`
}

func sourceOf(rules []SourceRule, key string) string {
	for _, r := range rules {
		for _, c := range r.Categories {
			if key == c || strings.HasPrefix(key, c+".") {
				return r.Key
			}
		}
	}
	return ""
}
