package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/hold"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/retention"
	"github.com/vowprivacy/vow/state"
	"github.com/vowprivacy/vow/throttle"
)

func (a *app) retentionCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "retention",
		Short: "Plan and enforce the policy's retention rules",
		Long: `Retention enforces the retention rules of vow.yaml on the live databases:
rows past their period are deleted (their dependent rows first, by the
relations the policy declares) or anonymised (by the fields' erasure
strategies), in short batches that leave the application's workload alone.
Rows under legal hold — declared in the policy or placed with vow hold — are
kept.

  plan      what would go now, per rule, with the statements and warnings
  run       execute (batched, resumable, recorded in the state store)
  history   the recorded runs
  schedule  run every rule once per interval, until stopped`,
		Example: `  vow retention plan
  vow retention run --batch 500 --pause 50ms --budget 10m
  vow retention history --format json`,
	}
	cmd.AddCommand(a.retentionPlanCommand(), a.retentionRunCommand(), a.retentionHistoryCommand(), a.retentionScheduleCommand())
	return cmd
}

// retentionEnv is what the retention verbs open: the policy, the state
// store, the holds and the keyring, wired into an engine.
type retentionEnv struct {
	engine *retention.Engine
	store  *state.Store
}

func (a *app) openRetention(cmd *cobra.Command, file string, needPolicy bool) (*retentionEnv, error) {
	env := &retentionEnv{}
	var p *policy.Policy
	if needPolicy {
		var ds policy.Diagnostics
		var err error
		p, ds, err = policy.Load(file)
		if err != nil {
			return nil, fmt.Errorf("%w (run vow init to write one)", err)
		}
		if p == nil {
			return nil, fmt.Errorf("%s does not parse: run vow check %s", file, file)
		}
		// Errors in the retention rules (or the file's structure) stop
		// enforcement; other problems, such as a table no rule covers
		// yet, must not keep the rules that exist from being enforced.
		for _, d := range ds {
			if d.Severity == policy.Error && (strings.HasPrefix(d.Path, "retention") || d.Path == "" || d.Code == "unknown-key" || d.Code == "syntax") {
				return nil, fmt.Errorf("%s: fix it first (vow check %s)", d.String(), file)
			}
		}
		if errs, _ := ds.Count(); errs > 0 {
			a.logger.Warn("the policy has errors outside its retention rules; the rules are enforced regardless", "errors", errs, "check", "vow check "+file)
		}
		if err := refuseStarter(file, p); err != nil {
			return nil, err
		}
		a.trace.mark("policy loaded")
	}
	store, err := a.openState(cmd)
	if err != nil {
		return nil, err
	}
	a.trace.mark("state store opened")
	env.store = store
	k, err := a.openKeyring(cmd, a.dataDir, store)
	if err != nil {
		store.Close()
		return nil, err
	}
	a.trace.mark("keys loaded")
	env.engine = &retention.Engine{
		Policy:     p,
		Datastores: datastore.Resolver{BaseDir: filepath.Dir(file)},
		Store:      store,
		Holds:      hold.New(store),
		MAC:        k,
		Logger:     a.logger,
	}
	return env, nil
}

func (a *app) retentionPlanCommand() *cobra.Command {
	var rules []string
	cmd := &cobra.Command{
		Use:   "plan [vow.yaml]",
		Short: "Show what each retention rule would remove now, without changing anything",
		Long: `Plan is the dry run of vow retention run: for each rule, how many rows would be
deleted or anonymised, the oldest, the dependent rows a delete reaches, the
statements that will run, and warnings (no index on the timestamp column,
dependent tables no rule covers, rows kept under legal hold). A rule whose
condition the database rejects is reported at its file:line.

Exit status: 0, or 1 when a rule cannot be planned (its datastore is down,
its condition is wrong).`,
		Example: `  vow retention plan
  vow retention plan --rule "audit logs" vow-demo/vow.yaml
  vow retention plan --format json | jq '.rules[] | {rule, rows, held}'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			env, err := a.openRetention(cmd, a.policyArg(args), true)
			if err != nil {
				return err
			}
			defer env.store.Close()
			p, err := env.engine.Plan(cmd.Context(), rules)
			if err != nil {
				return err
			}
			if a.format == "json" {
				if err := a.json(p); err != nil {
					return err
				}
			} else {
				writePlan(a.stdout, p)
			}
			if p.Failed() {
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&rules, "rule", nil, "plan only this rule (repeatable)")
	return cmd
}

func writePlan(w io.Writer, p *retention.Plan) {
	for i, r := range p.Rules {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s — %s %s: %s older than %s (before %s)\n", r.Rule, r.Action, r.Table, r.From, r.Keep, r.Cutoff.Format("2006-01-02 15:04 MST"))
		if r.Where != "" {
			fmt.Fprintf(w, "  where %s\n", r.Where)
		}
		if r.Error != "" {
			fmt.Fprintf(w, "  error: %s\n", r.Error)
			continue
		}
		line := fmt.Sprintf("  %d row(s) would be %s", r.Rows, pastTense(r.Action))
		if r.Oldest != "" && r.Rows > 0 {
			line += ", oldest " + r.Oldest
		}
		if r.Held > 0 {
			line += fmt.Sprintf("; %d kept under legal hold", r.Held)
		}
		fmt.Fprintln(w, line)
		for _, c := range r.Cascade {
			fmt.Fprintf(w, "  + %d row(s) of %s (%s) %s\n", c.Rows, c.Table, c.Column, pastTense(c.Action))
		}
		if r.Brake != "" {
			fmt.Fprintf(w, "  brake: %s\n", r.Brake)
		}
		if len(r.Partitions) > 0 {
			fmt.Fprintf(w, "  whole partitions dropped: %s\n", strings.Join(r.Partitions, ", "))
		}
		if r.Resume != "" {
			fmt.Fprintf(w, "  resume: %s\n", r.Resume)
		}
		for _, x := range r.Warnings {
			fmt.Fprintf(w, "  warning: %s\n", x)
		}
		for _, s := range r.Statements {
			fmt.Fprintf(w, "    %s\n", s)
		}
	}
}

func pastTense(action string) string {
	switch action {
	case "delete":
		return "deleted"
	case "anonymise":
		return "anonymised"
	case "nullify":
		return "set to NULL"
	case "hmac":
		return "replaced by an HMAC"
	case "set":
		return "overwritten"
	}
	return action
}

// runFlags are the tuning flags run and schedule share.
type runFlags struct {
	batch                    int
	pause, budget, batchTime time.Duration
	impact, latency          float64
	maxLoad, criticalLoad    string
	actor                    string
}

func (f *runFlags) add(cmd *cobra.Command) {
	cmd.Flags().IntVar(&f.batch, "batch", 0, "fix the rows per batch (each batch is one short transaction); 0 sizes batches to --batch-time")
	cmd.Flags().DurationVar(&f.batchTime, "batch-time", 0, "how long a batch should take; batch sizes adapt to it (default: retention.throttle, else 500ms)")
	cmd.Flags().Float64Var(&f.impact, "impact", 0, "back off when a row costs this many times its baseline; -1 turns it off (default: retention.throttle, else 2)")
	cmd.Flags().Float64Var(&f.latency, "latency-budget", 0, "back off when a canary point read of the table (timed every 20ms) takes this many times its median before the run (taken again each minute), e.g. 1.5; -1 turns it off (default: retention.throttle, else off)")
	cmd.Flags().StringVar(&f.maxLoad, "max-load", "", "back off past this load, e.g. threads_running=25,lag=10s,history_length=1000000,lock_waits=4 (-1 turns one off)")
	cmd.Flags().StringVar(&f.criticalLoad, "critical-load", "", "stop and wait past this load, same form as --max-load")
	cmd.Flags().DurationVar(&f.pause, "pause", 0, "pause after every batch, on top of what the throttle asks")
	cmd.Flags().DurationVar(&f.budget, "budget", 0, "stop after this long (the next run resumes); 0 = no limit")
	cmd.Flags().StringVar(&f.actor, "actor", "", "who runs it, for the record (default: the OS user)")
}

func (f *runFlags) options() (retention.Options, error) {
	actor := f.actor
	if actor == "" {
		if u, err := user.Current(); err == nil {
			actor = u.Username
		}
	}
	if f.batch < 0 || f.batchTime < 0 || (f.impact != 0 && f.impact != -1 && f.impact <= 1) || (f.latency != 0 && f.latency != -1 && f.latency <= 1) {
		return retention.Options{}, errors.New("--batch and --batch-time cannot be negative, and --impact and --latency-budget must be above 1 (-1 turns the check off)")
	}
	maxLoad, err := throttle.ParseLimits(f.maxLoad)
	if err != nil {
		return retention.Options{}, fmt.Errorf("--max-load: %w", err)
	}
	critical, err := throttle.ParseLimits(f.criticalLoad)
	if err != nil {
		return retention.Options{}, fmt.Errorf("--critical-load: %w", err)
	}
	return retention.Options{Batch: f.batch, Pause: f.pause, Budget: f.budget, Actor: cmp.Or(actor, "vow"),
		Throttle: throttle.Config{BatchTime: f.batchTime, Impact: f.impact, Latency: f.latency, Max: maxLoad, Critical: critical}}, nil
}

func (a *app) retentionRunCommand() *cobra.Command {
	var (
		rules   []string
		approve []string
		dryRun  bool
		flags   runFlags
	)
	cmd := &cobra.Command{
		Use:   "run [vow.yaml]",
		Short: "Delete or anonymise expired rows, in batches",
		Long: `Run executes the retention rules. Expired rows are taken in keyset batches by
primary key; each batch is one short transaction that re-checks the rows
under lock (a row the application revived meanwhile is left alone), removes
their dependent rows first, then the rows. Progress is checkpointed per rule
in the state store: a run that crashed, was interrupted or ran out of
--budget resumes where it stopped. Every run is recorded (vow retention
history) with events retention.run.started/finished.

A rule whose datastore is down fails with a one-line error; the others run.
A rule that would remove more of its table than the policy's brake allows
(brake.retention, or the rule's own brake) stops before it changes anything
(status braked); read vow retention plan, and if it is right run it with
--approve NAME.
Exit status: 0 all done (or stopped by the budget), 1 a rule failed,
2 the run could not start.`,
		Example: `  vow retention run --dry-run
  vow retention run --batch-time 200ms --max-load threads_running=20,lag=5s
  vow retention run --rule "audit logs" --budget 15m vow.yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			env, err := a.openRetention(cmd, a.policyArg(args), true)
			if err != nil {
				return err
			}
			defer env.store.Close()
			opt, err := flags.options()
			if err != nil {
				return err
			}
			opt.Rules, opt.DryRun, opt.Approve = rules, dryRun, approve
			if a.format == "text" && isTerminal(a.stderr) {
				opt.Progress = progressPrinter(a.stderr)
			}
			rep, err := env.engine.Run(cmd.Context(), opt)
			a.trace.mark("run finished")
			if opt.Progress != nil {
				fmt.Fprint(a.stderr, "\r\033[K")
			}
			if err != nil {
				return err
			}
			if a.format == "json" {
				if err := a.json(rep); err != nil {
					return err
				}
			} else {
				writeReport(a.stdout, rep)
			}
			if rep.Failed() {
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&rules, "rule", nil, "run only this rule (repeatable)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "count what would go, change nothing (the run is recorded as a dry run)")
	cmd.Flags().StringArrayVar(&approve, "approve", nil, "let this rule past the brake for this run, after reading its plan (repeatable)")
	flags.add(cmd)
	return cmd
}

func writeReport(w io.Writer, r *retention.Report) {
	what := "run"
	if r.DryRun {
		what = "dry run"
	}
	rows := fmt.Sprintf("%d row(s)", r.Rows())
	if n := r.PartitionRows(); n > 0 {
		rows += fmt.Sprintf(" and about %d in whole partitions", n)
	}
	fmt.Fprintf(w, "retention %s %s: %s, %s in %s\n", what, r.ID, r.Status, rows, r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	// The history does not keep tables and actions: leave their columns out.
	full := len(r.Rules) > 0 && r.Rules[0].Table != ""
	if full {
		fmt.Fprintln(tw, "RULE\tTABLE\tACTION\tSTATUS\tROWS\tDEPENDENT\tHELD\tBATCHES\tTIME")
	} else {
		fmt.Fprintln(tw, "RULE\tSTATUS\tROWS\tDEPENDENT\tHELD\tBATCHES\tTIME")
	}
	for _, x := range r.Rules {
		status := x.Status
		if x.Resumed {
			status += " (resumed)"
		}
		if full {
			fmt.Fprintf(tw, "%s\t%s\t%s\t", x.Rule, x.Table, x.Action)
		} else {
			fmt.Fprintf(tw, "%s\t", x.Rule)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\n", status, x.Rows, x.Cascaded, x.Held, x.Batches, x.Duration.Round(time.Millisecond))
	}
	tw.Flush()
	for _, x := range r.Rules {
		if len(x.Partitions) > 0 {
			est := ""
			if x.PartitionRows > 0 {
				est = fmt.Sprintf(" (about %d rows, the statistics' estimate; not in ROWS)", x.PartitionRows)
			}
			fmt.Fprintf(w, "%s: whole partitions dropped: %s%s\n", x.Rule, strings.Join(x.Partitions, ", "), est)
		}
	}
	for _, x := range r.Rules {
		// A throttle that never acted is not news; a canary asked for is.
		if t := x.Throttle; t != nil && (t.Backoffs > 0 || t.Waited > 0 || t.ProbeErrors > 0 || t.LatencyBase > 0) {
			fmt.Fprintf(w, "%s: throttled: backed off after %d of %d batches, paused %s, waited out load %s, batches of %d–%d rows", x.Rule, t.Backoffs, t.Batches, t.Slept.Round(time.Millisecond), t.Waited.Round(time.Second), t.MinSize, t.MaxSize)
			if t.Reason != "" {
				fmt.Fprintf(w, "; last: %s", t.Reason)
			}
			if t.LatencyBase > 0 {
				when := "before the run"
				if t.Rebaselines > 0 {
					when = fmt.Sprintf("when last taken again (%d times in the run)", t.Rebaselines)
				}
				fmt.Fprintf(w, "; canary median %s %s, up to %s during batches", t.LatencyBase.Round(10*time.Microsecond), when, t.LatencyMax.Round(10*time.Microsecond))
			}
			if t.ProbeErrors > 0 {
				fmt.Fprintf(w, "; %d probes (load or canary) failed, the last: %s", t.ProbeErrors, t.ProbeError)
			}
			fmt.Fprintln(w)
		}
	}
	for _, x := range r.Rules {
		if x.Error != "" {
			fmt.Fprintf(w, "%s: %s\n", x.Rule, x.Error)
		}
	}
}

// isTerminal reports whether w is a character device, where a progress
// line that rewrites itself makes sense.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func progressPrinter(w io.Writer) func(retention.Progress) {
	return func(p retention.Progress) {
		const width = 30
		frac := 1.0
		if p.Total > 0 && p.Done < p.Total {
			frac = float64(p.Done) / float64(p.Total)
		}
		n := int(frac * width)
		rate := float64(p.Done) / max(p.Elapsed.Seconds(), 0.001)
		fmt.Fprintf(w, "\r\033[K%s [%s%s] %d/%d rows, %.0f rows/s", p.Rule, strings.Repeat("█", n), strings.Repeat("·", width-n), p.Done, p.Total, rate)
	}
}

func (a *app) retentionHistoryCommand() *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List the recorded retention runs, newest first",
		Example: `  vow retention history
  vow retention history --limit 5 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			env, err := a.openRetention(cmd, "", false)
			if err != nil {
				return err
			}
			defer env.store.Close()
			runs, err := env.engine.History(cmd.Context(), limit)
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.json(map[string]any{"runs": runs})
			}
			if len(runs) == 0 {
				fmt.Fprintln(a.stdout, "no retention runs recorded")
			}
			for i := range runs {
				if i > 0 {
					fmt.Fprintln(a.stdout)
				}
				r := &runs[i]
				fmt.Fprintf(a.stdout, "%s by %s ", r.StartedAt.Format("2006-01-02 15:04:05Z07:00"), r.Actor)
				writeReport(a.stdout, r)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "how many runs")
	return cmd
}

func (a *app) retentionScheduleCommand() *cobra.Command {
	var (
		interval, tick, lease time.Duration
		flags                 runFlags
	)
	cmd := &cobra.Command{
		Use:   "schedule [vow.yaml]",
		Short: "Run every retention rule once per interval, until stopped",
		Long: `Schedule runs each retention rule once per --interval (daily by default) until
interrupted. Several instances may run it against one PostgreSQL state store
(--state postgres://… or $VOW_STATE): a lease per rule makes sure only one of
them runs a given rule at a time, and a run interrupted anywhere is resumed
by whichever instance takes the rule next.`,
		Example: `  vow retention schedule
  VOW_STATE=postgres://vow@db/vow vow retention schedule --interval 6h --budget 30m`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			env, err := a.openRetention(cmd, a.policyArg(args), true)
			if err != nil {
				return err
			}
			defer env.store.Close()
			opt, err := flags.options()
			if err != nil {
				return err
			}
			s := &retention.Scheduler{Engine: env.engine, Interval: interval, Tick: tick, LeaseTTL: lease, Options: opt,
				OnRun: func(r *retention.Report) {
					if a.format == "json" {
						_ = a.json(r)
						return
					}
					fmt.Fprintf(a.stdout, "%s ", time.Now().UTC().Format(time.RFC3339))
					writeReport(a.stdout, r)
				}}
			if a.format == "text" {
				fmt.Fprintf(a.stdout, "scheduling %d retention rule(s) every %s (state %s); stop with Ctrl-C\n", len(env.engine.Policy.Retention.Rules), cmp.Or(interval, 24*time.Hour), redactURL(a.stateURL()))
			}
			return s.Run(cmd.Context())
		},
	}
	cmd.Flags().DurationVar(&interval, "interval", 24*time.Hour, "how often each rule runs")
	cmd.Flags().DurationVar(&tick, "tick", time.Minute, "how often to look for rules that are due")
	cmd.Flags().DurationVar(&lease, "lease", 5*time.Minute, "how long a rule stays claimed by an instance that stopped answering")
	flags.add(cmd)
	return cmd
}
