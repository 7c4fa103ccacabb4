package versions

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/taxonomy"
)

// Change is one difference in meaning between two versions of a policy.
// Wording changes (titles, descriptions) are not changes in meaning and
// are not reported.
type Change struct {
	// Kind names the change, e.g. "processor_added"; the renderer's
	// message catalog words it as change.<Kind>.
	Kind string `json:"kind"`
	// Subject is what changed: a processor's name, a category key, a rule's name, …
	Subject string `json:"subject"`
	// From and To are the old and new values, where there are any
	// (durations in vow.yaml form, e.g. "30d").
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Material reports whether the change needs notice before it takes effect.
	Material bool `json:"material"`
}

// Rules states which kinds of change are material: those that let the
// company do more with people's data, keep it longer, share it more
// widely, or give people less. A kind not listed here is not material.
var Rules = map[string]bool{
	"category_added":             true,  // a new kind of personal data is collected
	"category_removed":           false, // less data
	"purpose_added":              true,  // data used for something new
	"purpose_removed":            false,
	"legal_basis_changed":        true, // a different reason for processing
	"processor_added":            true, // data shared with a new company
	"processor_removed":          false,
	"processor_categories_added": true, // a processor receives more data
	"processor_purposes_added":   true,
	"processor_location_changed": true, // data goes somewhere else
	"retention_longer":           true, // data kept longer
	"retention_shorter":          false,
	"retention_removed":          true,  // no enforced limit any more: kept longer
	"retention_added":            false, // a new limit: kept shorter
	"hold_longer":                true,
	"backups_longer":             true,
	"backups_shorter":            false,
	"right_removed":              true, // people can ask for less
	"erasure_grace_longer":       true, // erasure waits longer
	"erasure_grace_shorter":      false,
	"right_added":                false,
	"deadline_longer":            true,  // people wait longer for an answer
	"deadline_shorter":           false, // answers come sooner
	"notice_shorter":             true,  // a shorter deadline for notice of changes
	"notice_longer":              false,
	"breach_notice_longer":       true,
	"breach_notice_shorter":      false,
	"cookie_added":               true, // non-essential cookies only; essential ones are not material
	"cookie_removed":             false,
	"cookie_longer":              true,
	"transfer_added":             true, // data leaves the home jurisdiction
	"transfer_safeguard_changed": true,
	"consent_weakened":           true, // opt-in became opt-out, or GPC is no longer honoured
	"minimum_age_lowered":        true,
	"minimum_age_raised":         false,
	"contact_changed":            false,
}

// Material reports whether any change is material.
func Material(cs []Change) bool {
	return slices.ContainsFunc(cs, func(c Change) bool { return c.Material })
}

// Diff compares two policies and returns the changes in meaning from a to
// b, in a stable order.
func Diff(a, b *policy.Policy) []Change {
	var d differ
	d.categories(a, b)
	d.purposes(a, b)
	d.processors(a, b)
	d.retention(a, b)
	d.rights(a, b)
	d.cookies(a, b)
	d.transfers(a, b)
	d.notices(a, b)
	return d.out
}

type differ struct{ out []Change }

func (d *differ) add(kind, subject, from, to string) {
	m, ok := Rules[kind]
	if !ok {
		panic("versions: no rule for change kind " + kind) // a programming error caught by tests
	}
	d.out = append(d.out, Change{Kind: kind, Subject: subject, From: from, To: to, Material: m})
}

// collected is the set of personal categories a policy's fields hold.
func collected(p *policy.Policy) []string {
	var out []string
	for _, s := range p.Systems {
		if s.Webhook != nil {
			for _, key := range s.Webhook.Categories {
				if c, ok := p.Category(key); ok && c.Personal && !slices.Contains(out, key) {
					out = append(out, key)
				}
			}
		}
		for _, t := range s.Tables {
			for _, f := range t.Fields {
				if p.Personal(f) && !slices.Contains(out, f.Category) {
					out = append(out, f.Category)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// added returns the elements of b not in a, and of a not in b.
func added(a, b []string) (plus, minus []string) {
	for _, x := range b {
		if !slices.Contains(a, x) {
			plus = append(plus, x)
		}
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			minus = append(minus, x)
		}
	}
	return plus, minus
}

func (d *differ) categories(a, b *policy.Policy) {
	plus, minus := added(collected(a), collected(b))
	for _, c := range plus {
		d.add("category_added", c, "", "")
	}
	for _, c := range minus {
		d.add("category_removed", c, "", "")
	}
}

func (d *differ) purposes(a, b *policy.Policy) {
	for _, pb := range b.Purposes {
		pa := a.Purpose(pb.Name)
		switch {
		case pa == nil:
			d.add("purpose_added", pb.Name, "", pb.LegalBasis)
		case pa.LegalBasis != pb.LegalBasis:
			d.add("legal_basis_changed", pb.Name, pa.LegalBasis, pb.LegalBasis)
		}
	}
	for _, pa := range a.Purposes {
		if b.Purpose(pa.Name) == nil {
			d.add("purpose_removed", pa.Name, pa.LegalBasis, "")
		}
	}
	ca, cb := consentModes(a), consentModes(b)
	for _, k := range sortedKeys(cb) {
		old, ok := ca[k]
		if ok && (old.Mode == "opt_in" && cb[k].Mode == "opt_out" || old.GPC && !cb[k].GPC) {
			d.add("consent_weakened", k, modeOf(old), modeOf(cb[k]))
		}
	}
}

func modeOf(c *policy.ConsentPurpose) string {
	if c.GPC {
		return c.Mode + "+gpc"
	}
	return c.Mode
}

func consentModes(p *policy.Policy) map[string]*policy.ConsentPurpose {
	m := map[string]*policy.ConsentPurpose{}
	for _, c := range p.Consent.Purposes {
		m[c.Name] = c
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (d *differ) processors(a, b *policy.Policy) {
	find := func(p *policy.Policy, name string) *policy.Processor {
		for _, x := range p.Processors {
			if strings.EqualFold(x.Name, name) {
				return x
			}
		}
		return nil
	}
	for _, pb := range b.Processors {
		pa := find(a, pb.Name)
		if pa == nil {
			d.add("processor_added", pb.Name, "", pb.Location)
			continue
		}
		if plus, _ := added(pa.Categories, pb.Categories); len(plus) > 0 {
			// A broader category covers the narrower ones it replaces.
			var wider []string
			for _, c := range plus {
				if !slices.ContainsFunc(pa.Categories, func(old string) bool { return taxonomy.Within(c, old) }) {
					wider = append(wider, c)
				}
			}
			if len(wider) > 0 {
				d.add("processor_categories_added", pb.Name, strings.Join(pa.Categories, ", "), strings.Join(wider, ", "))
			}
		}
		if plus, _ := added(pa.Purposes, pb.Purposes); len(plus) > 0 {
			d.add("processor_purposes_added", pb.Name, strings.Join(pa.Purposes, ", "), strings.Join(plus, ", "))
		}
		if !strings.EqualFold(pa.Location, pb.Location) {
			d.add("processor_location_changed", pb.Name, pa.Location, pb.Location)
		}
	}
	for _, pa := range a.Processors {
		if find(b, pa.Name) == nil {
			d.add("processor_removed", pa.Name, pa.Location, "")
		}
	}
}

func (d *differ) retention(a, b *policy.Policy) {
	rules := func(p *policy.Policy) map[string]*policy.Rule {
		m := map[string]*policy.Rule{}
		for _, r := range p.Retention.Rules {
			m[r.Name] = r
		}
		return m
	}
	ra, rb := rules(a), rules(b)
	for _, name := range sortedKeys(rb) {
		nb := rb[name]
		na, ok := ra[name]
		switch {
		case !ok:
			d.add("retention_added", name, "", nb.Keep.String())
		case nb.Keep.Approx() > na.Keep.Approx():
			d.add("retention_longer", name, na.Keep.String(), nb.Keep.String())
		case nb.Keep.Approx() < na.Keep.Approx():
			d.add("retention_shorter", name, na.Keep.String(), nb.Keep.String())
		}
	}
	for _, name := range sortedKeys(ra) {
		if _, ok := rb[name]; !ok {
			d.add("retention_removed", name, ra[name].Keep.String(), "")
		}
	}
	ha, hb := holds(a), holds(b)
	for _, k := range sortedKeys(hb) {
		if old, ok := ha[k]; ok && hb[k].Approx() > old.Approx() {
			d.add("hold_longer", k, old.String(), hb[k].String())
		}
	}
	switch ba, bb := a.Retention.Backups, b.Retention.Backups; {
	case bb.Approx() > ba.Approx():
		d.add("backups_longer", "backups", ba.String(), bb.String())
	case bb.Approx() < ba.Approx():
		d.add("backups_shorter", "backups", ba.String(), bb.String())
	}
}

// holds maps system:table[.field] to the length of its legal hold.
func holds(p *policy.Policy) map[string]policy.Duration {
	m := map[string]policy.Duration{}
	for _, s := range p.Systems {
		for _, t := range s.Tables {
			if t.Erase != nil && t.Erase.Method == policy.Hold {
				m[s.Name+":"+t.Name] = t.Erase.For
			}
			for _, f := range t.Fields {
				if f.Erase != nil && f.Erase.Method == policy.Hold {
					m[s.Name+":"+t.Name+"."+f.Name] = f.Erase.For
				}
			}
		}
	}
	return m
}

func (d *differ) rights(a, b *policy.Policy) {
	plus, minus := added(a.Rights.Offered, b.Rights.Offered)
	for _, r := range minus {
		d.add("right_removed", r, "", "")
	}
	for _, r := range plus {
		d.add("right_added", r, "", "")
	}
	var ga, gb policy.Duration
	if a.Rights.ErasureGrace != nil {
		ga = a.Rights.ErasureGrace.Period
	}
	if b.Rights.ErasureGrace != nil {
		gb = b.Rights.ErasureGrace.Period
	}
	if gb.Approx() > ga.Approx() {
		d.add("erasure_grace_longer", "erasure_grace", ga.String(), gb.String())
	} else if gb.Approx() < ga.Approx() {
		d.add("erasure_grace_shorter", "erasure_grace", ga.String(), gb.String())
	}
	da, db := a.DeadlineDays(), b.DeadlineDays()
	if db > da {
		d.add("deadline_longer", "deadline_days", strconv.Itoa(da), strconv.Itoa(db))
	} else if db < da {
		d.add("deadline_shorter", "deadline_days", strconv.Itoa(da), strconv.Itoa(db))
	}
}

func (d *differ) cookies(a, b *policy.Policy) {
	find := func(p *policy.Policy, name string) *policy.Cookie {
		for _, c := range p.Cookies {
			if c.Name == name {
				return c
			}
		}
		return nil
	}
	for _, cb := range b.Cookies {
		ca := find(a, cb.Name)
		switch {
		case ca == nil && cb.Category == "essential":
			d.out = append(d.out, Change{Kind: "cookie_added", Subject: cb.Name, To: cb.Category}) // essential: not material
		case ca == nil:
			d.add("cookie_added", cb.Name, "", cb.Category)
		case cb.Duration.Approx() > ca.Duration.Approx() && !ca.Duration.IsZero():
			d.add("cookie_longer", cb.Name, ca.Duration.String(), cb.Duration.String())
		}
	}
	for _, ca := range a.Cookies {
		if find(b, ca.Name) == nil {
			d.add("cookie_removed", ca.Name, ca.Category, "")
		}
	}
}

func (d *differ) transfers(a, b *policy.Policy) {
	find := func(p *policy.Policy, to string) *policy.Transfer {
		for _, t := range p.Organization.Transfers {
			if strings.EqualFold(t.To, to) {
				return t
			}
		}
		return nil
	}
	for _, tb := range b.Organization.Transfers {
		ta := find(a, tb.To)
		switch {
		case ta == nil:
			d.add("transfer_added", tb.To, "", tb.Safeguard)
		case ta.Safeguard != tb.Safeguard:
			d.add("transfer_safeguard_changed", tb.To, ta.Safeguard, tb.Safeguard)
		}
	}
}

func (d *differ) notices(a, b *policy.Policy) {
	na, nb := a.Notices, b.Notices
	if nb.ChangeNoticeDays < na.ChangeNoticeDays {
		d.add("notice_shorter", "change_notice_days", strconv.Itoa(na.ChangeNoticeDays), strconv.Itoa(nb.ChangeNoticeDays))
	} else if nb.ChangeNoticeDays > na.ChangeNoticeDays {
		d.add("notice_longer", "change_notice_days", strconv.Itoa(na.ChangeNoticeDays), strconv.Itoa(nb.ChangeNoticeDays))
	}
	ha, hb := cmp.Or(na.BreachNoticeHours, 72), cmp.Or(nb.BreachNoticeHours, 72)
	if hb > ha {
		d.add("breach_notice_longer", "breach_notice_hours", strconv.Itoa(ha), strconv.Itoa(hb))
	} else if hb < ha {
		d.add("breach_notice_shorter", "breach_notice_hours", strconv.Itoa(ha), strconv.Itoa(hb))
	}
	if nb.MinimumAge < na.MinimumAge {
		d.add("minimum_age_lowered", "minimum_age", strconv.Itoa(na.MinimumAge), strconv.Itoa(nb.MinimumAge))
	} else if nb.MinimumAge > na.MinimumAge {
		d.add("minimum_age_raised", "minimum_age", strconv.Itoa(na.MinimumAge), strconv.Itoa(nb.MinimumAge))
	}
	ca, cb := a.Organization.Contacts, b.Organization.Contacts
	if ca.Privacy != cb.Privacy {
		d.add("contact_changed", "privacy", ca.Privacy, cb.Privacy)
	}
}

// String describes a change in one line of plain (English) text, for logs
// and the CLI's JSON-less fallback; readers get the catalog's wording.
func (c Change) String() string {
	s := c.Kind + " " + c.Subject
	if c.From != "" || c.To != "" {
		s += fmt.Sprintf(" (%s → %s)", cmp.Or(c.From, "—"), cmp.Or(c.To, "—"))
	}
	return s
}
