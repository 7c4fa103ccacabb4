package main

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vowprivacy/vow/breach"
	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/mailer"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/state"
)

// newRegister wires the breach register for the CLI, the server and the
// tests alike.
func newRegister(p *policy.Policy, policyFile string, s *state.Store) *breach.Register {
	return &breach.Register{Store: s, Policy: p, Datastores: datastore.Resolver{BaseDir: filepath.Dir(policyFile)}}
}

// incidentAlerter sends deadline warnings: always to the log; by email to
// the policy's security contact and DPO when $VOW_SMTP_URL is set; to
// $VOW_INCIDENT_WEBHOOK, signed with $VOW_INCIDENT_WEBHOOK_SECRET.
func incidentAlerter(p *policy.Policy, logger *slog.Logger) (*breach.Alerter, error) {
	al := &breach.Alerter{Logger: logger}
	m, err := mailer.FromEnv()
	switch {
	case err == nil:
		al.Mail = m
		c := p.Organization.Contacts
		al.To = slices.DeleteFunc([]string{cmp.Or(c.Security, c.Privacy), dpoEmail(c)}, func(s string) bool { return s == "" })
	case !errors.Is(err, mailer.ErrNotConfigured):
		return nil, err
	}
	if u := os.Getenv("VOW_INCIDENT_WEBHOOK"); u != "" {
		secret := os.Getenv("VOW_INCIDENT_WEBHOOK_SECRET")
		if secret == "" {
			return nil, fmt.Errorf("VOW_INCIDENT_WEBHOOK is set but VOW_INCIDENT_WEBHOOK_SECRET is not: the receiver checks each warning's signature with it")
		}
		al.Webhook, al.Secret, al.Client = u, []byte(secret), vowWebhooks()
	}
	return al, nil
}

func dpoEmail(c policy.Contacts) string {
	if c.DPO != nil {
		return c.DPO.Email
	}
	return ""
}

func (a *app) incidentCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "incident",
		Short: "The breach register: record incidents, count who they touched, draft the notices, meet the deadline",
		Long: `The breach register (GDPR Art. 33(5)) records each personal-data breach: what
happened, when it was discovered, the systems and categories it touched. Vow
starts the clock to tell the supervisory authority (discovery +
notices.breach_notice_hours, 72 by default), counts the subjects and records in
the declared systems, drafts the notice to the authority (each element of
Art. 33(3)) and to the subjects (Art. 34), and warns as the deadline nears
(vow serve checks every minute; vow incident check once). Each step is an entry
of the audit log.`,
		Example: `  vow incident open --title "Laptop with a DB export stolen" --system app --category user.contact
  vow incident assess inc_3f2a…
  vow incident update inc_3f2a… --risk high --consequences "…" --measures "…"
  vow incident draft inc_3f2a… --to authority > notice.md
  vow incident notified inc_3f2a… --to authority --reference "case 2026-114"
  vow incident close inc_3f2a…`,
	}
	with := func(run func(cmd *cobra.Command, r *breach.Register, args []string) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			file := a.policy
			p, err := a.loadValidPolicy(file)
			if err != nil {
				return err
			}
			s, err := a.openState(cmd)
			if err != nil {
				return err
			}
			defer s.Close()
			return run(cmd, newRegister(p, file, s), args)
		}
	}
	by := func() string { return "cli:" + cmp.Or(osUser(), "unknown") }
	show := func(inc *breach.Incident, err error) error {
		if err != nil {
			return err
		}
		return a.showIncident(inc)
	}

	var n breach.New
	var discovered, occurred, risk string
	open := &cobra.Command{
		Use:   "open",
		Short: "Record a new incident and start its deadline",
		Args:  cobra.NoArgs,
		RunE: with(func(cmd *cobra.Command, r *breach.Register, _ []string) (err error) {
			if n.Discovered, err = parseInstant("--discovered", discovered); err != nil {
				return err
			}
			if n.Occurred, err = parseInstant("--occurred", occurred); err != nil {
				return err
			}
			n.Risk, n.By = breach.Risk(risk), by()
			return show(r.Open(cmd.Context(), n))
		}),
	}
	open.Flags().StringVar(&n.Title, "title", "", "what happened, in a few words (required)")
	open.Flags().StringVar(&n.Description, "description", "", "what happened and how")
	open.Flags().StringVar(&discovered, "discovered", "", "when you became aware of it (RFC 3339 or YYYY-MM-DD; default now): the deadline runs from it")
	open.Flags().StringVar(&occurred, "occurred", "", "when the breach began, if known")
	open.Flags().StringArrayVar(&n.Systems, "system", nil, "a system of the policy it touched; repeat")
	open.Flags().StringArrayVar(&n.Categories, "category", nil, "a data category it touched (user.contact covers user.contact.email); repeat; default every personal category of the systems")
	open.Flags().StringVar(&risk, "risk", "", "unlikely, risk or high (default unassessed)")
	open.Flags().StringVar(&n.Consequences, "consequences", "", "likely consequences for the people concerned")
	open.Flags().StringVar(&n.Measures, "measures", "", "measures taken or proposed")
	_ = open.MarkFlagRequired("title")

	var all bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the incidents still open (all with --all)",
		Args:  cobra.NoArgs,
		RunE: with(func(cmd *cobra.Command, r *breach.Register, _ []string) error {
			incs, err := r.List(cmd.Context(), all)
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.json(map[string]any{"incidents": incs})
			}
			if len(incs) == 0 {
				fmt.Fprintln(a.stdout, "no incidents")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATUS\tRISK\tDISCOVERED\tDEADLINE\tTITLE")
			for _, inc := range incs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", inc.ID, inc.Status, inc.Risk, inc.Discovered.Format(time.RFC3339), deadlineText(&inc, time.Now()), inc.Title)
			}
			return tw.Flush()
		}),
	}
	list.Flags().BoolVar(&all, "all", false, "include closed incidents")

	showCmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show an incident: where it stands and what is left to do",
		Args:  cobra.ExactArgs(1),
		RunE: with(func(cmd *cobra.Command, r *breach.Register, args []string) error {
			return show(r.Get(cmd.Context(), args[0]))
		}),
	}

	var c breach.Change
	var desc, cons, meas, delay, occ2, risk2 string
	var systems, categories []string
	update := &cobra.Command{
		Use:   "update ID",
		Short: "Record what has been learned: description, scope, risk, consequences, measures, reasons for a delay",
		Args:  cobra.ExactArgs(1),
		RunE: with(func(cmd *cobra.Command, r *breach.Register, args []string) error {
			f := cmd.Flags()
			set := func(name string, v *string, dst **string) {
				if f.Changed(name) {
					*dst = v
				}
			}
			set("description", &desc, &c.Description)
			set("consequences", &cons, &c.Consequences)
			set("measures", &meas, &c.Measures)
			set("delay-reason", &delay, &c.DelayReason)
			if f.Changed("risk") {
				rk := breach.Risk(risk2)
				c.Risk = &rk
			}
			if f.Changed("occurred") {
				t, err := parseInstant("--occurred", occ2)
				if err != nil {
					return err
				}
				c.Occurred = &t
			}
			if f.Changed("system") {
				c.Systems = &systems
			}
			if f.Changed("category") {
				c.Categories = &categories
			}
			c.By = by()
			return show(r.Update(cmd.Context(), args[0], c))
		}),
	}
	update.Flags().StringVar(&desc, "description", "", "what happened and how")
	update.Flags().StringVar(&cons, "consequences", "", "likely consequences for the people concerned")
	update.Flags().StringVar(&meas, "measures", "", "measures taken or proposed")
	update.Flags().StringVar(&delay, "delay-reason", "", "why the authority is told after the deadline (Art. 33(1))")
	update.Flags().StringVar(&risk2, "risk", "", "unlikely, risk or high")
	update.Flags().StringVar(&occ2, "occurred", "", "when the breach began")
	update.Flags().StringArrayVar(&systems, "system", nil, "the systems it touched (replaces the list); repeat")
	update.Flags().StringArrayVar(&categories, "category", nil, "the categories it touched (replaces the list); repeat")

	contain := &cobra.Command{
		Use:   "contain ID",
		Short: "Record that the breach has been stopped",
		Args:  cobra.ExactArgs(1),
		RunE: with(func(cmd *cobra.Command, r *breach.Register, args []string) error {
			return show(r.Contain(cmd.Context(), args[0], by()))
		}),
	}
	assess := &cobra.Command{
		Use:   "assess ID",
		Short: "Count the subjects and records the incident touched, in the declared systems",
		Args:  cobra.ExactArgs(1),
		RunE: with(func(cmd *cobra.Command, r *breach.Register, args []string) error {
			return show(r.Assess(cmd.Context(), args[0], by()))
		}),
	}

	var to, at, reference string
	notified := &cobra.Command{
		Use:   "notified ID --to authority|subjects",
		Short: "Record that the supervisory authority or the subjects were told",
		Args:  cobra.ExactArgs(1),
		RunE: with(func(cmd *cobra.Command, r *breach.Register, args []string) error {
			t, err := parseInstant("--at", at)
			if err != nil {
				return err
			}
			return show(r.Notify(cmd.Context(), args[0], breach.Notification{To: breach.Party(to), At: t, Reference: reference, By: by()}))
		}),
	}
	notified.Flags().StringVar(&to, "to", "", "authority or subjects (required)")
	notified.Flags().StringVar(&at, "at", "", "when (default now)")
	notified.Flags().StringVar(&reference, "reference", "", "the authority's case number, or the channel used to tell the subjects")
	_ = notified.MarkFlagRequired("to")

	closeCmd := &cobra.Command{
		Use:   "close ID",
		Short: "Close an incident (refused while someone who must be told has not been)",
		Args:  cobra.ExactArgs(1),
		RunE: with(func(cmd *cobra.Command, r *breach.Register, args []string) error {
			return show(r.Close(cmd.Context(), args[0], by()))
		}),
	}

	var draftTo string
	draft := &cobra.Command{
		Use:   "draft ID",
		Short: "Draft the notice to the authority (Art. 33(3)) or to the subjects (Art. 34), for a person to complete and send",
		Args:  cobra.ExactArgs(1),
		RunE: with(func(cmd *cobra.Command, r *breach.Register, args []string) error {
			d, err := r.Draft(cmd.Context(), args[0], breach.Party(draftTo))
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.json(d)
			}
			fmt.Fprint(a.stdout, d.Text)
			if len(d.Missing) > 0 {
				fmt.Fprintf(a.stderr, "vow: the draft is not complete: %s\n", strings.Join(d.Missing, "; "))
			}
			return nil
		}),
	}
	draft.Flags().StringVar(&draftTo, "to", "authority", "authority or subjects")

	var out string
	subjects := &cobra.Command{
		Use:   "subjects ID",
		Short: "List the people the incident may have touched (CSV), to notify them",
		Args:  cobra.ExactArgs(1),
		RunE: with(func(cmd *cobra.Command, r *breach.Register, args []string) (err error) {
			w := a.stdout
			if out != "" && out != "-" {
				f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
				if err != nil {
					return fmt.Errorf("subjects: %w (choose a new file: the list is never written over another)", err)
				}
				defer func() {
					if cerr := f.Close(); err == nil {
						err = cerr
					}
				}()
				w = f
			}
			cw := csv.NewWriter(w)
			if err := cw.Write([]string{"kind", "table", "email", "identities"}); err != nil {
				return err
			}
			n, err := r.EachSubject(cmd.Context(), args[0], by(), func(s breach.Subject) error {
				var ids []string
				for _, k := range slices.Sorted(maps.Keys(s.Identities)) {
					ids = append(ids, k+"="+s.Identities[k])
				}
				return cw.Write([]string{s.Kind, s.Table, s.Identities["email"], strings.Join(ids, " ")})
			})
			cw.Flush()
			if err == nil {
				err = cw.Error()
			}
			if err != nil {
				return err
			}
			if w != a.stdout {
				fmt.Fprintf(a.stderr, "listed %d subjects in %s\n", n, out)
			}
			return nil
		}),
	}
	subjects.Flags().StringVarP(&out, "output", "o", "", "write to this new file instead of standard output")

	check := &cobra.Command{
		Use:   "check",
		Short: "Warn of incidents whose deadline is a day or six hours away, or past (vow serve does it every minute)",
		Args:  cobra.NoArgs,
		RunE: with(func(cmd *cobra.Command, r *breach.Register, _ []string) error {
			al, err := incidentAlerter(r.Policy, a.logger)
			if err != nil {
				return err
			}
			ws, err := r.Check(cmd.Context(), al)
			errs := []error{err}
			for _, w := range ws {
				if a.format == "text" {
					fmt.Fprintf(a.stdout, "%s %s: %s (deadline %s)\n", w.Incident.ID, w.Level, w.Incident.Title, w.Incident.Deadline.Format(time.RFC3339))
				}
			}
			if a.format == "json" {
				if ws == nil {
					ws = []breach.Warning{}
				}
				errs = append(errs, a.json(map[string]any{"warnings": ws}))
			}
			return errors.Join(errs...)
		}),
	}

	cmd.AddCommand(open, list, showCmd, update, contain, assess, notified, closeCmd, draft, subjects, check)
	return cmd
}

// deadlineText says how long is left to tell the authority.
func deadlineText(inc *breach.Incident, now time.Time) string {
	switch {
	case inc.AuthorityNotified != nil:
		return "authority told " + inc.AuthorityNotified.Format(time.RFC3339)
	case !inc.Awaiting():
		return "none (" + string(inc.Risk) + ")"
	case now.After(inc.Deadline):
		return fmt.Sprintf("PASSED %s ago", now.Sub(inc.Deadline).Round(time.Minute))
	}
	return fmt.Sprintf("%s left", inc.Deadline.Sub(now).Round(time.Minute))
}

func (a *app) showIncident(inc *breach.Incident) error {
	if a.format == "json" {
		return a.json(inc)
	}
	w := a.stdout
	fmt.Fprintf(w, "%s  %s\n", inc.ID, inc.Title)
	fmt.Fprintf(w, "  status %s, risk %s; discovered %s; deadline %s (%s)\n", inc.Status, inc.Risk, inc.Discovered.Format(time.RFC3339), inc.Deadline.Format(time.RFC3339), deadlineText(inc, time.Now()))
	if len(inc.Systems) > 0 {
		fmt.Fprintf(w, "  systems %s; categories %s\n", strings.Join(inc.Systems, ", "), cmp.Or(strings.Join(inc.Categories, ", "), "every personal category"))
	}
	if af := inc.Affected; af != nil {
		fmt.Fprintf(w, "  affected: about %d subjects, %d records in %d tables (counted %s)\n", af.TotalSubjects, af.Records, len(af.Tables), af.CountedAt.Format(time.RFC3339))
		for _, u := range af.Unknown {
			fmt.Fprintf(w, "    not counted: %s\n", u)
		}
	}
	if inc.SubjectsNotified != nil {
		fmt.Fprintf(w, "  subjects told %s\n", inc.SubjectsNotified.Format(time.RFC3339))
	}
	var next []string
	switch {
	case inc.Status == breach.Closed:
	case inc.Risk == breach.Unassessed:
		next = append(next, "assess the risk: vow incident update "+inc.ID+" --risk unlikely|risk|high")
	}
	if inc.Status != breach.Closed {
		if inc.Affected == nil && len(inc.Systems) > 0 {
			next = append(next, "count who it touched: vow incident assess "+inc.ID)
		}
		if inc.Awaiting() {
			next = append(next, "tell the authority: vow incident draft "+inc.ID+", then vow incident notified "+inc.ID+" --to authority")
		}
		if inc.Risk == breach.High && inc.SubjectsNotified == nil {
			next = append(next, "tell the subjects: vow incident draft "+inc.ID+" --to subjects; vow incident subjects "+inc.ID)
		}
	}
	for _, n := range next {
		fmt.Fprintf(w, "  next: %s\n", n)
	}
	return nil
}
