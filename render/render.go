// Package render turns a policy into the privacy policy people read:
// Markdown, a self-contained accessible HTML page, and a one-screen quick
// summary. It reads the same *policy.Policy that Vow enforces, so each
// retention period, deadline and processor it states is the one enforced.
//
// All wording lives in templates and a message catalog (templates/<lang>/),
// none in Go code: a company overrides any file by putting its own in a
// template directory, and translates by adding a language directory there.
package render

import (
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/template"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/taxonomy"
)

//go:embed templates
var builtin embed.FS

// Format is an output format.
type Format string

// Formats.
const (
	Markdown Format = "md"
	HTML     Format = "html"
	Summary  Format = "summary"
)

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case Markdown, HTML, Summary:
		return f, nil
	}
	return "", fmt.Errorf("render: format must be md, html or summary, not %q", s)
}

// Options choose the wording.
type Options struct {
	// Dir is a template directory whose files replace the built-in ones:
	// <Dir>/<Lang>/messages.yaml (merged key by key over the built-in
	// English), <Dir>/<Lang>/policy.md.tmpl, policy.html.tmpl,
	// summary.md.tmpl, and <Dir>/sources.yaml.
	Dir string
	// Lang is the language directory to use; "en" when empty.
	Lang string
}

// Renderer renders documents with one set of templates.
type Renderer struct {
	lang     string
	messages map[string]string
	sources  []SourceRule
	md       *template.Template
	summary  *template.Template
	html     *htmltemplate.Template
	noticeT  *template.Template
	noticeH  *htmltemplate.Template

	mu     sync.Mutex
	parsed map[string]*template.Template // message templates by key
}

// Template file names.
const (
	fileMessages = "messages.yaml"
	fileSources  = "sources.yaml"
	fileMarkdown = "policy.md.tmpl"
	fileHTML     = "policy.html.tmpl"
	fileSummary  = "summary.md.tmpl"
	fileNoticeT  = "notice.txt.tmpl"
	fileNoticeH  = "notice.html.tmpl"
)

// hasLang reports whether lang has wording: built in, or a directory of
// its own under dir.
func hasLang(dir, lang string) bool {
	if _, err := fs.Stat(builtin, "templates/"+lang); err == nil {
		return true
	}
	if dir == "" {
		return false
	}
	fi, err := os.Stat(filepath.Join(dir, lang))
	return err == nil && fi.IsDir()
}

// builtinLangs lists the languages built in.
func builtinLangs() []string {
	entries, _ := fs.ReadDir(builtin, "templates")
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

// New loads the templates: the built-in English ones, replaced file by
// file by those in opts.Dir.
func New(opts Options) (*Renderer, error) {
	lang := opts.Lang
	if lang == "" {
		lang = "en"
	}
	// A directory or a language that is not there must not quietly give
	// the built-in English.
	if opts.Dir != "" {
		if fi, err := os.Stat(opts.Dir); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("render: templates directory %s does not exist (or is not a directory)", opts.Dir)
		}
	}
	if !hasLang(opts.Dir, lang) {
		return nil, fmt.Errorf("render: no wording for language %q: the built-in templates are in %s; add %s/messages.yaml to a --templates directory", lang, strings.Join(builtinLangs(), ", "), lang)
	}
	r := &Renderer{lang: lang, messages: map[string]string{}, parsed: map[string]*template.Template{}}
	// read returns the first of: Dir/lang/name, built-in lang/name, built-in en/name.
	read := func(name string, langDir bool) ([]byte, string, error) {
		rel := name
		if langDir {
			rel = lang + "/" + name
		}
		if opts.Dir != "" {
			p := filepath.Join(opts.Dir, filepath.FromSlash(rel))
			b, err := os.ReadFile(p)
			if err == nil {
				return b, p, nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return nil, "", fmt.Errorf("render: %w", err)
			}
		}
		for _, l := range []string{lang, "en"} {
			p := "templates/" + name
			if langDir {
				p = "templates/" + l + "/" + name
			}
			if b, err := builtin.ReadFile(p); err == nil {
				return b, "built-in " + strings.TrimPrefix(p, "templates/"), nil
			}
		}
		return nil, "", fmt.Errorf("render: no %s for language %q", name, lang)
	}

	// Messages: built-in English first, then the language's, then the override's.
	layers := []struct {
		fsys fs.FS
		path string
	}{{builtin, "templates/en/" + fileMessages}, {builtin, "templates/" + lang + "/" + fileMessages}}
	if opts.Dir != "" {
		layers = append(layers, struct {
			fsys fs.FS
			path string
		}{os.DirFS(opts.Dir), lang + "/" + fileMessages})
	}
	for i, l := range layers {
		if i == 1 && lang == "en" {
			continue
		}
		b, err := fs.ReadFile(l.fsys, l.path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("render: %w", err)
		}
		name := l.path
		if l.fsys != builtin {
			name = filepath.Join(opts.Dir, filepath.FromSlash(l.path))
		}
		if err := r.loadMessages(name, b); err != nil {
			return nil, err
		}
	}

	b, name, err := read(fileSources, false)
	if err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(b, &r.sources); err != nil {
		return nil, fmt.Errorf("render: %s: %v", name, err)
	}

	funcs := r.funcs()
	if b, name, err = read(fileMarkdown, true); err != nil {
		return nil, err
	}
	if r.md, err = template.New(name).Funcs(funcs).Option("missingkey=error").Parse(string(b)); err != nil {
		return nil, fmt.Errorf("render: %v", err)
	}
	if b, name, err = read(fileSummary, true); err != nil {
		return nil, err
	}
	if r.summary, err = template.New(name).Funcs(funcs).Option("missingkey=error").Parse(string(b)); err != nil {
		return nil, fmt.Errorf("render: %v", err)
	}
	if b, name, err = read(fileHTML, true); err != nil {
		return nil, err
	}
	if r.html, err = htmltemplate.New(name).Funcs(htmltemplate.FuncMap(funcs)).Option("missingkey=error").Parse(string(b)); err != nil {
		return nil, fmt.Errorf("render: %v", err)
	}
	if b, name, err = read(fileNoticeT, true); err != nil {
		return nil, err
	}
	if r.noticeT, err = template.New(name).Funcs(funcs).Option("missingkey=error").Parse(string(b)); err != nil {
		return nil, fmt.Errorf("render: %v", err)
	}
	if b, name, err = read(fileNoticeH, true); err != nil {
		return nil, err
	}
	if r.noticeH, err = htmltemplate.New(name).Funcs(htmltemplate.FuncMap(funcs)).Option("missingkey=error").Parse(string(b)); err != nil {
		return nil, fmt.Errorf("render: %v", err)
	}
	return r, nil
}

// loadMessages flattens a YAML catalog into dotted keys over r.messages.
func (r *Renderer) loadMessages(name string, b []byte) error {
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("render: %s: %v", name, err)
	}
	var walk func(prefix string, v any) error
	walk = func(prefix string, v any) error {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if err := walk(strings.TrimPrefix(prefix+"."+k, "."), x); err != nil {
					return err
				}
			}
		case string:
			if _, err := template.New(prefix).Funcs(r.funcs()).Parse(v); err != nil {
				return fmt.Errorf("render: %s: message %s: %v", name, prefix, err)
			}
			r.messages[prefix] = v
		default:
			return fmt.Errorf("render: %s: message %s must be a string, not %T", name, prefix, v)
		}
		return nil
	}
	return walk("", m)
}

// Message returns the catalog message key with arg as ".", or an error
// naming the missing key.
func (r *Renderer) Message(key string, arg any) (string, error) {
	r.mu.Lock()
	t, ok := r.parsed[key]
	if !ok {
		src, found := r.messages[key]
		if !found {
			r.mu.Unlock()
			return "", fmt.Errorf("render: no message %q in the catalog", key)
		}
		t = template.Must(template.New(key).Funcs(r.funcs()).Parse(src)) // checked in loadMessages
		r.parsed[key] = t
	}
	r.mu.Unlock()
	var b strings.Builder
	if err := t.Execute(&b, arg); err != nil {
		return "", fmt.Errorf("render: message %s: %v", key, err)
	}
	return b.String(), nil
}

// Has reports whether the catalog has a message.
func (r *Renderer) Has(key string) bool {
	_, ok := r.messages[key]
	return ok
}

// Keys lists the catalog's message keys, sorted.
func (r *Renderer) Keys() []string {
	keys := make([]string, 0, len(r.messages))
	for k := range r.messages {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (r *Renderer) funcs() template.FuncMap {
	t := func(key string, args ...any) (string, error) {
		var arg any
		if len(args) > 0 {
			arg = args[0]
		}
		return r.Message(key, arg)
	}
	return template.FuncMap{
		"t":   t,
		"has": r.Has,
		"dur": func(d policy.Duration) (string, error) {
			if d.IsZero() {
				return "", nil
			}
			return r.Message("duration."+string(d.Unit), d.N)
		},
		// durs formats a duration written as in vow.yaml ("30d").
		"durs": func(s string) (string, error) {
			d, err := policy.ParseDuration(s)
			if err != nil {
				return s, nil
			}
			return r.Message("duration."+string(d.Unit), d.N)
		},
		// category words a category key: the catalog's title, else the taxonomy's.
		"category": func(key string) string {
			if m, err := r.Message("category."+key, nil); err == nil {
				return m
			}
			if c, ok := taxonomy.Lookup(key); ok {
				return c.Name
			}
			return key
		},
		"titles": func(cs []CategoryRef) (string, error) {
			if len(cs) == 0 {
				return r.Message("all_data", nil)
			}
			sep, err := r.Message("list_sep", nil)
			if err != nil {
				return "", err
			}
			names := make([]string, len(cs))
			for i, c := range cs {
				names[i] = c.Title
			}
			return strings.Join(names, sep), nil
		},
		"join": func(list []string) (string, error) {
			sep, err := r.Message("list_sep", nil)
			return strings.Join(list, sep), err
		},
		// cell escapes text for a Markdown table cell.
		"cell": func(s string) string {
			s = strings.ReplaceAll(s, "|", `\|`)
			return strings.Join(strings.Fields(s), " ")
		},
		// prefixed translates each key as the message prefix+key.
		"prefixed": func(prefix string, keys []string) ([]string, error) {
			out := make([]string, len(keys))
			for i, k := range keys {
				m, err := r.Message(prefix+k, nil)
				if err != nil {
					return nil, err
				}
				out[i] = m
			}
			return out, nil
		},
		"processorNames": func(ps []Processor) []string {
			out := make([]string, len(ps))
			for i, p := range ps {
				out[i] = p.Name
			}
			return out
		},
		"cookieKinds": func(cs []Cookie) []string {
			var out []string
			for _, c := range cs {
				if !slices.Contains(out, c.Category) {
					out = append(out, c.Category)
				}
			}
			return out
		},
		"consentUses": func(us []Use) []Use {
			var out []Use
			for _, u := range us {
				if u.LegalBasis == "consent" {
					out = append(out, u)
				}
			}
			return out
		},
		"useTitles": func(us []Use) []string {
			out := make([]string, len(us))
			for i, u := range us {
				out[i] = strings.ToLower(u.Title)
			}
			return out
		},
		// listAnd and listOr join a list as a sentence does: "a, b and c".
		"listAnd": func(list []string) (string, error) { return r.joinLast(list, "list_and") },
		"listOr":  func(list []string) (string, error) { return r.joinLast(list, "list_or") },
		// phrases names categories inside a sentence: the catalog's
		// phrase.<key> ("payment card numbers"), else the title with a
		// lower-case initial, joined with "and".
		"phrases": func(cs []CategoryRef) (string, error) {
			out := make([]string, len(cs))
			for i, c := range cs {
				if m, err := r.Message("phrase."+c.Key, nil); err == nil {
					out[i] = m
				} else {
					out[i] = lowerFirst(c.Title)
				}
			}
			return r.joinLast(out, "list_and")
		},
		// since words what a retention period runs from: the policy's own
		// words (after:), the catalog's wording of a well-known column,
		// else the column's name put into words — never the name itself.
		"since": func(x Retention) (string, error) {
			if x.After != "" {
				return r.Message("retention.after", bare(x.After))
			}
			if r.Has("retention.from_column." + x.From) {
				return r.Message("retention.from_column."+x.From, nil)
			}
			event, past := columnWords(x.From)
			if past {
				return r.Message("retention.from_event", event)
			}
			return r.Message("retention.from", event)
		},
		// ages words the minimum ages: by region, then elsewhere.
		"ages": func(d *Document) (string, error) {
			var parts []string
			for _, a := range d.MinimumAges {
				m, err := r.Message("children.age_in", a)
				if err != nil {
					return "", err
				}
				parts = append(parts, m)
			}
			if d.MinimumAge > 0 {
				key := "children.age_elsewhere"
				if len(parts) == 0 {
					key = "children.age_all"
				}
				m, err := r.Message(key, d.MinimumAge)
				if err != nil {
					return "", err
				}
				parts = append(parts, m)
			}
			return r.joinLast(parts, "list_or")
		},
		// bare drops a closing full stop from policy text that a message
		// punctuates itself; stop ends policy text with exactly one.
		"bare":  bare,
		"stop":  func(s string) string { return stopped(s) },
		"lower": strings.ToLower,
		"add":   func(a, b int) int { return a + b },
	}
}

// joinLast joins a list with list_sep, the last two with the message
// last (" and ", " or ").
func (r *Renderer) joinLast(list []string, last string) (string, error) {
	if len(list) < 2 {
		return strings.Join(list, ""), nil
	}
	sep, err := r.Message("list_sep", nil)
	if err != nil {
		return "", err
	}
	end, err := r.Message(last, nil)
	if err != nil {
		return "", err
	}
	return strings.Join(list[:len(list)-1], sep) + end + list[len(list)-1], nil
}

// bare trims the closing full stop of a text a message punctuates, so
// that no sentence ends "..".
func bare(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "...") {
		return s
	}
	return strings.TrimRight(s, ".")
}

// stopped ends a text with a full stop unless it ends a sentence already.
func stopped(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

func lowerFirst(s string) string {
	rs := []rune(s)
	// An initialism keeps its capitals: "IP address", "VAT number".
	if len(rs) > 1 && unicode.IsUpper(rs[1]) {
		return s
	}
	if len(rs) > 0 {
		rs[0] = unicode.ToLower(rs[0])
	}
	return string(rs)
}

// columnWords puts a timestamp column's name into words for the retention
// messages: resolved_at gives ("resolved", true), a past participle the
// catalog words as an event ("after it is resolved"); period_end_date
// gives ("period end", false), worded as a date ("after the period end").
func columnWords(col string) (string, bool) {
	stem := col
	for _, suf := range []string{"_at", "_on", "_date", "_time", "_ts"} {
		if s, ok := strings.CutSuffix(stem, suf); ok && s != "" {
			stem = s
			break
		}
	}
	w := strings.Fields(strings.ReplaceAll(stem, "_", " "))
	if len(w) == 0 {
		return col, false
	}
	return strings.Join(w, " "), strings.HasSuffix(w[len(w)-1], "ed")
}

// Meta is what a published version adds to the document.
type Meta struct {
	VersionID string
	// Effective replaces the policy's notices.effective when set.
	Effective time.Time
}

// Document builds the document for p with this renderer's source groups
// and catalog titles.
func (r *Renderer) Document(p *policy.Policy, m Meta) *Document {
	d := Build(p, r.sources, func(key string) string {
		s, _ := r.Message("category."+key, nil)
		return s
	})
	d.VersionID = m.VersionID
	if !m.Effective.IsZero() {
		d.Effective = m.Effective
	}
	return d
}

// Render writes p in format f.
func (r *Renderer) Render(w io.Writer, f Format, p *policy.Policy, m Meta) error {
	return r.RenderDocument(w, f, r.Document(p, m))
}

// RenderDocument writes d in format f.
func (r *Renderer) RenderDocument(w io.Writer, f Format, d *Document) error {
	var err error
	switch f {
	case Markdown:
		err = r.md.Execute(w, d)
	case Summary:
		err = r.summary.Execute(w, d)
	case HTML:
		err = r.html.Execute(w, d)
	default:
		_, err = ParseFormat(string(f))
		return err
	}
	if err != nil {
		return fmt.Errorf("render: %v", err)
	}
	return nil
}

// String renders p in format f to a string.
func (r *Renderer) String(f Format, p *policy.Policy, m Meta) (string, error) {
	var b strings.Builder
	err := r.Render(&b, f, p, m)
	return b.String(), err
}

// Lang is the renderer's language.
func (r *Renderer) Lang() string { return r.lang }

// Change is one change in meaning between two versions, as the catalog
// words it (message change.<Kind>, with the Change as ".").
type Change struct {
	Kind     string
	Subject  string
	From, To string
	Material bool
}

// DescribeChange words a change for readers.
func (r *Renderer) DescribeChange(c Change) (string, error) {
	return r.Message("change."+c.Kind, c)
}

// Notice is a notice of a material change to the policy.
type Notice struct {
	Org       policy.Organization
	VersionID string
	Effective time.Time
	URL       string // where the new version can be read
	Changes   []Change
}

// Notice renders a change notice: its subject line, plain text and HTML.
func (r *Renderer) Notice(n Notice) (subject, text, html string, err error) {
	if subject, err = r.Message("notice.subject", n); err != nil {
		return "", "", "", err
	}
	var tb, hb strings.Builder
	if err := r.noticeT.Execute(&tb, n); err != nil {
		return "", "", "", fmt.Errorf("render: %v", err)
	}
	if err := r.noticeH.Execute(&hb, n); err != nil {
		return "", "", "", fmt.Errorf("render: %v", err)
	}
	return subject, tb.String(), hb.String(), nil
}
