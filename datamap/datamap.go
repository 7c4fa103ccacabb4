// Package datamap summarizes what a policy declares, for people: which
// personal data lives where, why it is processed, who receives it, how long
// it is kept and what erasure does to it. It is what `vow demo` and
// `vow check` show; the full privacy-policy document is rendered elsewhere.
package datamap

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/taxonomy"
)

// TableSummary is one table in the map.
type TableSummary struct {
	System     string   `json:"system"`
	Table      string   `json:"table"`
	Subject    string   `json:"subject,omitempty"`
	Categories []string `json:"categories"`
	Erasure    string   `json:"erasure"`
	Retention  []string `json:"retention"`
	Rows       int64    `json:"rows,omitempty"`
}

// Map is a policy's data map.
type Map struct {
	Organization string         `json:"organization"`
	Tables       []TableSummary `json:"tables"`
	Purposes     []string       `json:"purposes"`
	Processors   []string       `json:"processors"`
	Rights       string         `json:"rights"`
	Consent      []string       `json:"consent"`
}

// Build summarizes p. rows, if given, adds row counts keyed "system:table".
func Build(p *policy.Policy, rows map[string]int64) *Map {
	m := &Map{Organization: p.Organization.Name}
	if p.Organization.LegalName != "" {
		m.Organization = p.Organization.LegalName
	}
	rules := map[string][]string{}
	for _, r := range p.Retention.Rules {
		s, t := p.LookupTable(policy.ParseTableRef(r.Table), nil)
		if t == nil {
			continue
		}
		what := r.Keep.Human() + " from " + r.From
		if r.Where != "" {
			what = r.Name + ": " + what
		}
		rules[s.Name+":"+t.Name] = append(rules[s.Name+":"+t.Name], what)
	}
	for _, s := range p.Systems {
		for _, t := range s.Tables {
			ts := TableSummary{System: s.Name, Table: t.Name, Subject: t.Subject, Retention: rules[s.Name+":"+t.Name], Rows: rows[s.Name+":"+t.Name]}
			for _, f := range t.Fields {
				if c, ok := p.Category(f.Category); ok && c.Personal && !slices.Contains(ts.Categories, label(c)) {
					ts.Categories = append(ts.Categories, label(c))
				}
			}
			ts.Erasure = erasure(p, t)
			if len(ts.Retention) == 0 && t.Erase != nil && t.Erase.Method == policy.Hold {
				ts.Retention = []string{t.Erase.For.Human() + " (legal hold)"}
			}
			m.Tables = append(m.Tables, ts)
		}
	}
	for _, x := range p.Purposes {
		s := fmt.Sprintf("%s (%s", title(x.Name, x.Title), strings.ToLower(taxonomy.LegalBases[x.LegalBasis]))
		if x.Essential {
			s += ", essential"
		}
		m.Purposes = append(m.Purposes, s+")")
	}
	for _, pr := range p.Processors {
		m.Processors = append(m.Processors, fmt.Sprintf("%s — %s — %s — %s", pr.Name, strings.Join(pr.Purposes, ", "), strings.Join(pr.Categories, ", "), pr.Location))
	}
	m.Rights = fmt.Sprintf("%s — answered within %d days", strings.Join(p.Rights.Offered, ", "), p.DeadlineDays())
	if p.Rights.Verification != "" {
		m.Rights += ", identity verified by " + strings.ReplaceAll(p.Rights.Verification, "_", " ")
	}
	for _, c := range p.Consent.Purposes {
		s := c.Name + " (" + strings.ReplaceAll(c.Mode, "_", "-")
		if c.GPC {
			s += ", honours Global Privacy Control"
		}
		m.Consent = append(m.Consent, s+")")
	}
	return m
}

func label(c taxonomy.Category) string {
	if c.Name != "" {
		return strings.ToLower(c.Name)
	}
	return c.Key
}

func title(key, t string) string {
	if t != "" {
		return t
	}
	return key
}

func erasure(p *policy.Policy, t *policy.Table) string {
	if t.Erase != nil {
		if t.Erase.Method == policy.Hold {
			return "kept " + t.Erase.For.Human() + " (legal hold)"
		}
		return "rows deleted"
	}
	var parts []string
	for _, f := range t.Fields {
		if f.Erase != nil {
			parts = append(parts, f.Name+" "+string(f.Erase.Method))
		}
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, ", ")
}

// WriteText prints the map for a terminal.
func (m *Map) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "Data map of %s\n\n", m.Organization)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tROWS\tSUBJECT\tPERSONAL DATA\tON ERASURE\tRETENTION")
	for _, t := range m.Tables {
		rows := ""
		if t.Rows > 0 {
			rows = fmt.Sprint(t.Rows)
		}
		ret := strings.Join(t.Retention, "; ")
		if ret == "" {
			ret = "with its parent"
		}
		cats := strings.Join(t.Categories, ", ")
		if cats == "" {
			cats = "—"
		}
		fmt.Fprintf(tw, "%s:%s\t%s\t%s\t%s\t%s\t%s\n", t.System, t.Table, rows, dash(t.Subject), cats, t.Erasure, ret)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	section := func(name string, items []string) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s:\n", name)
		for _, it := range items {
			fmt.Fprintf(w, "  - %s\n", it)
		}
	}
	section("Purposes", m.Purposes)
	section("Processors", m.Processors)
	section("Consent", m.Consent)
	fmt.Fprintf(w, "\nRights: %s\n", m.Rights)
	return nil
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
