package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vowprivacy/vow/audit"
	"github.com/vowprivacy/vow/hold"
	"github.com/vowprivacy/vow/identity"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/state"
)

func (a *app) auditCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Verify, export, seal and prune Vow's own audit log",
		Long: `Everything Vow does is an entry of its audit log, in the state store. Each
entry is chained to the one before by a hash, and Vow seals the chain with
checkpoints signed by its key (at the end of every command that appends, and
every minute while vow serve runs). vow audit verify tells whether any entry
was changed, removed, inserted or reordered, and where; anyone holding an
export and the public key (vow keys public) can check it.`,
		Example: `  vow audit verify
  vow audit export -o audit.jsonl
  vow audit verify --file audit.jsonl --public-key "$(cat vow-public.key)"
  vow audit prune --dry-run`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(a.auditVerifyCommand(), a.auditExportCommand(), a.auditSealCommand(), a.auditPruneCommand())
	return cmd
}

func (a *app) auditVerifyCommand() *cobra.Command {
	var (
		file, keysURL string
		keys          []string
	)
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the audit log (or an export of it) against its hashes and signed checkpoints",
		Long: `Verify reads every entry and checks that its content matches its hash, that it
follows the entry before it, and that the chain agrees with every checkpoint
signed by a trusted key: this installation's key, or the ones given with
--public-key. It exits 1 if any entry was changed, removed, inserted or
reordered, and lists where. Entries after the last checkpoint are chained
but not yet signed; the report says how many.`,
		Example: `  vow audit verify
  vow audit verify --file audit.jsonl --public-key "$(cat vow-public.key)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			pubs, err := a.trustedPublicKeys(cmd, keys, keysURL)
			if err != nil {
				return err
			}
			trusted := audit.TrustKeys(pubs...)
			var (
				src   audit.Source
				store *state.Store
			)
			if file != "" {
				if src, err = audit.ReadExport(file); err != nil {
					return err
				}
			} else {
				if store, err = a.openState(cmd); err != nil {
					return err
				}
				defer store.Close()
				src = audit.StoreSource{Store: store}
			}
			start := time.Now()
			r, err := audit.Verify(ctx, src, trusted)
			if err != nil {
				return err
			}
			if store != nil {
				// What this installation last sealed must still be there.
				p, err := (&audit.Log{Store: store, Witness: a.witness()}).CheckWitness(ctx)
				if err != nil {
					return err
				}
				if p != "" {
					r.Problems = append(r.Problems, audit.Problem{Kind: audit.Missing, Detail: p})
				}
			}
			if a.format == "json" {
				if err := a.json(r); err != nil {
					return err
				}
			} else {
				a.printReport(r, time.Since(start))
			}
			if !r.OK() {
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "verify this export (vow audit export) instead of the state store")
	cmd.Flags().StringArrayVar(&keys, "public-key", nil, "trust checkpoints signed by this public key (base64, from vow keys public --all); repeat")
	cmd.Flags().StringVar(&keysURL, "keys-url", "", "trust the keys a Vow server publishes, e.g. https://privacy.example.com"+WellKnownKeys)
	return cmd
}

func (a *app) printReport(r *audit.Report, took time.Duration) {
	w := a.stdout
	if r.Entries == 0 {
		fmt.Fprintf(w, "audit log: no entries")
	} else {
		fmt.Fprintf(w, "audit log: %d entries (#%d–#%d)", r.Entries, r.First, r.Last)
	}
	fmt.Fprintf(w, ", %d checkpoint(s), read in %s\n", r.Checkpoints, took.Round(time.Millisecond))
	switch {
	case r.SealedThrough > 0 && r.Unsealed > 0:
		fmt.Fprintf(w, "sealed through #%d (signed %s); %d entr%s after it not yet sealed\n", r.SealedThrough, r.SealedAt.Format(time.RFC3339), r.Unsealed, plural(r.Unsealed, "y is", "ies are"))
	case r.SealedThrough > 0:
		fmt.Fprintf(w, "sealed through #%d (signed %s)\n", r.SealedThrough, r.SealedAt.Format(time.RFC3339))
	case r.Entries > 0:
		fmt.Fprintf(w, "no checkpoint yet: run vow audit seal\n")
	}
	if r.OK() {
		fmt.Fprintln(w, "verified: no entry was changed, removed, inserted or reordered")
		return
	}
	fmt.Fprintf(w, "NOT VERIFIED: %d problem(s)\n", len(r.Problems))
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  #%d %s: %s\n", p.Seq, p.Kind, p.Detail)
	}
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (a *app) auditExportCommand() *cobra.Command {
	var (
		f            audit.Filter
		since, until string
		out, person  string
	)
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the audit log as JSON Lines, whole or filtered",
		Long: `Export writes a header line, then (for a whole export) the signed checkpoints,
then one line per entry: seq, at, kind, subject, actor, data, and the entry's
prev and hash in hex. A whole export can be verified by anyone with the public
key (vow audit verify --file). Filters select entries by subject, actor, kind
and time; --identity selects the entries about one person (the log names
people only by keyed pseudonyms, so this needs this installation's key). A
filtered export cannot be verified as a chain.`,
		Example: `  vow audit export -o audit.jsonl
  vow audit export --identity ada@example.com
  vow audit export --kind request.completed --since 2026-01-01
  vow audit export --subject req_8f2a… --until 2026-07-01T00:00:00Z`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			if f.Since, err = parseInstant("--since", since); err != nil {
				return err
			}
			if f.Until, err = parseInstant("--until", until); err != nil {
				return err
			}
			if person != "" {
				kind, value := identity.Email, person
				if sub, err := hold.ParseSubject(person); err == nil {
					kind, value = sub.Kind, sub.Value
				} else if !strings.Contains(person, "@") {
					return fmt.Errorf("--identity: %w", err)
				}
				k, err := a.openKeys(cmd)
				if err != nil {
					return fmt.Errorf("--identity: %w", err)
				}
				f.Person = audit.Identity(k, kind, value)
			}
			s, err := a.openState(cmd)
			if err != nil {
				return err
			}
			defer s.Close()
			w := a.stdout
			if out != "" && out != "-" {
				file, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
				if err != nil {
					return fmt.Errorf("export: %w (choose a new file: an export never overwrites one)", err)
				}
				defer func() {
					if cerr := file.Close(); err == nil {
						err = cerr
					}
				}()
				w = file
			}
			n, err := audit.Export(cmd.Context(), s, f, w)
			if err != nil {
				return err
			}
			if out != "" && out != "-" {
				fmt.Fprintf(a.stderr, "exported %d entries to %s\n", n, out)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&person, "identity", "", "only entries about the person with this email address, or kind:value (user_id:42), which the log holds only as a pseudonym")
	cmd.Flags().StringVar(&f.Subject, "subject", "", "only entries with this subject, as the log stores it (a request id, a policy version, a pseudonym)")
	cmd.Flags().StringVar(&f.Actor, "actor", "", "only entries by this actor")
	cmd.Flags().StringVar(&f.Kind, "kind", "", "only entries of this kind, e.g. request.completed")
	cmd.Flags().StringVar(&since, "since", "", "only entries at or after this time (YYYY-MM-DD or RFC 3339)")
	cmd.Flags().StringVar(&until, "until", "", "only entries before this time (YYYY-MM-DD or RFC 3339)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this new file instead of standard output")
	return cmd
}

// parseInstant reads a flag's date (midnight UTC) or RFC 3339 time; empty
// is the zero time.
func parseInstant(flag, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not a date (2026-01-31) or an RFC 3339 time (2026-01-31T12:00:00Z)", flag, v)
	}
	return t.UTC(), nil
}

func (a *app) auditSealCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "seal",
		Short: "Sign a checkpoint at the newest entry of the audit log",
		Long: `Seal signs a checkpoint at the newest entry, so that no entry up to it can be
rewritten unseen. Vow seals by itself at the end of each command and every
minute while serving; run this before taking an export for someone else.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := a.openAuditLog(cmd)
			if err != nil {
				return err
			}
			defer log.Store.Close()
			c, made, err := log.Seal(cmd.Context())
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.json(map[string]any{"seq": c.Seq, "new": made, "key_id": log.Keys.ID()})
			}
			switch {
			case c.Seq == 0:
				fmt.Fprintln(a.stdout, "the audit log is empty: nothing to seal")
			case made:
				fmt.Fprintf(a.stdout, "sealed the audit log through #%d with key %s\n", c.Seq, log.Keys.ID())
			default:
				fmt.Fprintf(a.stdout, "the audit log is sealed through #%d already\n", c.Seq)
			}
			return nil
		},
	}
}

func (a *app) auditPruneCommand() *cobra.Command {
	var (
		dryRun bool
		before string
	)
	cmd := &cobra.Command{
		Use:   "prune [vow.yaml]",
		Short: "Delete audit entries older than the policy keeps them (retention.audit_log)",
		Long: `Prune deletes the entries older than retention.audit_log (or --before). It
verifies the log first and deletes nothing from a log that does not verify;
it seals the last entry it deletes with a checkpoint, records the pruning as
an audit.pruned entry, and then deletes, so what is left still verifies.
vow serve prunes once a day by itself.`,
		Example: `  vow audit prune --dry-run
  vow audit prune vow.yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var keep policy.Duration
			if before == "" {
				p, err := a.loadValidPolicy(a.policyArg(args))
				if err != nil {
					return err
				}
				keep = p.Retention.AuditLog
			}
			cutoff, err := retentionCutoff(before, keep, "audit_log", "12 months")
			if err != nil {
				return err
			}
			log, err := a.openAuditLog(cmd)
			if err != nil {
				return err
			}
			defer log.Store.Close()
			p, err := log.Prune(cmd.Context(), cutoff, "vow audit prune", dryRun)
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.json(p)
			}
			fmt.Fprintf(a.stdout, "%s %d audit entries written before %s (through #%d)\n", purgeVerb(dryRun), p.Deleted, p.Before.Format(time.RFC3339), p.Through)
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "say what would be deleted, and delete nothing")
	cmd.Flags().StringVar(&before, "before", "", "delete entries before this time instead of the policy's retention (YYYY-MM-DD or RFC 3339)")
	return cmd
}

// retentionCutoff is the time before which a purge of Vow's own records
// deletes: --before, else the policy's retention.<key> before now. An
// unset period keeps the records for ever, and says how to set one.
func retentionCutoff(before string, keep policy.Duration, key, example string) (time.Time, error) {
	cutoff, err := parseInstant("--before", before)
	if err != nil || !cutoff.IsZero() {
		return cutoff, err
	}
	if keep.IsZero() {
		return time.Time{}, fmt.Errorf("the policy keeps them for ever (retention.%s is not set): nothing to delete; set it, e.g. %s: %s, or pass --before", key, key, example)
	}
	return keep.Before(time.Now()), nil
}

func purgeVerb(dryRun bool) string {
	if dryRun {
		return "dry run: would delete"
	}
	return "deleted"
}

// witness is the audit log's witness file in the data directory.
func (a *app) witness() string { return filepath.Join(a.dataDir, audit.WitnessFile) }

// openAuditLog opens the state store and the keys that sign its log;
// the caller closes log.Store.
func (a *app) openAuditLog(cmd *cobra.Command) (*audit.Log, error) {
	s, err := a.openState(cmd)
	if err != nil {
		return nil, err
	}
	k, err := a.openKeyring(cmd, a.dataDir, s)
	if err != nil {
		s.Close()
		return nil, err
	}
	return &audit.Log{Store: s, Keys: k, Witness: a.witness()}, nil
}

// sealOnClose seals the audit log of s when it is closed, if this
// installation has a key: a command that appended leaves its entries
// signed. No key is created for it.
func (a *app) sealOnClose(s *state.Store) {
	s.BeforeClose(func(ctx context.Context) {
		k, err := keyring.Open(a.dataDir, nil)
		if errors.Is(err, keyring.ErrNoKey) {
			return
		}
		if err == nil {
			err = k.Bind(ctx, s)
		}
		if err == nil {
			_, _, err = (&audit.Log{Store: s, Keys: k, Witness: a.witness()}).Seal(ctx)
		}
		if err != nil {
			a.logger.Warn("could not seal the audit log; vow audit seal tries again", "err", err)
		}
	})
}
