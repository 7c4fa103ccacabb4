package main

import (
	"bufio"
	"cmp"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/mailer"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/render"
	"github.com/vowprivacy/vow/state"
	"github.com/vowprivacy/vow/versions"
	"github.com/vowprivacy/vow/webhook"
)

// noticeMACPurpose derives the secret of change-notice webhooks.
const noticeMACPurpose = "policy notice webhook secret"

func (a *app) policyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Publish versions of the privacy policy, compare them, notify and record acceptances",
		Long: `Policy keeps the published history of the privacy policy in Vow's state store.

  publish  stores vow.yaml as a new version: its content hash, effective date,
           the file itself and the documents rendered from it
  list     lists the versions
  diff     shows what changed in meaning between two versions (or files),
           each change material or not by the rules in docs/rendering.md
  notify   sends the change notices that are due (email over SMTP from
           $VOW_SMTP_URL, and webhooks), recording each
  accept   records that a subject accepted a version

A material change must take effect at least change_notice_days after it is
published; vow serve shows the policy in effect at /privacy and every version
at /privacy/versions/{id}.`,
		Example: `  vow policy publish --notify-list customers.txt --webhook https://app.example.com/hooks/policy
  vow policy list
  vow policy diff v1 v2
  vow policy diff v2 vow.yaml       # what publishing vow.yaml would change
  VOW_SMTP_URL=smtp://user:pass@mail.example.com:587?from=privacy@example.com vow policy notify
  vow policy accept user@example.com --source signup`,
	}
	cmd.AddCommand(a.policyPublishCommand(), a.policyListCommand(), a.policyDiffCommand(), a.policyNotifyCommand(), a.policyAcceptCommand(), a.policyWebhookSecretCommand())
	return cmd
}

// policyService opens the state store and returns the versions service on
// it and a function closing it.
func (a *app) policyService(cmd *cobra.Command, rf *renderFlags) (*versions.Service, func(), error) {
	r, err := rf.renderer()
	if err != nil {
		return nil, nil, err
	}
	store, err := a.openState(cmd)
	if err != nil {
		return nil, nil, err
	}
	k, err := a.openKeyring(cmd, a.dataDir, store)
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return &versions.Service{Store: store, Renderer: r, Keys: k}, func() { store.Close() }, nil
}

func (a *app) policyPublishCommand() *cobra.Command {
	var effective, notifyList, actor string
	var to, webhooks []string
	var rf renderFlags
	cmd := &cobra.Command{
		Use:   "publish [vow.yaml]",
		Short: "Store the policy as a new published version",
		Long: `Publish stores vow.yaml as the next version (v1, v2, …) with its SHA-256, its
effective date and the Markdown, HTML and summary rendered from it.

The effective date is --effective, else notices.effective when it is today or
later, else today; when the version makes a material change, it must be at
least change_notice_days (of the version before) away, and notices to every
recipient are scheduled for that many days before it. Recipients: --to,
--notify-list (a file, one address a line), else every subject that accepted an
earlier version and is an email address; --webhook adds in-app notices.
vow policy notify (or vow serve) sends them when they are due.`,
		Example: `  vow policy publish
  vow policy publish --effective 2027-01-15 --notify-list customers.txt
  vow policy publish --webhook https://app.example.com/hooks/privacy-policy`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := a.policyArg(args)
			p, err := a.loadValidPolicy(file)
			if err != nil {
				return err
			}
			var eff time.Time
			if effective != "" {
				if eff, err = time.Parse(time.DateOnly, effective); err != nil {
					return fmt.Errorf("--effective must be a date YYYY-MM-DD, not %q", effective)
				}
			}
			emails := to
			if notifyList != "" {
				list, err := readList(notifyList)
				if err != nil {
					return err
				}
				emails = append(emails, list...)
			}
			svc, closeAll, err := a.policyService(cmd, &rf)
			if err != nil {
				return err
			}
			defer closeAll()
			ctx := cmd.Context()
			v, err := svc.Publish(ctx, versions.Publish{Policy: p, Effective: eff, Actor: cmp.Or(actor, "vow policy publish")})
			if err != nil {
				return err
			}
			scheduled := 0
			if v.Material {
				if scheduled, err = svc.Schedule(ctx, v.ID, versions.Recipients{Emails: emails, Webhooks: webhooks}); err != nil {
					return fmt.Errorf("%s is published, but its notices could not be scheduled: %w (try vow policy publish again after fixing it; nothing is published twice)", v.ID, err)
				}
			}
			if a.format == "json" {
				return a.json(map[string]any{"version": v, "notices_scheduled": scheduled})
			}
			fmt.Fprintf(a.stdout, "Published %s (sha256 %s), effective %s.\n", v.ID, v.Hash[:12], v.Effective)
			if len(v.Changes) > 0 {
				if err := a.printChanges(svc.Renderer, v.Changes); err != nil {
					return err
				}
			}
			if v.Material {
				fmt.Fprintf(a.stdout, "%d notice(s) scheduled; vow policy notify sends them when due.\n", scheduled)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&effective, "effective", "", "date the version takes effect (YYYY-MM-DD)")
	cmd.Flags().StringSliceVar(&to, "to", nil, "email addresses to notify of a material change")
	cmd.Flags().StringVar(&notifyList, "notify-list", "", "file of email addresses to notify, one a line")
	cmd.Flags().StringSliceVar(&webhooks, "webhook", nil, "URL to POST the change notice to (for in-app notices)")
	cmd.Flags().StringVar(&actor, "actor", "", "who publishes, for the record")
	rf.add(cmd)
	return cmd
}

// readList reads one entry a line, skipping blanks and # comments.
func readList(file string) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out, sc.Err()
}

func (a *app) printChanges(r *render.Renderer, cs []versions.Change) error {
	for _, c := range cs {
		text, err := r.DescribeChange(render.Change{Kind: c.Kind, Subject: c.Subject, From: c.From, To: c.To, Material: c.Material})
		if err != nil {
			return err
		}
		tag := "         "
		if c.Material {
			tag = "MATERIAL "
		}
		fmt.Fprintf(a.stdout, "  %s%s  [%s]\n", tag, text, c.Kind)
	}
	return nil
}

func (a *app) policyListCommand() *cobra.Command {
	var rf renderFlags
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the published versions",
		Example: "  vow policy list\n  vow policy list --format json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			svc, closeAll, err := a.policyService(cmd, &rf)
			if err != nil {
				return err
			}
			defer closeAll()
			vs, err := svc.List(cmd.Context())
			if err != nil {
				return err
			}
			current := ""
			if c, err := svc.Current(cmd.Context()); err == nil {
				current = c.ID
			}
			if a.format == "json" {
				if vs == nil {
					vs = []*versions.Version{}
				}
				return a.json(map[string]any{"versions": vs, "current": current})
			}
			if len(vs) == 0 {
				fmt.Fprintln(a.stdout, "No version published yet; vow policy publish stores one.")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "VERSION\tEFFECTIVE\tPUBLISHED\tSHA256\tCHANGES\t")
			for _, v := range vs {
				mark := ""
				if v.ID == current {
					mark = " (current)"
				}
				changes := fmt.Sprint(len(v.Changes))
				if v.Material {
					changes += " (material)"
				}
				fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%s\t\n", v.ID, mark, v.Effective, v.PublishedAt.Format("2006-01-02 15:04"), v.Hash[:12], changes)
			}
			return tw.Flush()
		},
	}
	return cmd
}

func (a *app) policyDiffCommand() *cobra.Command {
	var rf renderFlags
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Show what changed in meaning between two versions or policy files",
		Long: `Diff compares two versions of the policy — published versions (v1, 2, a hash
prefix) or policy files — and lists each change in meaning: a new processor,
a new category, a new purpose, a longer retention, a right removed, …, each
marked material or not by the rules in docs/rendering.md. Changes of wording
only are not listed.

Exit status: 0 no material change, 1 at least one material change.`,
		Example: `  vow policy diff v1 v2
  vow policy diff v3 vow.yaml            # what publishing vow.yaml would change
  vow policy diff old.yaml new.yaml --format json`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := rf.renderer()
			if err != nil {
				return err
			}
			var svc *versions.Service
			load := func(ref string) (*policy.Policy, string, error) {
				if st, err := os.Stat(ref); err == nil && !st.IsDir() {
					p, err := a.loadValidPolicy(ref)
					return p, ref, err
				}
				if svc == nil {
					store, err := a.openState(cmd)
					if err != nil {
						return nil, "", err
					}
					cmd.PostRun = func(*cobra.Command, []string) { store.Close() }
					svc = &versions.Service{Store: store, Renderer: r}
				}
				v, err := svc.Get(cmd.Context(), ref)
				if err != nil {
					if errors.Is(err, versions.ErrNotFound) {
						return nil, "", fmt.Errorf("%q is neither a policy file nor a published version (vow policy list)", ref)
					}
					return nil, "", err
				}
				p, err := v.Policy()
				return p, v.ID, err
			}
			pa, na, err := load(args[0])
			if err != nil {
				return err
			}
			pb, nb, err := load(args[1])
			if err != nil {
				return err
			}
			changes := versions.Diff(pa, pb)
			material := versions.Material(changes)
			if a.format == "json" {
				if changes == nil {
					changes = []versions.Change{}
				}
				err = a.json(map[string]any{"from": na, "to": nb, "material": material, "changes": changes})
			} else if len(changes) == 0 {
				fmt.Fprintf(a.stdout, "%s → %s: no change in meaning.\n", na, nb)
			} else {
				fmt.Fprintf(a.stdout, "%s → %s: %d change(s), %s\n", na, nb, len(changes), map[bool]string{true: "material: notice needed before it takes effect", false: "none material"}[material])
				err = a.printChanges(r, changes)
			}
			if err == nil && material {
				return exitError{1}
			}
			return err
		},
	}
	rf.add(cmd)
	return cmd
}

func (a *app) policyNotifyCommand() *cobra.Command {
	var dryRun bool
	var baseURL, smtpURL string
	var rf renderFlags
	cmd := &cobra.Command{
		Use:   "notify",
		Short: "Send the change notices that are due, and record each",
		Long: `Notify sends every scheduled notice of a material change whose day has come:
email through the SMTP server of $VOW_SMTP_URL
(smtp://user:pass@host:port?from=privacy@example.com), and webhook POSTs signed
with a timestamped Vow-Signature header (the secret: vow policy webhook-secret),
to public addresses only unless VOW_WEBHOOK_ALLOW_PRIVATE=1.
Each outcome is recorded on the notice and in the event log; failures are tried
again on the next run, up to 5 times. vow serve runs this every minute.`,
		Example: `  vow policy notify --dry-run
  VOW_SMTP_URL=smtp://mail.example.com:587?from=privacy@example.com vow policy notify --base-url https://privacy.example.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			svc, closeAll, err := a.policyService(cmd, &rf)
			if err != nil {
				return err
			}
			defer closeAll()
			snd := versions.Sender{BaseURL: baseURL, DryRun: dryRun}
			if !dryRun {
				smtpURL = cmp.Or(smtpURL, os.Getenv("VOW_SMTP_URL"))
				if smtpURL == "" {
					a.logger.Warn("VOW_SMTP_URL is not set: email notices stay pending")
				} else if snd.Mail, err = mailer.FromURL(smtpURL); err != nil {
					return err
				}
				k, err := a.openKeyring(cmd, a.dataDir, svc.Store)
				if err != nil {
					return err
				}
				snd.Webhooks, snd.Secret = vowWebhooks(), noticeSecret(k)
			}
			done, err := svc.SendDue(cmd.Context(), snd)
			if err != nil {
				return err
			}
			if a.format == "json" {
				if done == nil {
					done = []versions.Notice{}
				}
				return a.json(map[string]any{"dry_run": dryRun, "notices": done})
			}
			if len(done) == 0 {
				fmt.Fprintln(a.stdout, "No notice is due.")
				return nil
			}
			failed := 0
			for _, n := range done {
				status := n.Status
				if dryRun {
					status = "due"
				}
				line := fmt.Sprintf("%-7s %s %-7s %s", status, n.VersionID, n.Channel, n.Recipient)
				if n.LastError != "" && !dryRun {
					line += ": " + n.LastError
					failed++
				}
				fmt.Fprintln(a.stdout, line)
			}
			if failed > 0 {
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list the notices that are due without sending them")
	cmd.Flags().StringVar(&baseURL, "base-url", os.Getenv("VOW_BASE_URL"), "public URL of vow serve, for the link to the new version")
	// Not os.Getenv as the default: help would print the password.
	cmd.Flags().StringVar(&smtpURL, "smtp", "", "SMTP server: smtp://user:pass@host:port?from=privacy@example.com (default $VOW_SMTP_URL)")
	rf.add(cmd)
	return cmd
}

// noticeSecret is the secret that signs change-notice webhooks (the
// Vow-Signature header); vow policy webhook-secret prints it for the
// receivers. It is derived from the master key, so every instance signs
// alike.
func noticeSecret(k *keyring.Keyring) []byte {
	return []byte(hex.EncodeToString(k.MAC(noticeMACPurpose, []byte("v1"))))
}

// vowWebhooks is the client for the webhooks Vow sends of its own accord
// (change notices, breach deadline warnings): public addresses only,
// unless $VOW_WEBHOOK_ALLOW_PRIVATE=1 (a receiver on the company's own
// network); one try, since the callers retry on their next run.
func vowWebhooks() *webhook.Client {
	c := webhook.New(os.Getenv("VOW_WEBHOOK_ALLOW_PRIVATE") == "1", 10*time.Second)
	c.Attempts = 1
	return c
}

func (a *app) policyWebhookSecretCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "webhook-secret",
		Short: "Print the secret that signs change-notice webhooks, for their receivers",
		Long: `Change-notice webhooks carry a Vow-Signature header: t=<unix time>,v1=<hex
HMAC-SHA256 of "<t>.<body>">, keyed with this secret (derived from the master
key, the same on every instance). A receiver recomputes it, compares in
constant time, and refuses a time more than five minutes away; the body's "id"
lets it drop a notice it has seen.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := a.openKeys(cmd)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, string(noticeSecret(k)))
			return nil
		},
	}
}

func (a *app) policyAcceptCommand() *cobra.Command {
	var version, source string
	var rf renderFlags
	cmd := &cobra.Command{
		Use:   "accept SUBJECT",
		Short: "Record that a subject accepted a version of the policy",
		Long: `Accept records that SUBJECT (an email address or your own user id) accepted a
version (the latest when --version is not given). Accepting the same version
again keeps the first record. Subjects that are email addresses are notified of
later material changes.`,
		Example: `  vow policy accept user@example.com
  vow policy accept user-42 --version v3 --source "signup form"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, closeAll, err := a.policyService(cmd, &rf)
			if err != nil {
				return err
			}
			defer closeAll()
			acc, err := svc.Accept(cmd.Context(), args[0], version, cmp.Or(source, "vow policy accept"))
			if err != nil {
				if errors.Is(err, state.ErrInvalid) {
					return fmt.Errorf("SUBJECT must not be empty")
				}
				return err
			}
			if a.format == "json" {
				return a.json(acc)
			}
			fmt.Fprintf(a.stdout, "%s accepted %s at %s (%s).\n", acc.Subject, acc.VersionID, acc.AcceptedAt.Format(time.RFC3339), acc.Source)
			return nil
		},
	}
	cmd.Flags().StringVar(&version, "version", "", "version accepted (default: the latest)")
	cmd.Flags().StringVar(&source, "source", "", "where it was accepted (signup form, API, …)")
	return cmd
}
