package main

import (
	"cmp"
	"fmt"
	"os/user"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vowprivacy/vow/hold"
)

func (a *app) holdCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hold",
		Short: "Place, list and release legal holds on data subjects",
		Long: `A legal hold keeps a person's data from being removed: an erasure request for
them keeps everything (its certificate says so), and retention runs skip their
rows — a row is theirs when it, or a row that owns it at any depth, carries one
of their identities (emails whatever their case; a hold on an email also stops
an erasure requested by user_id). A subject is named by an identity:
email:ada@example.com, user_id:42, customer_id:acme, phone:…, username:…,
external_id:…. Holds are kept in the state store and never deleted; a
release is recorded with who and why.`,
		Example: `  vow hold add email:ada@example.com --reason "Litigation 2026-17" --until 2027-06-30
  vow hold list
  vow hold release hold_1f2e3d4c5b6a7988 --note "case settled"`,
	}
	cmd.AddCommand(a.holdAddCommand(), a.holdListCommand(), a.holdReleaseCommand())
	return cmd
}

func osUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

func (a *app) holdBook(cmd *cobra.Command) (*hold.Book, func(), error) {
	s, err := a.openState(cmd)
	if err != nil {
		return nil, nil, err
	}
	return hold.New(s), func() { s.Close() }, nil
}

func (a *app) holdAddCommand() *cobra.Command {
	var reason, by, until string
	cmd := &cobra.Command{
		Use:   "add kind:value",
		Short: "Place a legal hold on a data subject",
		Example: `  vow hold add email:ada@example.com --reason "Litigation 2026-17"
  vow hold add user_id:42 --reason "Tax audit" --until 2027-01-31 --by dpo@example.com`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			subject, err := hold.ParseSubject(args[0])
			if err != nil {
				return err
			}
			var u *time.Time
			if until != "" {
				t, err := time.Parse(time.DateOnly, until)
				if err != nil {
					return fmt.Errorf("--until %q must be a date, YYYY-MM-DD", until)
				}
				u = &t
			}
			book, done, err := a.holdBook(cmd)
			if err != nil {
				return err
			}
			defer done()
			h, err := book.Place(cmd.Context(), subject, reason, cmp.Or(by, osUser()), u)
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.json(h)
			}
			fmt.Fprintf(a.stdout, "placed %s on %s: %s\n", h.ID, h.Subject, h.Reason)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why the data must be kept (required)")
	cmd.Flags().StringVar(&by, "by", "", "who places the hold (default: the OS user)")
	cmd.Flags().StringVar(&until, "until", "", "date the hold ends by itself, YYYY-MM-DD (default: until released)")
	return cmd
}

func (a *app) holdListCommand() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List open legal holds (--all: released and expired too)",
		Example: "  vow hold list\n  vow hold list --all --format json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			book, done, err := a.holdBook(cmd)
			if err != nil {
				return err
			}
			defer done()
			hs, err := book.List(cmd.Context(), all)
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.json(map[string]any{"holds": hs})
			}
			if len(hs) == 0 {
				fmt.Fprintln(a.stdout, "no legal holds")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSUBJECT\tREASON\tBY\tPLACED\tUNTIL\tSTATE")
			now := time.Now()
			for _, h := range hs {
				until, st := "released", "open"
				if h.Until != nil {
					until = h.Until.Format(time.DateOnly)
				} else {
					until = "-"
				}
				switch {
				case h.ReleasedAt != nil:
					st = "released " + h.ReleasedAt.Format(time.DateOnly) + " by " + h.ReleasedBy
				case !h.Open(now):
					st = "expired"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.ID, h.Subject, h.Reason, h.PlacedBy, h.PlacedAt.Format(time.DateOnly), until, st)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "include released and expired holds")
	return cmd
}

func (a *app) holdReleaseCommand() *cobra.Command {
	var by, note string
	cmd := &cobra.Command{
		Use:     "release hold-id",
		Short:   "Release a legal hold",
		Example: `  vow hold release hold_1f2e3d4c5b6a7988 --note "case settled"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			book, done, err := a.holdBook(cmd)
			if err != nil {
				return err
			}
			defer done()
			h, err := book.Release(cmd.Context(), args[0], cmp.Or(by, osUser()), note)
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.json(h)
			}
			fmt.Fprintf(a.stdout, "released %s on %s\n", h.ID, h.Subject)
			return nil
		},
	}
	cmd.Flags().StringVar(&by, "by", "", "who releases it (default: the OS user)")
	cmd.Flags().StringVar(&note, "note", "", "why it is released")
	return cmd
}
