package classify

import (
	"slices"
	"strings"

	"github.com/vowprivacy/vow/detect"
	"github.com/vowprivacy/vow/taxonomy"
)

// Evidence says where a guess came from, for the review comment the
// starter policy writes beside it.
const (
	FromName    = "name"    // the column's name (and type)
	FromKey     = "key"     // a key or a reference to a table of people
	FromContent = "content" // what a sample of the values holds
	FromBoth    = "name and content"
	// FromOpaque: the name, kept although the values hold none of what
	// it names, because they look encrypted or binary.
	FromOpaque = "name, values opaque"
)

// Refine weighs a guess from the column's name against what a sample of
// its values holds (findings from package detect). Content wins where it
// is clear — most values of one kind, found by a detector sure of what it
// saw — and a name that promises personal data is kept where the content
// does not contradict it: a sample can miss what a column is meant for.
//
//   - a column the name left operational, or free text, whose values are
//     mostly one category of personal data takes that category
//     (note: all emails → an email column);
//   - a credentials column whose values are password hashes is a password;
//   - a JSON column keeps its guess: its keys are declared one by one
//     (see Keys);
//   - a column named for emails or IP addresses whose values (at least
//     20 of them) hold none is not one (email_subject, email_template):
//     those two are recognised in any form, so their absence is evidence —
//     unless the values look encrypted or binary (an encrypted email, an
//     IP address stored as bytes), where the name stands, unsure.
//
// values is how many non-null values were scanned, opaque how many of
// them looked encrypted, encoded or binary (detect.Opaque).
func Refine(g Guess, dbType string, values, opaque int, findings []detect.Finding) Guess {
	t := strings.ToLower(dbType)
	if values >= 20 && (g.Category == "user.contact.email" || g.Category == "user.device.ip_address") &&
		!strings.Contains(t, "json") && !slices.ContainsFunc(findings, func(f detect.Finding) bool { return f.Category == g.Category && f.Path == "" }) {
		if opaque*2 >= values || strings.Contains(t, "blob") || strings.Contains(t, "binary") || t == "bytea" {
			g.Confident, g.Evidence = false, FromOpaque
			return g
		}
		return Guess{Category: "system.operations", Confident: true, Evidence: FromContent}
	}
	best, ok := dominant(findings)
	if !ok || strings.Contains(strings.ToLower(dbType), "json") {
		if g.Evidence == "" {
			g.Evidence = FromName
		}
		return g
	}
	switch {
	case g.Category == best.Category || taxonomy.Within(best.Category, g.Category) && g.Category != "user.content" && !taxonomy.Within(g.Category, "user.content"):
		// The content confirms the name (or narrows it: user.contact → an
		// email).
		g.Category, g.Confident, g.Evidence = best.Category, true, FromBoth
	case g.Category == "user.authorization.credentials" && best.Category == "user.authorization.password":
		g.Category, g.Confident, g.Evidence = best.Category, true, FromBoth
	case !strings.HasPrefix(g.Category, "user.") || taxonomy.Within(g.Category, "user.content") || !g.Confident:
		g = Guess{Category: best.Category, Confident: best.Confidence >= 0.8, Evidence: FromContent}
	default:
		// A confident name and content of another kind: keep the name,
		// the review comment says what the values looked like.
		g.Evidence = FromName
	}
	return g
}

// dominant is the finding that most values of a text column share, if
// one is clear enough to name the column: at least half the values, by a
// detector at least 0.7 sure (names and addresses, detected with less
// confidence, need 80% of the values).
func dominant(fs []detect.Finding) (detect.Finding, bool) {
	var best detect.Finding
	found := false
	for _, f := range fs {
		if f.Path != "" {
			continue
		}
		need := 0.5
		if f.Confidence < 0.7 {
			need = 0.8
			if f.Confidence < 0.45 {
				continue
			}
		}
		if f.HitRate < need {
			continue
		}
		if !found || f.HitRate > best.HitRate || f.HitRate == best.HitRate && f.Confidence > best.Confidence {
			best, found = f, true
		}
	}
	return best, found
}

// Keys returns the JSON keys of a column whose values hold personal data
// under them, each with its category: what a starter policy declares under
// the field's json:. A key counts when at least 10% of the values hold it
// with a detector at least 0.5 sure.
func Keys(findings []detect.Finding) map[string]string {
	out := map[string]string{}
	rate := map[string]float64{}
	for _, f := range findings {
		if f.Path == "" || f.Path == "*" || f.Confidence < 0.5 || f.HitRate < 0.1 {
			continue
		}
		if f.HitRate > rate[f.Path] {
			out[f.Path], rate[f.Path] = f.Category, f.HitRate
		}
	}
	return out
}
