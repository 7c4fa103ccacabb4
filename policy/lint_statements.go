package policy

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/vowprivacy/vow/taxonomy"
)

// Lints of the statements the rendered policy makes beyond the data map:
// its scope, dates, ages, promises, disclosures and security measures.
// Where a statement can be compared with the data map (encryption at rest
// against the fields' stored form, confidentiality against the
// processors, no advertising against the cookies), a contradiction is an
// error: the published policy would say something Vow knows is false.

func (l *linter) statements() {
	l.scope()
	l.notices()
	l.promises()
	l.disclosures()
	l.measures()
	p := l.p
	if p.Retention.UntilClosed && !p.Offers("erasure") {
		l.warnf("retention.until_closed", "contradiction", "offer erasure under rights.offered, or remove until_closed",
			"until_closed promises data is deleted on request, but erasure is not offered")
	}
	if p.ForbiddenReason != "" && len(p.Forbidden) == 0 {
		l.warnf("forbidden_reason", "unused", "list the categories under forbidden:, or remove forbidden_reason", "forbidden_reason is given but forbidden: lists no category")
	}
}

func (l *linter) scope() {
	for i, law := range l.p.Scope.Laws {
		l.oneOf(fmt.Sprintf("scope.laws[%d]", i), "law", law, Laws)
	}
	for i, s := range l.p.Scope.Services {
		if s == "" {
			l.errorf(fmt.Sprintf("scope.services[%d]", i), "invalid-value", "name a product, site or app", "a covered service has no name")
		}
	}
}

func (l *linter) notices() {
	n := l.p.Notices
	l.oneOf("notices.acceptance", "acceptance", n.Acceptance, Acceptances)
	for i, c := range n.ChangeChannels {
		l.oneOf(fmt.Sprintf("notices.change_channels[%d]", i), "change channel", c, ChangeChannels)
	}
	seen := map[string]int{}
	for i, a := range n.MinimumAges {
		path := fmt.Sprintf("notices.minimum_ages[%d]", i)
		if a.Age < 1 || a.Age > 21 {
			l.errorf(path+".age", "invalid-value", "typical values are 13, 16 or 18", "minimum age %d in %s is out of range", a.Age, a.Region)
		}
		if j, dup := seen[a.Region]; dup && a.Region != "" {
			l.errorf(path+".region", "duplicate-name", "give each region one age", "region %q has a minimum age twice (first at line %d)", a.Region, l.p.PosOf(fmt.Sprintf("notices.minimum_ages[%d]", j)).Line)
		}
		seen[a.Region] = i
	}
	if !n.Updated.IsZero() && !n.Effective.IsZero() && n.Updated.After(n.Effective.Time) {
		l.warnf("notices.updated", "updated-after-effective", "publish the changed text as a new version with its own effective date",
			"the text was last updated on %s, after this version took effect on %s", n.Updated.Format("2006-01-02"), n.Effective.Format("2006-01-02"))
	}
}

func (l *linter) promises() {
	p := l.p
	for i, c := range p.Promises.NoTraining {
		l.category(fmt.Sprintf("promises.no_training[%d]", i), c)
	}
	for i, c := range p.Promises.Confidential {
		path := fmt.Sprintf("promises.confidential[%d]", i)
		l.category(path, c)
		for _, pr := range p.Processors {
			if slices.ContainsFunc(pr.Categories, func(r string) bool { return taxonomy.Within(c, r) }) {
				l.errorf(path, "confidential-shared", "narrow the processor's categories, or drop the category from confidential:",
					"%s is promised strictly confidential, but processor %q receives it", c, pr.Name)
			}
		}
	}
	if p.Promises.NoAdvertising {
		for i, c := range p.Cookies {
			if c.Category == "marketing" {
				l.errorf(fmt.Sprintf("cookies[%d].category", i), "contradiction", "remove the cookie, or remove promises.no_advertising",
					"cookie %q is a marketing cookie, but promises.no_advertising says personal data is not used for advertising", c.Name)
			}
		}
	}
}

func (l *linter) disclosures() {
	if d := l.p.Disclosures.Legal; d != nil {
		if len(d.Grounds) == 0 {
			l.errorf("disclosures.legal.grounds", "missing-key", "e.g. grounds: [law, legal_process]", "disclosures.legal names no grounds")
		}
		for i, g := range d.Grounds {
			l.oneOf(fmt.Sprintf("disclosures.legal.grounds[%d]", i), "ground", g, LegalGrounds)
		}
	}
}

// measures checks the security measures, and those Vow can check against
// the data map: the columns they cover must be declared in the stored
// form the measure promises, which the content scan then verifies.
func (l *linter) measures() {
	for i, m := range l.p.Security.Measures {
		path := fmt.Sprintf("security.measures[%d]", i)
		if !l.oneOf(path+".kind", "security measure", m.Kind, MeasureKinds) {
			continue
		}
		if m.Kind == "other" && m.Description == "" {
			l.errorf(path+".description", "missing-key", "say what the measure is", "a measure of kind other needs a description")
		}
		for j, c := range m.Categories {
			l.category(fmt.Sprintf("%s.categories[%d]", path, j), c)
		}
		switch {
		case m.Kind == MeasurePasswords:
			l.storedAs(path, []string{"user.authorization.password"}, []string{StoredHashed}, "hashed")
		case m.Kind == MeasureAtRest && len(m.Categories) > 0:
			l.storedAs(path, m.Categories, []string{StoredEncrypted, StoredHashed}, "encrypted")
		case len(m.Categories) > 0:
			l.warnf(path+".categories", "unused", "categories apply to encryption_at_rest only; remove them", "measure %s does not use categories", m.Kind)
		}
	}
}

// storedAs reports every field within cats whose stored form is not one of
// forms, and, when absence checks run, a measure that covers no field.
func (l *linter) storedAs(path string, cats, forms []string, word string) {
	n := 0
	for _, s := range l.p.Systems {
		for _, t := range s.Tables {
			for _, f := range t.Fields {
				if !slices.ContainsFunc(cats, func(c string) bool { return taxonomy.Within(f.Category, c) }) {
					continue
				}
				n++
				if !slices.Contains(forms, f.Stored) {
					fp := "systems." + s.Name + ".tables." + t.Name + ".fields." + f.Name
					l.errorf(fp, "not-"+word, fmt.Sprintf("declare it stored: %s, or narrow %s", forms[0], path),
						"%s:%s.%s holds %s, which %s promises is %s, but it is stored %s", s.Name, t.Name, f.Name, f.Category, path, word, cmp.Or(f.Stored, StoredPlain))
				}
			}
		}
	}
	if n == 0 && l.absence {
		l.warnf(path, "unheld-category", "declare the fields it covers, or remove the measure", "%s covers no declared field, so Vow cannot check it", path)
	}
}
