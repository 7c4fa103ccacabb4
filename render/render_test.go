package render_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/render"
	"github.com/vowprivacy/vow/taxonomy"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// policies are every example policy: what the promise test covers.
func policies(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("../examples/*/vow.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example policies: %v", err)
	}
	m := map[string]string{"demo": "../demo/vow.yaml"}
	for _, f := range files {
		m[filepath.Base(filepath.Dir(f))] = f
	}
	return m
}

func load(t *testing.T, file string) *policy.Policy {
	t.Helper()
	p, ds, err := policy.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if errs, _ := ds.Count(); errs > 0 {
		t.Fatalf("%s has errors: %v", file, ds)
	}
	return p
}

func renderer(t *testing.T, opts render.Options) *render.Renderer {
	t.Helper()
	r, err := render.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestGolden(t *testing.T) {
	t.Parallel()
	r := renderer(t, render.Options{})
	for name, file := range policies(t) {
		p := load(t, file)
		for _, f := range []render.Format{render.Markdown, render.HTML, render.Summary} {
			t.Run(name+"/"+string(f), func(t *testing.T) {
				got, err := r.String(f, p, render.Meta{VersionID: "v1"})
				if err != nil {
					t.Fatal(err)
				}
				ext := map[render.Format]string{render.Markdown: ".md", render.HTML: ".html", render.Summary: ".summary.md"}[f]
				golden := filepath.Join("testdata", name+ext)
				if *update {
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./render -update)", err)
				}
				if got != string(want) {
					t.Errorf("%s differs from the rendering; run go test ./render -update and review the diff", golden)
				}
			})
		}
	}
}

// TestPromises checks, for every example policy, that the rendered
// document states each promise Vow enforces, read from the same model:
// each retention period, each legal hold, the backup period, the response
// deadline, each processor, each cookie's duration and the notice days.
// It uses policy.Duration.Human, not the renderer's catalog, so a
// template that drops or changes a number fails here.
func TestPromises(t *testing.T) {
	t.Parallel()
	r := renderer(t, render.Options{})
	for name, file := range policies(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := load(t, file)
			md, err := r.String(render.Markdown, p, render.Meta{})
			if err != nil {
				t.Fatal(err)
			}
			html, err := r.String(render.HTML, p, render.Meta{})
			if err != nil {
				t.Fatal(err)
			}
			text := htmlText(html)
			sections := splitSections(md)
			check := func(section, want, why string) {
				t.Helper()
				if !strings.Contains(sections[section], want) {
					t.Errorf("Markdown section %q does not state %s: %q", section, why, want)
				}
				if !strings.Contains(text, want) {
					t.Errorf("HTML does not state %s: %q", why, want)
				}
			}
			if len(p.Retention.Rules) == 0 {
				t.Fatalf("%s has no retention rules: nothing to check", file)
			}
			for _, rule := range p.Retention.Rules {
				row := findRow(sections["How long we keep it"], cmpOr(rule.Description, rule.Name))
				if row == "" {
					t.Errorf("retention rule %q has no row", rule.Name)
					continue
				}
				if !strings.Contains(row, "| "+rule.Keep.Human()+" ") {
					t.Errorf("retention rule %q: row %q does not state %s", rule.Name, row, rule.Keep.Human())
				}
				if rule.Then == "anonymise" && !strings.Contains(row, "anonymised") {
					t.Errorf("retention rule %q anonymises, row says %q", rule.Name, row)
				}
			}
			for _, s := range p.Systems {
				for _, tb := range s.Tables {
					if tb.Erase != nil && tb.Erase.Method == policy.Hold && !tb.Erase.For.IsZero() {
						check("How long we keep it", "kept for "+tb.Erase.For.Human(), "hold of "+tb.Name)
					}
					for _, f := range tb.Fields {
						if f.Erase != nil && f.Erase.Method == policy.Hold && !f.Erase.For.IsZero() {
							check("How long we keep it", "kept for "+f.Erase.For.Human(), "hold of "+tb.Name+"."+f.Name)
						}
					}
				}
			}
			if !p.Retention.Backups.IsZero() {
				check("How long we keep it", "Backups are kept for "+p.Retention.Backups.Human(), "the backup period")
			}
			deadline := "1 day"
			if d := p.DeadlineDays(); d != 1 {
				deadline = itoa(d) + " days"
			}
			check("Your rights", "within "+deadline, "the response deadline")
			if g := p.Rights.ErasureGrace; g != nil {
				check("Your rights", "erase it "+g.Period.Human()+" later", "the erasure grace period")
			}
			if len(p.Processors) == 0 {
				t.Fatalf("%s has no processors: nothing to check", file)
			}
			for _, pr := range p.Processors {
				row := findRow(sections["Who we share it with"], pr.Name)
				if row == "" || !strings.Contains(row, pr.Location) {
					t.Errorf("processor %s (%s) has no row stating its location: %q", pr.Name, pr.Location, row)
				}
				if !strings.Contains(text, pr.Name) {
					t.Errorf("HTML does not name processor %s", pr.Name)
				}
			}
			for _, c := range p.Cookies {
				row := findRow(sections["Cookies"], "`"+c.Name+"`")
				if row == "" {
					t.Errorf("cookie %s has no row", c.Name)
				} else if !c.Duration.IsZero() && !strings.Contains(row, c.Duration.Human()) {
					t.Errorf("cookie %s: row %q does not state %s", c.Name, row, c.Duration.Human())
				}
			}
			if n := p.Notices.ChangeNoticeDays; n > 0 {
				check("Changes to this policy", "at least "+itoa(n)+" days", "the change notice period")
			}
			if n := p.Notices.MinimumAge; n > 0 {
				check("Children", "under "+itoa(n), "the minimum age")
			}
			for _, right := range p.Rights.Offered {
				if !strings.Contains(strings.ToLower(sections["Your rights"]), right) {
					t.Errorf("right %s is not stated", right)
				}
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func itoa(n int) string { return strconv.Itoa(n) }

// splitSections maps each "## " heading of a Markdown document to its text.
func splitSections(md string) map[string]string {
	m := map[string]string{}
	var cur string
	for _, line := range strings.Split(md, "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			cur = h
			continue
		}
		m[cur] += line + "\n"
	}
	return m
}

// findRow returns the first table row of md whose first cell contains key.
func findRow(md, key string) string {
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := strings.Split(line, " | ")
		if strings.Contains(strings.ReplaceAll(cells[0], `\|`, "|"), key) {
			return line
		}
	}
	return ""
}

var tags = regexp.MustCompile(`<[^>]*>`)

func htmlText(h string) string {
	s := tags.ReplaceAllString(h, " ")
	s = strings.NewReplacer("&#39;", "'", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`).Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// TestHTMLSelfContained checks the page loads nothing from elsewhere and
// keeps its accessibility landmarks.
func TestHTMLSelfContained(t *testing.T) {
	t.Parallel()
	r := renderer(t, render.Options{})
	p := load(t, "../demo/vow.yaml")
	h, err := r.String(render.HTML, p, render.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "<link", " src=", "url(", "@import"} {
		if strings.Contains(h, bad) {
			t.Errorf("HTML contains %q: the page must be self-contained", bad)
		}
	}
	for _, want := range []string{`<html lang="en">`, `<main id="policy">`, `class="skip" href="#policy"`, `<caption>`, `<th scope="col">`, `<meta name="viewport"`, `aria-labelledby="retention"`} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	// Every heading level follows the one above it (h1 → h2 → h3).
	last := 0
	for _, m := range regexp.MustCompile(`<h([1-6])`).FindAllStringSubmatch(h, -1) {
		lv := int(m[1][0] - '0')
		if lv > last+1 {
			t.Errorf("heading h%d follows h%d", lv, last)
		}
		last = lv
	}
}

// TestEscaping: company-supplied text cannot inject markup.
func TestEscaping(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../demo/vow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(src), "name: Stripe", `name: "Stripe <script>alert(1)</script> | x"`, 1)
	p, _ := policy.Parse("vow.yaml", []byte(s))
	if p == nil {
		t.Fatal("policy did not parse")
	}
	r := renderer(t, render.Options{})
	h, _ := r.String(render.HTML, p, render.Meta{})
	if strings.Contains(h, "<script>") {
		t.Error("HTML output contains an unescaped <script> from the policy")
	}
	md, _ := r.String(render.Markdown, p, render.Meta{})
	if row := findRow(md, "Stripe"); !strings.Contains(row, `\| x`) {
		t.Errorf("a | in a table cell is not escaped: %q", row)
	}
}

// TestProtectedOnlyWhenDeclared: "credentials are stored only in protected
// form" is said only when every credential column is declared stored
// encrypted or hashed — the demo keeps AWS key ids in the clear, so its
// policy must not say it — and forbidden categories are stated as what
// the company does not hold.
func TestProtectedOnlyWhenDeclared(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../demo/vow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const sentence = "Passwords and credentials are stored only in protected form"
	r := renderer(t, render.Options{})
	for _, tc := range []struct {
		name, old, new string
		want           bool
	}{
		{"a credential in the clear", "", "", false},
		{"every credential protected", "access_key_id: user.authorization.credentials", "access_key_id: {category: user.authorization.credentials, stored: encrypted}", true},
		{"a credential stored plain", "access_key_id: user.authorization.credentials", "access_key_id: {category: user.authorization.credentials, stored: plain}", false},
	} {
		p, _ := policy.Parse("vow.yaml", []byte(strings.Replace(string(src), tc.old, tc.new, 1)))
		if p == nil {
			t.Fatal("policy did not parse")
		}
		for _, f := range []render.Format{render.HTML, render.Markdown} {
			out, err := r.String(f, p, render.Meta{})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out, sentence) != tc.want {
				t.Errorf("%s (%v): says %q: %v, want %v", tc.name, f, sentence, !tc.want, tc.want)
			}
			if !strings.Contains(out, "We never store payment card numbers in our own systems.") {
				t.Errorf("%s (%v): the forbidden category is not stated", tc.name, f)
			}
		}
	}
}

// TestCatalogComplete: every value the policy vocabulary allows has
// wording, so a valid policy never fails to render.
func TestCatalogComplete(t *testing.T) {
	t.Parallel()
	r := renderer(t, render.Options{})
	var keys []string
	for lb := range taxonomy.LegalBases {
		keys = append(keys, "legal_basis."+lb, "legal_basis_short."+lb)
	}
	for _, x := range policy.RightsList {
		keys = append(keys, "right."+x, "right_short."+x)
	}
	for _, x := range policy.Safeguards {
		keys = append(keys, "safeguard."+x)
	}
	for _, x := range policy.CookieKinds {
		keys = append(keys, "cookie_category."+x)
	}
	for _, x := range policy.Verifications {
		keys = append(keys, "rights.verify_"+x)
	}
	for _, x := range policy.RetentionThens {
		keys = append(keys, "retention.then_"+x)
	}
	for _, u := range []policy.Unit{policy.Hours, policy.Days, policy.Weeks, policy.Months, policy.Years} {
		keys = append(keys, "duration."+string(u))
	}
	for _, k := range keys {
		if !r.Has(k) {
			t.Errorf("messages.yaml has no %s", k)
		}
	}
}

// TestOverride: a company's template directory replaces wording key by
// key, whole templates, and adds languages.
func TestOverride(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("en/messages.yaml", "section:\n  retention: \"Retention schedule\"\n")
	write("de/messages.yaml", "lang: de\ntitle: Datenschutzerklärung\nduration:\n  d: \"{{.}} {{if eq . 1}}Tag{{else}}Tage{{end}}\"\ndays: \"{{.}} Tage\"\nrights:\n  deadline: \"Wir antworten innerhalb von {{.}}.\"\n")
	write("de/summary.md.tmpl", "{{t \"title\"}}: {{t \"rights.deadline\" (t \"days\" .Rights.DeadlineDays)}}\n")
	p := load(t, "../demo/vow.yaml")

	en := renderer(t, render.Options{Dir: dir})
	md, err := en.String(render.Markdown, p, render.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md, "## Retention schedule") || !strings.Contains(md, "## Your rights") {
		t.Errorf("override not merged key by key:\n%s", md[:500])
	}

	de := renderer(t, render.Options{Dir: dir, Lang: "de"})
	sum, err := de.String(render.Summary, p, render.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if sum != "Datenschutzerklärung: Wir antworten innerhalb von 30 Tage.\n" {
		t.Errorf("German summary = %q", sum)
	}
	h, err := de.String(render.HTML, p, render.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h, `<html lang="de">`) || !strings.Contains(h, "30 Tage") {
		t.Error("German HTML lacks lang=de or translated durations")
	}

	write("bad/messages.yaml", "title: \"{{.Broken\"\n")
	if _, err := render.New(render.Options{Dir: dir, Lang: "bad"}); err == nil || !strings.Contains(err.Error(), "messages.yaml: message title") {
		t.Errorf("a broken message: err = %v, want the file and key", err)
	}
	// A language or a directory that is not there is an error, never a
	// quiet English document.
	if _, err := render.New(render.Options{Lang: "xx"}); err == nil || !strings.Contains(err.Error(), `no wording for language "xx"`) {
		t.Errorf("an unknown language: %v; want an error naming it", err)
	}
	if _, err := render.New(render.Options{Dir: filepath.Join(dir, "nonexistent")}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("a missing templates directory: %v; want an error", err)
	}
}

func TestParseFormat(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"md", "html", "summary"} {
		if _, err := render.ParseFormat(s); err != nil {
			t.Error(err)
		}
	}
	if _, err := render.ParseFormat("pdf"); err == nil || !strings.Contains(err.Error(), "md, html or summary") {
		t.Errorf("err = %v", err)
	}
}

func BenchmarkRenderHTML(b *testing.B) {
	p, _, err := policy.Load("../examples/scanner/vow.yaml")
	if err != nil {
		b.Fatal(err)
	}
	r, err := render.New(render.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := r.String(render.HTML, p, render.Meta{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestNoticeGolden pins the change notice email (text and HTML).
func TestNoticeGolden(t *testing.T) {
	t.Parallel()
	r := renderer(t, render.Options{})
	p := load(t, "../demo/vow.yaml")
	subject, text, html, err := r.Notice(render.Notice{
		Org: p.Organization, VersionID: "v2", Effective: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC),
		URL: "https://lumen.example/privacy/versions/v2",
		Changes: []render.Change{
			{Kind: "processor_added", Subject: "Sentry", To: "United States", Material: true},
			{Kind: "retention_longer", Subject: "audit logs", From: "12mo", To: "24mo", Material: true},
			{Kind: "category_added", Subject: "user.contact.phone_number", Material: true},
			{Kind: "right_removed", Subject: "objection", Material: true},
			{Kind: "retention_shorter", Subject: "findings", From: "1y", To: "6mo"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := "Subject: " + subject + "\n\n" + text + "\n----\n" + html
	golden := filepath.Join("testdata", "demo.notice.txt")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./render -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the rendering; run go test ./render -update and review the diff", golden)
	}
}

// TestLaterPromises covers promises no example policy makes yet: a grace
// period before erasure, and a service reached by webhook whose categories
// are collected.
func TestLaterPromises(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../demo/vow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(src), "  deadline_days: 30\n", "  deadline_days: 30\n  erasure_grace: {period: 14d}\n", 1)
	s = strings.Replace(s, "systems:\n", "systems:\n  support:\n    kind: webhook\n    purposes: [service]\n    connection: {env: SUPPORT_SECRET}\n    webhook: {url: \"https://support.example/vow\", identities: [email], categories: [user.contact.phone_number]}\n", 1)
	p, ds := policy.Parse("vow.yaml", []byte(s))
	if p == nil {
		t.Fatalf("parse: %v", ds)
	}
	if errs, _ := ds.Count(); errs > 0 {
		t.Fatalf("parse: %v", ds)
	}
	r := renderer(t, render.Options{})
	md, err := r.String(render.Markdown, p, render.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	sections := splitSections(md)
	if !strings.Contains(sections["Your rights"], "erase it 14 days later") {
		t.Errorf("the erasure grace period is not stated:\n%s", sections["Your rights"])
	}
	if !strings.Contains(sections["Information we collect"], "**Phone number**") {
		t.Errorf("the webhook service's category is not listed:\n%s", sections["Information we collect"])
	}
}
