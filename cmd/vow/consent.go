package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vowprivacy/vow/consent"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/server"
	"github.com/vowprivacy/vow/state"
	"github.com/vowprivacy/vow/versions"
)

// mountConsent mounts the consent API and keeps this instance's consent
// cache in step with other instances (LISTEN/NOTIFY on PostgreSQL).
func mountConsent(env *serveEnv, mux *server.Mux) error {
	svc := env.consentService()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := svc.Listen(ctx); err != nil {
			env.Logger.Error("consent: listen", "err", err)
		}
	}()
	env.OnClose(func() { cancel(); <-done })
	return svc.Mount(mux, env.BaseURL)
}

// consentService returns the server's consent service. Erasures use it
// too, so the cache it keeps forgets an erased subject at once; a second
// instance in the same process would go on answering from its own cache
// (on SQLite nothing tells it otherwise).
func (e *serveEnv) consentService() *consent.Service {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.consent == nil {
		e.consent = newConsent(context.Background(), e.Store, e.Policy, e.Keyring, e.Logger)
	}
	return e.consent
}

// consentService opens the policy, state store and keyring for a consent
// verb; closeAll releases them.
func (a *app) consentService(cmd *cobra.Command, file string) (svc *consent.Service, closeAll func(), err error) {
	p, err := a.loadValidPolicy(file)
	if err != nil {
		return nil, nil, err
	}
	st, err := a.openState(cmd)
	if err != nil {
		return nil, nil, err
	}
	k, err := a.openKeyring(cmd, a.dataDir, st)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return newConsent(cmd.Context(), st, p, k, a.logger), func() { st.Close() }, nil
}

// newConsent builds a consent service that records, with every decision,
// the published policy version in force when the running policy file is
// that version (vow policy publish), and the file's hash otherwise.
func newConsent(ctx context.Context, st *state.Store, p *policy.Policy, k *keyring.Keyring, logger *slog.Logger) *consent.Service {
	var o consent.Options
	v, err := (&versions.Service{Store: st}).Get(ctx, versions.Hash(p.Source))
	switch {
	case err == nil:
		o.PolicyVersion = v.ID
	case !errors.Is(err, versions.ErrNotFound) && !errors.Is(err, versions.ErrNoVersions):
		logger.Warn("consent: cannot read the published policy versions; recording the policy file's hash instead", "err", err)
	}
	return consent.New(st, p, k, logger, o)
}

func (a *app) consentCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "consent",
		Short: "Show, record and erase consent from the command line",
		Long: `Consent shows a subject's effective consent for each consent purpose of the
policy, its history and receipts, records decisions (source import), and
erases a subject's consent history down to pseudonymised proof of opt-out.
The HTTP API of vow serve does the same for applications (docs/api.md).`,
		Example: `  vow consent show user-42
  vow consent set user-42 marketing=granted analytics=denied
  vow consent history user-42 --format json
  vow consent erase user-42`,
	}
	with := func(run func(cmd *cobra.Command, svc *consent.Service, args []string) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			svc, closeAll, err := a.consentService(cmd, a.policy)
			if err != nil {
				return err
			}
			defer closeAll()
			return run(cmd, svc, args)
		}
	}
	show := &cobra.Command{
		Use:     "show SUBJECT",
		Short:   "Show a subject's effective consent and preferences",
		Example: "  vow consent show user-42 --format json",
		Args:    cobra.ExactArgs(1),
		RunE: with(func(cmd *cobra.Command, svc *consent.Service, args []string) error {
			st, err := svc.State(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			prefs, err := svc.Preferences(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.json(map[string]any{"subject": args[0], "purposes": st.Purposes, "topics": prefs.Topics, "policy_version": svc.Version()})
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "PURPOSE\tALLOWED\tSTATUS\tSOURCE\tSINCE")
			for _, name := range svc.Purposes() {
				ps := st.Purposes[name]
				fmt.Fprintf(tw, "%s\t%v\t%s\t%s\t%s\n", name, ps.Allowed, ps.Status, ps.Source, since(ps.At))
			}
			fmt.Fprintln(tw, "\nTOPIC\tSUBSCRIBED\tSOURCE\tSINCE\t")
			for _, name := range svc.Topics() {
				ts := prefs.Topics[name]
				fmt.Fprintf(tw, "%s\t%v\t%s\t%s\t\n", name, ts.Subscribed, ts.Source, since(ts.At))
			}
			return tw.Flush()
		}),
	}
	set := &cobra.Command{
		Use:     "set SUBJECT PURPOSE=STATUS...",
		Short:   "Record consent decisions (granted, denied, withdrawn) with source import",
		Example: "  vow consent set user-42 marketing=granted analytics=denied",
		Args:    cobra.MinimumNArgs(2),
		RunE: with(func(cmd *cobra.Command, svc *consent.Service, args []string) error {
			var changes []consent.Change
			for _, kv := range args[1:] {
				p, s, ok := strings.Cut(kv, "=")
				if !ok {
					return fmt.Errorf("%q: write PURPOSE=STATUS, e.g. marketing=granted", kv)
				}
				changes = append(changes, consent.Change{Subject: args[0], Purpose: p, Status: consent.Status(s), Source: consent.SourceImport, RecordedBy: "vow consent set"})
			}
			evs, err := svc.Record(cmd.Context(), changes)
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.json(map[string]any{"events": evs})
			}
			for _, e := range evs {
				fmt.Fprintf(a.stdout, "recorded %s %s for %s (receipt %s)\n", e.Purpose, e.Status, e.Subject, e.ID)
			}
			return nil
		}),
	}
	history := &cobra.Command{
		Use:     "history SUBJECT",
		Short:   "List a subject's consent events",
		Example: "  vow consent history user-42",
		Args:    cobra.ExactArgs(1),
		RunE: with(func(cmd *cobra.Command, svc *consent.Service, args []string) error {
			evs, err := svc.History(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.json(map[string]any{"subject": args[0], "events": evs})
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "AT\tPURPOSE\tSTATUS\tSOURCE\tBY\tPOLICY\tRECEIPT")
			for _, e := range evs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.At.Format(time.DateTime), e.Purpose, e.Status, e.Source, e.RecordedBy, e.PolicyVersion, e.ID)
			}
			return tw.Flush()
		}),
	}
	erase := &cobra.Command{
		Use:   "erase SUBJECT",
		Short: "Reduce a subject's consent history to pseudonymised proof of opt-out",
		Long: `Erase deletes the subject's grants and subscriptions and keeps their denials,
withdrawals and unsubscriptions under a keyed pseudonym, so the opt-outs still
hold if the same person comes back. --dry-run shows what would be kept.`,
		Example: "  vow consent erase user-42 --dry-run\n  vow consent erase user-42",
		Args:    cobra.ExactArgs(1),
		RunE: with(func(cmd *cobra.Command, svc *consent.Service, args []string) error {
			if dry, _ := cmd.Flags().GetBool("dry-run"); dry {
				evs, err := svc.History(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				kept := slices.DeleteFunc(slices.Clone(evs), func(e consent.Event) bool { return e.Status == consent.Granted })
				out := map[string]any{"subject": args[0], "pseudonym": svc.Pseudonym(args[0]), "consent_events_kept": len(kept), "consent_events_deleted": len(evs) - len(kept), "dry_run": true}
				if a.format == "json" {
					return a.json(out)
				}
				fmt.Fprintf(a.stdout, "dry run: would keep %d consent event(s) as %s and delete %d grant(s); preferences likewise\n", len(kept), svc.Pseudonym(args[0]), len(evs)-len(kept))
				return nil
			}
			e, err := svc.Erase(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.json(e)
			}
			fmt.Fprintf(a.stdout, "erased %s: kept %d opt-out event(s) as %s, deleted %d, unlinked %d device(s)\n", e.Subject, e.Kept, e.Pseudonym, e.Deleted, e.Devices)
			return nil
		}),
	}
	erase.Flags().Bool("dry-run", false, "show what would be kept and deleted, change nothing")
	cmd.AddCommand(show, set, history, erase)
	return cmd
}

func since(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.DateTime)
}
