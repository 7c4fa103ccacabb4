package drift

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vowprivacy/vow/detect"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/scan"
	"github.com/vowprivacy/vow/taxonomy"
)

// Content compares what a content scan found with what the policy
// declares, each finding at the policy position it concerns:
//
//   - a category listed under forbidden: found anywhere (error);
//   - readable personal data or a plaintext secret in a column declared
//     stored: encrypted or hashed (error);
//   - personal data in a table listed under ignore:, an undeclared table
//     or column, or a column declared non-personal (warning);
//   - a JSON key holding personal data that the column's json: does not
//     declare (warning);
//   - data of another category than the column declares (warning).
func Content(p *policy.Policy, rep *scan.Report) policy.Diagnostics {
	var diags policy.Diagnostics
	for _, rs := range rep.Systems {
		sys := p.System(rs.Name)
		if sys == nil {
			continue
		}
		base := "systems." + sys.Name
		if rs.Error != "" {
			diags = append(diags, diag(p, policy.Warning, base, "scan-failed", "", "content scan of system %s: %s", sys.Name, rs.Error))
			continue
		}
		for _, rt := range rs.Tables {
			cs := contentScope{p: p, sys: sys, table: tableFold(sys, rt.Name), name: rt.Name, base: base}
			cs.ignored = slices.IndexFunc(sys.Ignore, func(s string) bool { return strings.EqualFold(s, rt.Name) })
			if rt.Error != "" {
				diags = append(diags, diag(p, policy.Warning, cs.tablePath(), "scan-failed", "", "content scan of %s:%s: %s", sys.Name, rt.Name, rt.Error))
				continue
			}
			for _, rc := range rt.Columns {
				diags = append(diags, cs.column(rt, rc)...)
			}
		}
	}
	diags.Sort()
	return diags
}

// contentScope is one table of a system, as the policy declares it (or
// not).
type contentScope struct {
	p       *policy.Policy
	sys     *policy.System
	table   *policy.Table // nil when undeclared
	name    string
	base    string
	ignored int // index in the system's ignore list, or -1
}

func (cs *contentScope) tablePath() string {
	switch {
	case cs.table != nil:
		return cs.base + ".tables." + cs.table.Name
	case cs.ignored >= 0:
		return fmt.Sprintf("%s.ignore[%d]", cs.base, cs.ignored)
	}
	return cs.base + ".tables"
}

func (cs *contentScope) column(rt scan.Table, rc scan.Column) policy.Diagnostics {
	var f *policy.Field
	if cs.table != nil {
		f = fieldNamed(cs.table, rc.Name)
	}
	path := cs.tablePath()
	if f != nil {
		path += ".fields." + f.Name
	}
	var diags policy.Diagnostics
	add := func(sev policy.Severity, path, code, hint, format string, args ...any) {
		diags = append(diags, diag(cs.p, sev, path, code, hint, format, args...))
	}
	for _, fd := range strongest(rc.Findings) {
		where := fmt.Sprintf("%s:%s.%s", cs.sys.Name, rt.Name, rc.Name)
		if fd.Path != "" {
			where += " → " + fd.Path
		}
		seen := evidence(fd)
		what := describeCategory(cs.p, fd.Category)
		if forb := forbiddenBy(cs.p, fd.Category); forb != "" {
			if certain(fd) {
				add(policy.Error, path, "forbidden-data", "remove the data (and stop what writes it), or take the category out of forbidden: if the promise is no longer true",
					"%s holds %s (%s), which forbidden: promises is never held (%s)", where, what, seen, forb)
			}
			continue
		}
		if f != nil && (f.Stored == policy.StoredEncrypted || f.Stored == policy.StoredHashed) {
			if fd.Category == "user.authorization.password" && f.Stored == policy.StoredHashed {
				continue // a password hash is the hashed form
			}
			if certain(fd) {
				add(policy.Error, path, "not-protected", "encrypt or hash the values (or correct stored: if they are meant to be readable)",
					"%s is declared stored: %s, but holds readable %s (%s)", where, f.Stored, what, seen)
			}
			continue
		}
		// One credential in the clear is one too many: it is reported on
		// sight, where other data must be common enough to be the
		// column's.
		const secret = "user.authorization.credentials"
		if fd.Category == secret && f != nil && !covers(f.Category, secret) {
			if certain(fd) {
				add(policy.Warning, path, "secret-in-data", "remove it, rotate the credential (it has been stored in the clear), and find what wrote it",
					"%s holds %s (%s) in a column declared %s", where, what, seen, f.Category)
			}
			continue
		}
		if !significant(fd) {
			continue
		}
		switch {
		case cs.ignored >= 0:
			add(policy.Warning, path, "personal-data-ignored", fmt.Sprintf("declare %s under tables: (remove it from ignore:)", rt.Name),
				"%s holds %s (%s), but the table is listed under ignore: as holding no personal data", where, what, seen)
		case cs.table == nil:
			add(policy.Warning, path, "personal-data-undeclared", fmt.Sprintf("declare %s under tables:", rt.Name),
				"%s holds %s (%s) in a table the policy does not declare", where, what, seen)
		case f == nil:
			add(policy.Warning, path, "personal-data-undeclared", fmt.Sprintf("declare it: %s: %s", rc.Name, fd.Category),
				"%s holds %s (%s) in a column the policy does not declare", where, what, seen)
		case fd.Path != "":
			k := jsonKey(f, fd.Path)
			switch {
			case k == nil:
				add(policy.Warning, path, "undeclared-json-key", fmt.Sprintf("declare the key: %s: {json: {%q: %s}}", f.Name, fd.Path, fd.Category),
					"%s holds %s (%s) under a JSON key the policy does not declare", where, what, seen)
			case !covers(k.Category, fd.Category) && strong(fd):
				add(policy.Warning, path+".json."+k.Name, "unexpected-category", fmt.Sprintf("declare it as %s, or check what writes it", fd.Category),
					"%s is declared %s, but holds %s (%s)", where, k.Category, what, seen)
			}
		case !personalCategory(cs.p, f.Category):
			add(policy.Warning, path, "personal-data-undeclared", fmt.Sprintf("declare it: %s: %s", f.Name, fd.Category),
				"%s is declared %s (not personal data), but holds %s (%s)", where, f.Category, what, seen)
		case !covers(f.Category, fd.Category) && !freeText(f.Category) && strong(fd):
			add(policy.Warning, path, "unexpected-category", fmt.Sprintf("declare it as %s, or check what writes it", fd.Category),
				"%s is declared %s, but holds %s (%s)", where, f.Category, what, seen)
		}
	}
	return diags
}

func diag(p *policy.Policy, sev policy.Severity, path, code, hint, format string, args ...any) policy.Diagnostic {
	return policy.Diagnostic{File: p.File, Pos: p.PosOf(path), Severity: sev, Code: code, Path: path, Message: fmt.Sprintf(format, args...), Hint: hint}
}

// strongest keeps, of each (category, JSON path), one finding — several
// detectors may find one category: a certain one first (a few JWTs must
// not hide behind many guesses), then the one that matched most values.
func strongest(fs []detect.Finding) []detect.Finding {
	var out []detect.Finding
	for _, f := range fs {
		i := slices.IndexFunc(out, func(o detect.Finding) bool { return o.Category == f.Category && o.Path == f.Path })
		switch {
		case i < 0:
			out = append(out, f)
		case certain(f) != certain(out[i]):
			if certain(f) {
				out[i] = f
			}
		case f.Matched > out[i].Matched:
			out[i] = f
		}
	}
	return out
}

// certain is the bar for an error: a detector sure of what it saw (a
// card in a card's layout, a token's format) once is enough — a promise
// broken once is broken — and one a little less sure in a good share of
// the values. A checksum alone is not sure: one number in ten passes the
// card checksum, so a column of order numbers or phone numbers without
// their + holds "cards" about one value in ten.
func certain(f detect.Finding) bool {
	return f.Matched >= 1 && (f.Confidence >= 0.9 || f.Confidence >= 0.8 && f.HitRate >= 0.3)
}

// significant is the bar for a warning: enough values, or a large enough
// share of them, that the column holds this data and did not just meet it.
func significant(f detect.Finding) bool {
	return f.Confidence >= 0.5 && (f.Matched >= 3 || f.HitRate >= 0.05)
}

// strong is the bar for saying a column holds something other than it
// declares: most of its values.
func strong(f detect.Finding) bool { return f.Confidence >= 0.7 && f.HitRate >= 0.5 }

func evidence(f detect.Finding) string {
	s := fmt.Sprintf("%d of %d values scanned", f.Matched, f.Values)
	if f.Example != "" {
		s += ", e.g. " + f.Example
	}
	return s
}

func describeCategory(p *policy.Policy, key string) string {
	if c, ok := p.Category(key); ok && c.Name != "" {
		return strings.ToLower(c.Name) + " (" + key + ")"
	}
	return key
}

// forbiddenBy returns the forbidden: entry that covers category, or "".
func forbiddenBy(p *policy.Policy, category string) string {
	for _, f := range p.Forbidden {
		if taxonomy.Within(category, f) {
			return "forbidden: " + f
		}
	}
	return ""
}

// covers reports whether data of category found fits a declared one: the
// same, more specific, or a parent (user.contact declared, an email found).
func covers(declared, found string) bool { return taxonomy.Related(declared, found) }

// freeText categories are content people write: it may mention anything,
// and only forbidden data and secrets in it are worth a word.
func freeText(category string) bool {
	return taxonomy.Within(category, "user.content")
}

func personalCategory(p *policy.Policy, key string) bool {
	c, ok := p.Category(key)
	return ok && c.Personal
}

func fieldNamed(t *policy.Table, name string) *policy.Field {
	if f := t.Field(name); f != nil {
		return f
	}
	for _, f := range t.Fields {
		if strings.EqualFold(f.Name, name) {
			return f
		}
	}
	return nil
}

func jsonKey(f *policy.Field, path string) *policy.JSONKey {
	for _, k := range f.JSON {
		if k.Name == path {
			return k
		}
	}
	return nil
}
