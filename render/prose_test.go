package render_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/render"
)

var (
	// Code spans (cookie names), links and addresses may hold identifiers;
	// prose may not.
	codeSpans = regexp.MustCompile("`[^`]*`|<code>[^<]*</code>")
	links     = regexp.MustCompile(`https?://[^\s)"<>|]+|[\w.+-]+@[\w.-]+\.\w+|\]\([^)]*\)|href="[^"]*"`)
	// snake is an identifier such as terminated_at or audit_logs.
	snake = regexp.MustCompile(`\b[a-z][a-z0-9]*(_[a-z0-9]+)+\b`)
	// categoryKey is a dotted category key such as user.contact.email.
	categoryKey = regexp.MustCompile(`\b(user|system)\.[a-z_]+(\.[a-z_]+)*\b`)
	// doubled is a full stop following a full stop, across spaces,
	// Markdown emphasis and HTML tags ("..", ". .", ".</li>." — not "...").
	doubled = regexp.MustCompile(`[^.]\.(\s|\*\*|</?[a-z0-9]+>)*\.(\s|$|<|\))`)
)

// prose is a rendering with code spans, links and addresses removed.
func prose(s string) string {
	s = codeSpans.ReplaceAllString(s, " ")
	s = links.ReplaceAllString(s, " ")
	// The HTML head's style sheet is not prose.
	if i, j := strings.Index(s, "<style>"), strings.Index(s, "</style>"); i >= 0 && j > i {
		s = s[:i] + s[j:]
	}
	return s
}

// TestNoIdentifiersInProse renders every example policy in every format
// and checks that no column, table or key name of the policy, no
// snake_case identifier at all and no category key reaches a reader, and
// that no sentence ends with two full stops (a description ending in "."
// inside a message that adds its own).
func TestNoIdentifiersInProse(t *testing.T) {
	t.Parallel()
	r := renderer(t, render.Options{})
	for name, file := range policies(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := load(t, file)
			names := identifiers(p)
			for _, f := range []render.Format{render.Markdown, render.HTML, render.Summary} {
				out, err := r.String(f, p, render.Meta{VersionID: "v1"})
				if err != nil {
					t.Fatal(err)
				}
				text := prose(out)
				for _, id := range snake.FindAllString(text, -1) {
					t.Errorf("%s: identifier %q in prose%s", f, id, known(names, id))
				}
				for _, key := range categoryKey.FindAllString(text, -1) {
					t.Errorf("%s: category key %q in prose", f, key)
				}
				for _, m := range doubled.FindAllStringIndex(out, -1) {
					t.Errorf("%s: doubled full stop: %q", f, out[max(0, m[0]-40):m[1]])
				}
			}
		})
	}
}

// identifiers are the policy's own names a reader must not see.
func identifiers(p *policy.Policy) map[string]bool {
	m := map[string]bool{}
	for _, s := range p.Systems {
		for _, t := range s.Tables {
			m[t.Name] = true
			for _, f := range t.Fields {
				m[f.Name] = true
			}
		}
	}
	for _, x := range p.Purposes {
		m[x.Name] = true
	}
	return m
}

func known(names map[string]bool, id string) string {
	if names[id] {
		return " (a name from the policy's data map)"
	}
	return ""
}

// TestProseChecksFail: the checks above catch what they look for, so that
// a clean pass means something.
func TestProseChecksFail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text  string
		check *regexp.Regexp
		want  bool
	}{
		{"kept 1 hour after terminated_at", snake, true},
		{"kept 1 hour after it is terminated", snake, false},
		{"Cookie `pw_session` keeps you signed in", snake, false},
		{"receives user.contact.email", categoryKey, true},
		{"Invoices are kept.. ", doubled, true},
		{"<li>Invoices are kept.</li>.", doubled, true},
		{"**Kept.**.", doubled, true},
		{"and so on...", doubled, false},
		{"Patchwell Labs B.V. is", doubled, false},
	} {
		got := tc.check.MatchString(prose(tc.text))
		if got != tc.want {
			t.Errorf("%q: match %v, want %v", tc.text, got, tc.want)
		}
	}
}

// TestStatementsOnlyWhenDeclared: each sentence that makes a promise no
// data map shows is rendered exactly when the policy declares it.
func TestStatementsOnlyWhenDeclared(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../examples/inventory/vow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	base := string(src)
	// Strip the declarations the inventory example makes, so that each
	// case starts from a policy that declares none of them.
	for _, s := range []string{"  until_closed: true\n", "  free: true\n", "  complaint: true\n", "promises:\n  no_sale: true\n"} {
		base = strings.Replace(base, s, "", 1)
	}
	r := renderer(t, render.Options{})
	for _, tc := range []struct {
		name, old, new, sentence string
	}{
		{"no sale", "\nnotices:\n", "\npromises: {no_sale: true}\nnotices:\n", "We do not sell or rent your personal information."},
		{"no advertising", "\nnotices:\n", "\npromises: {no_advertising: true}\nnotices:\n", "We do not share it with advertisers"},
		{"free requests", "  deadline_days: 30\n", "  deadline_days: 30\n  free: true\n", "Exercising your rights is free."},
		{"complaint", "  deadline_days: 30\n", "  deadline_days: 30\n  complaint: true\n", "complain to a data protection supervisory authority"},
		{"until closed", "  backups: 30d\n", "  backups: 30d\n  until_closed: true\n", "kept while your account is open"},
		{"legal disclosure", "\nnotices:\n", "\ndisclosures: {legal: {grounds: [law]}}\nnotices:\n", "We disclose information when the law requires it."},
		{"business transfer", "\nnotices:\n", "\ndisclosures: {business_transfer: {notify: true}}\nnotices:\n", "merger, acquisition or sale of assets"},
		{"security measure", "\nnotices:\n", "\nsecurity: {measures: [{kind: mfa}]}\nnotices:\n", "We protect your information with these measures:"},
		{"no guarantee", "\nnotices:\n", "\nsecurity: {no_guarantee: true}\nnotices:\n", "cannot guarantee absolute security"},
		{"acceptance", "\nnotices:\n", "\nnotices:\n  acceptance: continued_use\n", "you agree to this policy"},
		{"change channels", "\nnotices:\n", "\nnotices:\n  change_channels: [email]\n", "We announce material changes by email."},
		{"no training", "\nnotices:\n", "\npromises: {no_training: [user.content.equipment_photo]}\nnotices:\n", "to train machine-learning models"},
		{"scope", "\nnotices:\n", "\nscope: {services: [the Assetline app]}\nnotices:\n", "It covers the Assetline app."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			without, ds := policy.Parse("vow.yaml", []byte(base))
			if errs, _ := ds.Count(); without == nil || errs > 0 {
				t.Fatalf("base policy: %v", ds)
			}
			with, ds := policy.Parse("vow.yaml", []byte(strings.Replace(base, tc.old, tc.new, 1)))
			if errs, _ := ds.Count(); with == nil || errs > 0 {
				t.Fatalf("policy with %s: %v", tc.name, ds)
			}
			for _, f := range []render.Format{render.Markdown, render.HTML} {
				out, err := r.String(f, without, render.Meta{})
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(htmlText(out), tc.sentence) {
					t.Errorf("%s: says %q though the policy does not declare it", f, tc.sentence)
				}
				out, err = r.String(f, with, render.Meta{})
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(htmlText(out), tc.sentence) {
					t.Errorf("%s: does not say %q though the policy declares it", f, tc.sentence)
				}
			}
		})
	}
}
