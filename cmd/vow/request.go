package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vowprivacy/vow/consent"
	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/hold"
	"github.com/vowprivacy/vow/identity"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/mailer"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/state"
	"github.com/vowprivacy/vow/versions"
)

// newRequestService wires a dsr.Service for the CLI and returns a function
// releasing what it opened. With prepare (the commands that carry out a
// request) the datastores are opened and their schemas read while the
// state store and the keys are.
func (a *app) newRequestService(cmd *cobra.Command, file string, prepare bool) (*dsr.Service, func(), error) {
	p, err := a.loadValidPolicy(file)
	if err != nil {
		return nil, nil, err
	}
	a.trace.mark("policy loaded")
	// One pool per datastore for the whole command: creating a request
	// reads the live schema to check the identities, and running it
	// right after (--run, or run with several IDs) would otherwise dial
	// again and find a new server session with cold caches.
	svc := &dsr.Service{Policy: p, Datastores: datastore.Resolver{BaseDir: filepath.Dir(file)}, KeepConnections: true}
	if prepare {
		svc.Prepare(cmd.Context())
	}
	store, err := a.openState(cmd)
	if err != nil {
		svc.Close()
		return nil, nil, err
	}
	a.trace.mark("state store opened")
	k, err := a.openKeyring(cmd, a.dataDir, store)
	if err == nil {
		a.trace.mark("keys loaded")
		// Services that answer later call back to vow serve at VOW_BASE_URL.
		err = wireRequests(svc, store, k, a.dataDir, os.Getenv("VOW_BASE_URL"), a.logger, true, nil)
	}
	if err != nil {
		svc.Close()
		store.Close()
		return nil, nil, err
	}
	a.trace.mark("service wired")
	return svc, func() {
		svc.Close()
		store.Close()
		a.trace.mark("state store closed")
	}, nil
}

// requestService wires the request service the same way for the CLI, the
// demo and vow serve: the policy's datastores (relative to policyDir),
// and the rest as wireRequests does.
func requestService(p *policy.Policy, store *state.Store, k *keyring.Keyring, policyDir, dataDir, baseURL string, logger *slog.Logger, mail bool, cons *consent.Service) (*dsr.Service, error) {
	svc := &dsr.Service{Policy: p, Datastores: datastore.Resolver{BaseDir: policyDir}}
	if err := wireRequests(svc, store, k, dataDir, baseURL, logger, mail, cons); err != nil {
		return nil, err
	}
	return svc, nil
}

// wireRequests completes a request service that has its policy and
// datastores: packages in the data directory's exports, legal holds,
// consent history erased with every erasure (through cons, or a consent
// service of its own when nil), and — with mail — email codes through
// $VOW_SMTP_URL.
func wireRequests(svc *dsr.Service, store *state.Store, k *keyring.Keyring, dataDir, baseURL string, logger *slog.Logger, mail bool, cons *consent.Service) error {
	if cons == nil {
		cons = newConsent(context.Background(), store, svc.Policy, k, logger)
	}
	svc.Store, svc.Keys = store, k
	svc.ExportDir = filepath.Join(dataDir, "exports")
	svc.BaseURL, svc.Logger = baseURL, logger
	svc.Holds = hold.New(store)
	svc.EraseHooks = []func(context.Context, dsr.Identities) ([]dsr.TableRecord, error){
		consentEraser(cons), policyEraser(&versions.Service{Store: store, Keys: k}),
	}
	if !mail {
		return nil
	}
	m, err := mailer.FromEnv()
	switch {
	case err == nil:
		svc.Mailer = m
	case !errors.Is(err, mailer.ErrNotConfigured):
		return err
	}
	return nil
}

// withRequests wraps a command body that needs the request service: it
// opens the policy, state store and keys first and closes them after.
func (a *app) withRequests(file *string, run func(cmd *cobra.Command, svc *dsr.Service, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		svc, done, err := a.newRequestService(cmd, *file, false)
		if err != nil {
			return err
		}
		defer done()
		return run(cmd, svc, args)
	}
}

// identityFlags are the flags that name a subject.
type identityFlags struct {
	subject       string
	email, userID string
	other         []string
}

func (f *identityFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.subject, "subject", "", "the subject kind (customer, team_member, …); needed when the policy has several")
	cmd.Flags().StringVar(&f.email, "email", "", "the subject's email address")
	cmd.Flags().StringVar(&f.userID, "user-id", "", "the subject's user ID")
	cmd.Flags().StringArrayVar(&f.other, "identity", nil, "another identity as kind=value (phone, username, customer_id, external_id); repeatable")
}

func (f *identityFlags) identities() (dsr.Identities, error) {
	ids := dsr.Identities{}
	if f.email != "" {
		ids["email"] = f.email
	}
	if f.userID != "" {
		ids["user_id"] = f.userID
	}
	for _, kv := range f.other {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("--identity %q: write kind=value, e.g. --identity phone=+4915112345678", kv)
		}
		ids[k] = v
	}
	if len(ids) == 0 {
		return nil, errors.New("name the subject: --email, --user-id or --identity kind=value")
	}
	return ids, nil
}

func (a *app) requestCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "request",
		Short: "Create, plan, run and follow data-subject requests",
		Long: `Request carries out data-subject requests (access, portability, erasure,
rectification, restriction, objection) across every system the policy declares, and keeps their record
in the state store: received, verified, executed, completed — with the deadline
the policy promises.

  plan     shows, before anything runs, which tables hold the subject's data,
           the queries that find it and what erasure does to each table
  create   records a request (trusted, or verified by an emailed code)
  run      carries out verified requests; safe to repeat after a crash
  approve  lets an erasure run that the brake stopped (it would have changed
           more than one person plausibly owns, or other people's rows)
  retry    runs a failed request again, after the policy was fixed
  status, list, verify, extend, cancel, export — follow and answer them`,
		Example: `  vow request plan --email ada@example.com
  vow request create --type access --email ada@example.com --trusted --run
  vow request create --type erasure --email ada@example.com     # emails a code
  vow request verify req_1a2b… 123456 && vow request run req_1a2b…
  vow request list --overdue`,
	}
	cmd.AddCommand(
		a.requestPlanCommand(&a.policy), a.requestCreateCommand(&a.policy), a.requestRunCommand(&a.policy),
		a.requestStatusCommand(&a.policy), a.requestListCommand(&a.policy), a.requestVerifyCommand(&a.policy),
		a.requestExtendCommand(&a.policy), a.requestCancelCommand(&a.policy), a.requestExportCommand(&a.policy),
		a.requestApproveCommand(&a.policy), a.requestRetryCommand(&a.policy), a.requestPurgeCommand(&a.policy),
	)
	return cmd
}

func (a *app) requestPurgeCommand(file *string) *cobra.Command {
	var (
		dryRun bool
		before string
	)
	cmd := &cobra.Command{
		Use:   "purge",
		Short: "Delete the records of requests that ended longer ago than the policy keeps them (retention.requests)",
		Long: `Purge deletes the records of requests that ended (completed, failed or
cancelled) before retention.requests ago (or --before), with their steps, codes,
pseudonyms and any access package still on disk. The audit log keeps its
entries about them under retention.audit_log. vow serve purges once a day.`,
		Example: `  vow request purge --dry-run
  vow request purge --before 2024-01-01`,
		Args: cobra.NoArgs,
		RunE: a.withRequests(file, func(cmd *cobra.Command, svc *dsr.Service, _ []string) error {
			cutoff, err := retentionCutoff(before, svc.Policy.Retention.Requests, "requests", "3y")
			if err != nil {
				return err
			}
			if !dryRun {
				if _, err := svc.Minimise(cmd.Context()); err != nil {
					return err
				}
			}
			p, err := svc.PurgeRecords(cmd.Context(), cutoff, "cli:"+osUser(), dryRun)
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.json(p)
			}
			fmt.Fprintf(a.stdout, "%s the records of %d requests that ended before %s\n", purgeVerb(dryRun), p.Requests, p.Before.Format(time.RFC3339))
			return nil
		}),
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "count what would be deleted, and delete nothing")
	cmd.Flags().StringVar(&before, "before", "", "delete records of requests that ended before this time instead of the policy's retention (YYYY-MM-DD or RFC 3339)")
	return cmd
}

func (a *app) requestPlanCommand(file *string) *cobra.Command {
	var idf identityFlags
	var live bool
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show how a subject's data is found and erased, without running anything",
		Example: `  vow request plan --email ada@example.com
  vow request plan --email ada@example.com --live   # also check indexes and column types
  vow request plan --user-id 42 --policy examples/scanner/vow.yaml --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ids, err := idf.identities()
			if err != nil {
				return err
			}
			p, err := a.loadValidPolicy(*file)
			if err != nil {
				return err
			}
			kinds := make([]string, 0, len(ids))
			for k, v := range ids {
				kinds = append(kinds, k)
				// Shown as the request would compare it.
				if n, err := identity.Normalize(k, v); err == nil {
					ids[k] = n
				}
			}
			sort.Strings(kinds)
			plan, err := dsr.NewPlan(p, idf.subject, kinds)
			if err != nil {
				return err
			}
			if live {
				ws, err := plan.CheckLive(cmd.Context(), datastore.Resolver{BaseDir: filepath.Dir(*file)})
				if err != nil {
					return err
				}
				plan.Warnings = append(plan.Warnings, ws...)
			}
			if a.format == "json" {
				type step struct {
					*dsr.Step
					ID    string `json:"id"`
					Where string `json:"where"`
					Args  []any  `json:"args"`
				}
				var steps []step
				for _, s := range plan.Steps {
					w, args := plan.Where(s, ids, nil)
					steps = append(steps, step{Step: s, ID: s.ID(), Where: w, Args: args})
				}
				return a.json(map[string]any{"steps": steps, "warnings": plan.Warnings})
			}
			return plan.WriteText(a.stdout, ids)
		},
	}
	idf.register(cmd)
	cmd.Flags().BoolVar(&live, "live", false, "also read the databases: warn about unindexed lookups and columns that cannot hold a pseudonym")
	return cmd
}

func (a *app) requestCreateCommand(file *string) *cobra.Command {
	var (
		idf         identityFlags
		typ         string
		changes     []string
		trusted, rn bool
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Record a new request",
		Long: `Create records a request. With --trusted the caller vouches for the subject's
identity (your support team checked it); otherwise Vow emails the subject a
one-time code (set VOW_SMTP_URL) and the request waits for vow request verify.
A second open request of the same type for the same subject is recorded as a
duplicate of the first.`,
		Example: `  vow request create --type access --email ada@example.com --trusted --run
  vow request create --type rectification --user-id 42 --change name="Ada Lovelace" --trusted
  vow request create --type erasure --email ada@example.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ids, err := idf.identities()
			if err != nil {
				return err
			}
			n := dsr.NewRequest{Type: dsr.Type(typ), Subject: idf.subject, Identities: ids, CreatedBy: "cli"}
			if trusted {
				n.Verification = dsr.VerifyTrusted
			}
			for _, kv := range changes {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return fmt.Errorf("--change %q: write column=value", kv)
				}
				if n.Changes == nil {
					n.Changes = map[string]string{}
				}
				n.Changes[k] = v
			}
			svc, done, err := a.newRequestService(cmd, *file, true)
			if err != nil {
				return err
			}
			defer done()
			r, err := svc.Create(cmd.Context(), n)
			if err != nil {
				return err
			}
			a.trace.mark("request created")
			if rn && r.Status == dsr.Executing {
				return a.runRequests(cmd, svc, []string{r.ID})
			}
			return a.showRequest(r)
		},
	}
	idf.register(cmd)
	cmd.Flags().StringVar(&typ, "type", "", "access, portability, erasure, rectification, restriction or objection")
	cmd.Flags().StringArrayVar(&changes, "change", nil, "for rectification: column=new value (or table.column=…); repeatable")
	cmd.Flags().BoolVar(&trusted, "trusted", false, "the subject's identity is already verified")
	cmd.Flags().BoolVar(&rn, "run", false, "run the request at once when it needs no verification")
	_ = cmd.MarkFlagRequired("type")
	return cmd
}

func (a *app) requestRunCommand(file *string) *cobra.Command {
	var due bool
	var pause time.Duration
	cmd := &cobra.Command{
		Use:   "run [ID…]",
		Short: "Carry out verified requests (resuming any that were interrupted)",
		Long: `Run carries out the named requests, or with --due every verified request whose
time has come (new ones, and those waiting to retry a datastore that was down).
It is safe to run again after a crash: finished work is not repeated.`,
		Example: `  vow request run req_1a2b3c
  vow request run --due             # e.g. from cron, every few minutes
  vow request run --due --pause 200ms   # spare a busy database`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !due {
				return errors.New("name the requests to run, or use --due")
			}
			svc, done, err := a.newRequestService(cmd, *file, true)
			if err != nil {
				return err
			}
			defer done()
			svc.Pause = pause
			if due {
				ids, err := svc.Due(cmd.Context())
				if err != nil {
					return err
				}
				args = append(args, ids...)
				if len(args) == 0 && a.format == "text" {
					fmt.Fprintln(a.stdout, "no requests are due")
				}
			}
			return a.runRequests(cmd, svc, args)
		},
	}
	cmd.Flags().BoolVar(&due, "due", false, "run every verified request that is due")
	cmd.Flags().DurationVar(&pause, "pause", 0, "pause between steps, to spare a live workload")
	return cmd
}

// runRequests runs requests one after another, showing progress, and
// returns exit status 1 if any failed or must wait.
func (a *app) runRequests(cmd *cobra.Command, svc *dsr.Service, ids []string) error {
	failed := 0
	var out []*dsr.Request
	for _, id := range ids {
		text := a.format == "text"
		if text {
			fmt.Fprintf(a.stdout, "%s:\n", id)
		}
		started := false
		progress := func(p dsr.Progress) {
			if !started {
				started = true
				a.trace.mark("run: ready for the first step")
			}
			if p.Done {
				a.trace.mark("step " + p.Step)
			}
			if !text {
				return
			}
			if p.Done {
				fmt.Fprintf(a.stdout, "  [%d/%d] %-32s %d rows\n", p.Index, p.Total, p.Step, p.Rows)
			} else if p.Step == "verify" {
				fmt.Fprintf(a.stdout, "  verifying that nothing erasable remains…\n")
			}
		}
		r, err := svc.Run(cmd.Context(), id, progress)
		a.trace.mark("run finished")
		if err != nil {
			failed++
			fmt.Fprintf(a.stderr, "vow: %s: %v\n", id, err)
		}
		if r != nil {
			out = append(out, r)
			if a.format == "text" {
				a.showRequest(r)
			}
		}
	}
	if a.format == "json" {
		if err := a.json(out); err != nil {
			return err
		}
	}
	if failed > 0 {
		return exitError{1}
	}
	return nil
}

func (a *app) showRequest(r *dsr.Request) error {
	if a.format == "json" {
		return a.json(r)
	}
	w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "  request\t%s (%s)\n", r.ID, r.Type)
	fmt.Fprintf(w, "  status\t%s\n", r.Status)
	fmt.Fprintf(w, "  received\t%s\n", r.ReceivedAt.Format(time.RFC3339))
	dl := r.Deadline.Format("2006-01-02")
	if r.ExtendedReason != "" {
		dl += " (extended: " + r.ExtendedReason + ")"
	}
	fmt.Fprintf(w, "  deadline\t%s\n", dl)
	if r.DuplicateOf != "" {
		fmt.Fprintf(w, "  duplicate of\t%s\n", r.DuplicateOf)
	}
	if r.Status == dsr.Verifying {
		fmt.Fprintf(w, "  next\ta code was emailed; run: vow request verify %s CODE\n", r.ID)
	}
	if r.Status == dsr.Scheduled && r.NextAttemptAt != nil {
		fmt.Fprintf(w, "  erasure at\t%s (grace period: the account is marked; vow request cancel %s recovers it)\n", r.NextAttemptAt.Format(time.RFC3339), r.ID)
	}
	if ap := r.Approval; ap != nil {
		for _, why := range ap.Reasons {
			fmt.Fprintf(w, "  brake\t%s\n", why)
		}
		if ap.ApprovedAt != nil {
			fmt.Fprintf(w, "  approved\tby %s on %s: %s\n", ap.ApprovedBy, ap.ApprovedAt.Format(time.RFC3339), ap.Note)
		}
	}
	if r.Status == dsr.AwaitingApproval {
		fmt.Fprintf(w, "  next\tthe brake stopped the erasure before it changed anything; if the reasons are right: vow request approve %s --by NAME --run\n", r.ID)
	}
	if r.Status == dsr.Failed {
		fmt.Fprintf(w, "  next\tfix the cause (the policy, say), then: vow request retry %s --run\n", r.ID)
	}
	if r.LastError != "" {
		fmt.Fprintf(w, "  last error\t%s\n", r.LastError)
	}
	if r.NextAttemptAt != nil && r.Status == dsr.Waiting {
		fmt.Fprintf(w, "  retry after\t%s\n", r.NextAttemptAt.Format(time.RFC3339))
	}
	if res := r.Result; res != nil {
		fmt.Fprintf(w, "  result\t%s\n", res.Message)
		if res.Export != "" {
			fmt.Fprintf(w, "  package\t%s (until %s; vow request export %s)\n", res.Export, res.ExportExpires.Format("2006-01-02"), r.ID)
		}
		if len(res.Certificate) > 0 {
			fmt.Fprintf(w, "  certificate\tsigned; vow request export %s --certificate\n", r.ID)
		}
	}
	return w.Flush()
}

func (a *app) requestStatusCommand(file *string) *cobra.Command {
	return &cobra.Command{
		Use:     "status ID",
		Short:   "Show one request",
		Example: "  vow request status req_1a2b3c\n  vow request status req_1a2b3c --format json",
		Args:    cobra.ExactArgs(1),
		RunE: a.withRequests(file, func(cmd *cobra.Command, svc *dsr.Service, args []string) error {
			r, err := svc.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.showRequest(r)
		}),
	}
}

func (a *app) requestListCommand(file *string) *cobra.Command {
	var status string
	var overdue bool
	var limit int
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List requests, newest first",
		Example: "  vow request list\n  vow request list --status waiting\n  vow request list --overdue --format json",
		Args:    cobra.NoArgs,
		RunE: a.withRequests(file, func(cmd *cobra.Command, svc *dsr.Service, _ []string) error {
			rs, err := svc.List(cmd.Context(), dsr.ListFilter{Status: dsr.Status(status), Overdue: overdue, Limit: limit})
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.json(rs)
			}
			w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tTYPE\tSTATUS\tRECEIVED\tDEADLINE\tRESULT")
			for _, r := range rs {
				res := r.LastError
				if r.Result != nil {
					res = r.Result.Message
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Type, r.Status, r.ReceivedAt.Format("2006-01-02 15:04"), r.Deadline.Format("2006-01-02"), res)
			}
			return w.Flush()
		}),
	}
	cmd.Flags().StringVar(&status, "status", "", "only requests in this status")
	cmd.Flags().BoolVar(&overdue, "overdue", false, "only open requests past their deadline")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many")
	return cmd
}

func (a *app) requestVerifyCommand(file *string) *cobra.Command {
	var resend bool
	cmd := &cobra.Command{
		Use:     "verify ID [CODE]",
		Short:   "Check the code a subject received by email (or send a new one)",
		Example: "  vow request verify req_1a2b3c 123456\n  vow request verify req_1a2b3c --resend",
		Args:    cobra.RangeArgs(1, 2),
		RunE: a.withRequests(file, func(cmd *cobra.Command, svc *dsr.Service, args []string) error {
			var err error
			switch {
			case resend:
				err = svc.SendCode(cmd.Context(), args[0])
			case len(args) == 2:
				err = svc.Verify(cmd.Context(), args[0], args[1])
			default:
				return errors.New("give the CODE, or --resend")
			}
			if err != nil {
				return err
			}
			r, err := svc.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.showRequest(r)
		}),
	}
	cmd.Flags().BoolVar(&resend, "resend", false, "email a new code")
	return cmd
}

func (a *app) requestExtendCommand(file *string) *cobra.Command {
	var days int
	var reason string
	cmd := &cobra.Command{
		Use:     "extend ID",
		Short:   "Extend a request's deadline, with the reason the subject is told",
		Example: `  vow request extend req_1a2b3c --days 30 --reason "Records in three archives must be searched."`,
		Args:    cobra.ExactArgs(1),
		RunE: a.withRequests(file, func(cmd *cobra.Command, svc *dsr.Service, args []string) error {
			r, err := svc.Extend(cmd.Context(), args[0], days, reason)
			if err != nil {
				return err
			}
			return a.showRequest(r)
		}),
	}
	cmd.Flags().IntVar(&days, "days", 30, "days to add (60 in total at most)")
	cmd.Flags().StringVar(&reason, "reason", "", "why; the subject must be told")
	return cmd
}

func (a *app) requestCancelCommand(file *string) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:     "cancel ID",
		Short:   "Cancel an open request (work already done stays done)",
		Example: `  vow request cancel req_1a2b3c --reason "withdrawn by the subject"`,
		Args:    cobra.ExactArgs(1),
		RunE: a.withRequests(file, func(cmd *cobra.Command, svc *dsr.Service, args []string) error {
			if err := svc.Cancel(cmd.Context(), args[0], reason, "cli"); err != nil {
				return err
			}
			r, err := svc.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.showRequest(r)
		}),
	}
	cmd.Flags().StringVar(&reason, "reason", "cancelled", "why")
	return cmd
}

func (a *app) requestApproveCommand(file *string) *cobra.Command {
	var note, by string
	var rn bool
	cmd := &cobra.Command{
		Use:   "approve ID",
		Short: "Let an erasure run that the brake stopped",
		Long: `Approve lets an erasure run that the brake stopped before it changed anything:
it would have changed more rows of a table than one person plausibly owns, rows
of other people's accounts, or rows the database's own ON DELETE CASCADE would
delete. vow request status ID shows the reasons; approve only when they are
right. The approval (who, when, the note) is kept with the request.`,
		Example: `  vow request status req_1a2b3c            # read the reasons first
  vow request approve req_1a2b3c --by "dpo@acme.example" --note "account of a whole team, closed by contract" --run`,
		Args: cobra.ExactArgs(1),
		RunE: a.withRequests(file, func(cmd *cobra.Command, svc *dsr.Service, args []string) error {
			r, err := svc.Approve(cmd.Context(), args[0], by, note)
			if err != nil {
				return err
			}
			if rn {
				return a.runRequests(cmd, svc, []string{r.ID})
			}
			return a.showRequest(r)
		}),
	}
	cmd.Flags().StringVar(&by, "by", "", "who approves (required)")
	cmd.Flags().StringVar(&note, "note", "", "why the erasure is right")
	cmd.Flags().BoolVar(&rn, "run", false, "run the request at once")
	_ = cmd.MarkFlagRequired("by")
	return cmd
}

func (a *app) requestRetryCommand(file *string) *cobra.Command {
	var rn bool
	cmd := &cobra.Command{
		Use:     "retry ID",
		Short:   "Run a failed request again (after the policy was fixed)",
		Example: `  vow request retry req_1a2b3c --run`,
		Args:    cobra.ExactArgs(1),
		RunE: a.withRequests(file, func(cmd *cobra.Command, svc *dsr.Service, args []string) error {
			r, err := svc.Retry(cmd.Context(), args[0], "cli")
			if err != nil {
				return err
			}
			if rn {
				return a.runRequests(cmd, svc, []string{r.ID})
			}
			return a.showRequest(r)
		}),
	}
	cmd.Flags().BoolVar(&rn, "run", false, "run the request at once")
	return cmd
}

func (a *app) requestExportCommand(file *string) *cobra.Command {
	var out string
	var cert bool
	cmd := &cobra.Command{
		Use:   "export ID",
		Short: "Write a request's access package (or erasure certificate) to a file",
		Example: `  vow request export req_1a2b3c -o ada.zip
  vow request export req_4d5e6f --certificate -o certificate.json`,
		Args: cobra.ExactArgs(1),
		RunE: a.withRequests(file, func(cmd *cobra.Command, svc *dsr.Service, args []string) error {
			r, err := svc.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if cert {
				if r.Result == nil || len(r.Result.Certificate) == 0 {
					return fmt.Errorf("request %s has no certificate (only completed erasures do)", r.ID)
				}
				return writeOut(a.stdout, out, r.Result.Certificate)
			}
			tok, err := svc.ExportLink(r)
			if err != nil {
				return err
			}
			f, _, err := svc.OpenExport(cmd.Context(), tok)
			if err != nil {
				return err
			}
			defer f.Close()
			if out == "" {
				return errors.New("give -o FILE for the ZIP package")
			}
			// A package is a copy of someone's data: readable by its owner
			// only, and never written over another file.
			dst, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return fmt.Errorf("%w (choose a new file: a package is never written over another)", err)
			}
			if _, err := io.Copy(dst, f); err != nil {
				dst.Close()
				return err
			}
			if err := dst.Close(); err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "wrote %s; download token (vow serve: GET /v1/exports/TOKEN): %s\n", out, tok)
			return nil
		}),
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write (certificate: default standard output)")
	cmd.Flags().BoolVar(&cert, "certificate", false, "write the erasure certificate instead")
	return cmd
}

func writeOut(stdout io.Writer, path string, b []byte) error {
	if path == "" {
		_, err := stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func (a *app) certificateCommand() *cobra.Command {
	var (
		pubs    []string
		keysURL string
	)
	verify := &cobra.Command{
		Use:   "verify FILE",
		Short: "Check an erasure certificate's signature and show what it certifies",
		Long: `Verify checks that an erasure certificate was signed by this Vow installation's
key (any generation: the master key in --data-dir or $VOW_MASTER_KEY), or by a
key given with --public-key or published at --keys-url, and was not altered
since. Exit status 1 if it does not verify.`,
		Example: `  vow certificate verify certificate.json
  vow certificate verify certificate.json --public-key "$(cat vow-public.key)"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			keys, err := a.trustedPublicKeys(cmd, pubs, keysURL)
			if err != nil {
				return err
			}
			c, err := dsr.VerifyCertificate(doc, keys...)
			if err != nil {
				fmt.Fprintf(a.stderr, "vow: %s: %v\n", args[0], err)
				return exitError{1}
			}
			if a.format == "json" {
				return a.json(c)
			}
			fmt.Fprintf(a.stdout, "valid: erasure certificate for request %s, signed by key %s\n", c.RequestID, signerID(doc))
			fmt.Fprintf(a.stdout, "  %s, completed %s, verified: %v\n", c.Organization, c.CompletedAt.Format(time.RFC3339), c.Verified)
			for _, t := range c.Tables {
				name := t.System + ":" + t.Table
				if t.Mention != "" {
					name += " (mentions in " + t.Mention + ")"
				}
				line := fmt.Sprintf("  %-32s %-8s %d rows", name, t.Action, t.Rows)
				switch {
				case t.Reason != "" && t.For != "":
					line += fmt.Sprintf(" — kept %s: %s", t.For, t.Reason)
				case t.Reason != "":
					line += " — " + t.Reason
				}
				if t.Expired > 0 {
					line += fmt.Sprintf("; %d rows past their hold deleted", t.Expired)
				}
				fmt.Fprintln(a.stdout, line)
				for _, cr := range t.Cascades {
					fmt.Fprintf(a.stdout, "      the database (ON DELETE) %s %d rows of %s (%s)", cr.Action, cr.Rows, cr.Table, cr.Columns)
					if cr.Others > 0 {
						fmt.Fprintf(a.stdout, ", %d of them not the subject's", cr.Others)
					}
					fmt.Fprintln(a.stdout)
				}
			}
			for _, x := range c.Remaining {
				what := "remaining"
				if x.Kept != "" {
					what = "kept: " + x.Kept
				}
				fmt.Fprintf(a.stdout, "  the subject's %s is still in %s — %s\n", x.Identity, x, what)
			}
			if len(c.Searched) > 0 {
				fmt.Fprintf(a.stdout, "  searched for the subject's identities after the erasure: %s\n", strings.Join(c.Searched, ", "))
			}
			if ap := c.Approval; ap != nil && ap.ApprovedAt != nil {
				fmt.Fprintf(a.stdout, "  approved past the brake by %s on %s: %s\n", ap.ApprovedBy, ap.ApprovedAt.Format(time.RFC3339), strings.Join(ap.Reasons, "; "))
			}
			if c.Backups != "" {
				fmt.Fprintf(a.stdout, "  backups: %s\n", c.Backups)
			}
			return nil
		},
	}
	verify.Flags().StringArrayVar(&pubs, "public-key", nil, "trust this base64 Ed25519 public key (from vow keys public) instead of this installation's; repeat")
	verify.Flags().StringVar(&keysURL, "keys-url", "", "trust the keys a Vow server publishes, e.g. https://privacy.example.com"+WellKnownKeys)
	cmd := &cobra.Command{
		Use:     "certificate",
		Short:   "Work with erasure certificates",
		Example: "  vow certificate verify certificate.json",
	}
	cmd.AddCommand(verify)
	return cmd
}

// policyEraser keeps the subject's policy acceptances under a pseudonym
// and drops the change notices not yet sent to them.
func policyEraser(v *versions.Service) func(context.Context, dsr.Identities) ([]dsr.TableRecord, error) {
	return func(ctx context.Context, ids dsr.Identities) ([]dsr.TableRecord, error) {
		var sum versions.Erased
		for kind, value := range ids {
			if !identity.Global(kind) {
				continue // acceptances are filed under an app's own subject names
			}
			e, err := v.Erase(ctx, value)
			if err != nil {
				return nil, err
			}
			sum.Acceptances += e.Acceptances
			sum.Notices += e.Notices
		}
		return []dsr.TableRecord{
			{System: "vow", Table: "policy_acceptances", Action: "masked", Rows: sum.Acceptances, Reason: "kept under a pseudonym as proof of what was accepted"},
			{System: "vow", Table: "policy_notices", Action: "masked", Rows: sum.Notices, Reason: "notices not yet sent are deleted; those sent keep a pseudonym"},
		}, nil
	}
}

// signerID is the ID of the key that signed a verified certificate.
func signerID(doc []byte) string {
	var s dsr.Signed
	_ = json.Unmarshal(doc, &s)
	pub, _ := base64.StdEncoding.DecodeString(s.Signature.PublicKey)
	return keyring.KeyID(pub)
}

// consentEraser reduces the consent history kept under each of the
// subject's identities that name one person everywhere (an email address,
// in any spelling, or a phone number) to proof of opt-out. Consent is
// filed under the application's own subject names; a user_id or
// customer_id names a row of one table, and "42" there may be someone
// else's, so those are left alone.
func consentEraser(c *consent.Service) func(context.Context, dsr.Identities) ([]dsr.TableRecord, error) {
	return func(ctx context.Context, ids dsr.Identities) ([]dsr.TableRecord, error) {
		var deleted int64
		for kind, v := range ids {
			if !identity.Global(kind) {
				continue // "42" under consent may be another person's user_id
			}
			subjects := []string{v}
			if identity.CaseInsensitive(kind) {
				more, err := c.Spellings(ctx, v)
				if err != nil {
					return nil, err
				}
				subjects = append(subjects, more...)
			}
			for _, sub := range slices.Compact(slices.Sorted(slices.Values(subjects))) {
				e, err := c.Erase(ctx, sub)
				if err != nil {
					return nil, err
				}
				deleted += e.Deleted + e.Devices
			}
		}
		return []dsr.TableRecord{{System: "vow", Table: "consent", Action: "masked", Rows: deleted,
			Reason: "proof of opt-out is kept under a pseudonym"}}, nil
	}
}
