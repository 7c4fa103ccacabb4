package breach

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vowprivacy/vow/policy"
)

// Draft is a notice drafted from the register and the policy, to be read,
// completed and sent by a person: Vow does not send it.
type Draft struct {
	To      Party  `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	// Missing names what the draft could not fill and marks "TO COMPLETE"
	// in the text; a notice should not go out while it is not empty.
	Missing []string `json:"missing"`
}

// toComplete marks what a person must still write.
const toComplete = "[TO COMPLETE: "

// Draft drafts the notice of an incident to the supervisory authority
// (with each element of GDPR Art. 33(3), and the reasons for a delay,
// Art. 33(1)) or to the subjects (Art. 34(2), in plain words).
func (r *Register) Draft(ctx context.Context, id string, to Party) (*Draft, error) {
	inc, err := r.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	w := &writer{p: r.Policy, inc: inc}
	switch to {
	case Authority:
		w.authority(r.now())
	case Subjects:
		w.subjects()
	default:
		return nil, inputErr("to", "%q is not authority or subjects", to)
	}
	return &Draft{To: to, Subject: w.subject, Text: w.b.String(), Missing: w.missing}, nil
}

type writer struct {
	p       *policy.Policy
	inc     *Incident
	b       strings.Builder
	subject string
	missing []string
}

func (w *writer) line(format string, args ...any) {
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteByte('\n')
}

// or is v, or a TO COMPLETE mark for what (recorded as missing).
func (w *writer) or(v, what string) string {
	if strings.TrimSpace(v) != "" {
		return v
	}
	w.missing = append(w.missing, what)
	return toComplete + what + "]"
}

func (w *writer) controller() string {
	o := w.p.Organization
	s := cmp.Or(o.LegalName, o.Name)
	if o.Address != "" {
		s += ", " + o.Address
	}
	return s
}

// contact is Art. 33(3)(b): the DPO, else the privacy contact.
func (w *writer) contact() string {
	c := w.p.Organization.Contacts
	if c.DPO != nil {
		s := c.DPO.Email
		if c.DPO.Name != "" {
			s = c.DPO.Name + " <" + c.DPO.Email + ">"
		}
		return s + ", data protection officer"
	}
	return w.or(c.Privacy, "contact point (contacts.dpo or contacts.privacy)") + " (no data protection officer is declared: contacts.dpo)"
}

func (w *writer) categories() string {
	var names []string
	cats := w.inc.Categories
	if len(cats) == 0 && w.inc.Affected != nil {
		seen := map[string]bool{}
		for _, t := range w.inc.Affected.Tables {
			for _, c := range t.Categories {
				if !seen[c] {
					seen[c] = true
					cats = append(cats, c)
				}
			}
		}
	}
	for _, c := range cats {
		if cat, ok := w.p.Category(c); ok && cat.Name != "" {
			names = append(names, fmt.Sprintf("%s (%s)", cat.Name, c))
		} else {
			names = append(names, c)
		}
	}
	return w.or(strings.Join(names, "; "), "categories of personal data concerned (incident categories, or count the affected systems)")
}

func day(t time.Time) string { return t.UTC().Format("2 January 2006, 15:04 UTC") }

func (w *writer) authority(now time.Time) {
	inc := w.inc
	w.subject = fmt.Sprintf("Notification of a personal data breach — %s — %s", cmp.Or(w.p.Organization.LegalName, w.p.Organization.Name), inc.ID)
	w.line("# %s", w.subject)
	w.line("")
	w.line("Notification under Article 33 of the General Data Protection Regulation. Draft of %s; reference %s.", day(now), inc.ID)
	w.line("")
	w.line("**Controller:** %s", w.controller())
	w.line("")
	w.line("## 1. Nature of the breach (Art. 33(3)(a))")
	w.line("")
	w.line("**What happened:** %s. %s", inc.Title, w.or(inc.Description, "description of what happened and how"))
	w.line("")
	occurred := "not yet known"
	if inc.Occurred != nil {
		occurred = day(*inc.Occurred)
	}
	w.line("**When:** it began %s; we became aware of it %s.", occurred, day(inc.Discovered))
	w.line("")
	var systems []string
	for _, s := range inc.Systems {
		if sys := w.p.System(s); sys != nil {
			d := s
			if sys.Description != "" {
				d += " — " + sys.Description
			}
			if sys.Location != "" {
				d += " (" + sys.Location + ")"
			}
			systems = append(systems, d)
		}
	}
	w.line("**Systems affected:** %s", w.or(strings.Join(systems, "; "), "systems affected"))
	w.line("")
	w.line("**Categories of personal data concerned:** %s", w.categories())
	w.line("")
	if a := inc.Affected; a != nil {
		var kinds []string
		for _, k := range a.Subjects {
			kinds = append(kinds, fmt.Sprintf("%s: about %d", k.Kind, k.Count))
		}
		w.line("**Categories and approximate number of data subjects concerned:** %s — about %d in all (counted %s from the affected systems; an upper bound: everyone whose data is held in an affected table).",
			w.or(strings.Join(kinds, "; "), "categories of data subjects"), a.TotalSubjects, day(a.CountedAt))
		w.line("")
		w.line("**Approximate number of personal data records concerned:** about %d records in %d tables.", a.Records, len(a.Tables))
		for _, t := range a.Tables {
			w.line("- %s:%s — %d records (%s)", t.System, t.Table, t.Rows, strings.Join(t.Categories, ", "))
		}
		if len(a.Unknown) > 0 {
			w.line("")
			w.line("Not counted: %s.", strings.Join(a.Unknown, "; "))
		}
	} else {
		w.line("**Categories and approximate number of data subjects and of records concerned:** %s", w.or("", "numbers of subjects and records (vow incident assess counts them from the affected systems)"))
	}
	w.line("")
	w.line("## 2. Contact point (Art. 33(3)(b))")
	w.line("")
	w.line("%s", w.contact())
	w.line("")
	w.line("## 3. Likely consequences (Art. 33(3)(c))")
	w.line("")
	w.line("%s", w.or(inc.Consequences, "the likely consequences of the breach for the people concerned"))
	w.line("")
	w.line("## 4. Measures taken or proposed (Art. 33(3)(d))")
	w.line("")
	w.line("%s", w.or(inc.Measures, "the measures taken or proposed to address the breach and to mitigate its possible adverse effects"))
	w.line("")
	w.line("## 5. Timing (Art. 33(1))")
	w.line("")
	if now.After(inc.Deadline) {
		w.line("This notification comes %s after the %d-hour deadline (%s). Reasons for the delay: %s",
			now.Sub(inc.Deadline).Round(time.Hour), int(inc.Deadline.Sub(inc.Discovered).Hours()), day(inc.Deadline), w.or(inc.DelayReason, "the reasons for the delay (Art. 33(1))"))
	} else {
		w.line("Notified within %d hours of becoming aware of the breach (deadline %s).", int(inc.Deadline.Sub(inc.Discovered).Hours()), day(inc.Deadline))
	}
	w.line("")
	w.line("## 6. Risk and communication to the data subjects (Art. 34)")
	w.line("")
	switch inc.Risk {
	case High:
		w.line("We assess the breach as likely to result in a high risk to the rights and freedoms of the people concerned; we are informing them directly.")
	case AtRisk:
		w.line("We assess the breach as a risk, but not a high risk, to the rights and freedoms of the people concerned; we do not plan to inform them individually.")
	case Unlikely:
		w.line("We assess the breach as unlikely to result in a risk to the rights and freedoms of the people concerned.")
	default:
		w.line("%s", w.or("", "the risk assessment (unlikely, risk or high), which decides whether the people concerned are told"))
	}
}

func (w *writer) subjects() {
	inc, org := w.inc, w.p.Organization.Name
	w.subject = fmt.Sprintf("Important: a security incident involving your %s data", org)
	w.line("Subject: %s", w.subject)
	w.line("")
	w.line("Hello,")
	w.line("")
	w.line("We are writing to tell you about a security incident at %s that involves information about you.", org)
	w.line("")
	w.line("**What happened.** On %s we discovered the following: %s. %s", inc.Discovered.UTC().Format("2 January 2006"), inc.Title, w.or(inc.Description, "what happened, in plain words"))
	w.line("")
	w.line("**What information was involved.** %s", w.categories())
	w.line("")
	w.line("**What this may mean for you.** %s", w.or(inc.Consequences, "the likely consequences for the person, in plain words"))
	w.line("")
	w.line("**What we are doing.** %s", w.or(inc.Measures, "the measures taken, and what the person can do to protect themselves"))
	w.line("")
	w.line("**Questions.** Write to %s.", w.contact())
	w.line("")
	w.line("We are sorry this happened.")
	w.line("")
	w.line("%s", cmp.Or(w.p.Organization.LegalName, org))
}
