package main

import (
	"cmp"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vowprivacy/vow/apitoken"
)

func (a *app) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke API tokens for vow serve",
		Long: `API tokens authenticate calls to Vow's HTTP API. Each has a unique name (recorded
as who made each change) and scopes: requests, consent, admin (admin implies
all). Only a hash is stored: the secret is shown once, at creation.`,
		Example: `  vow token create backend --scope consent
  vow token create ops --scope admin --format json
  vow token list
  vow token revoke backend`,
	}
	var scopes []string
	create := &cobra.Command{
		Use:     "create NAME",
		Short:   "Create a token and print its secret (shown once)",
		Example: "  vow token create backend --scope consent --scope requests",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ts, closeStore, err := a.tokenStore(cmd)
			if err != nil {
				return err
			}
			defer closeStore()
			var sc []string
			for _, s := range scopes {
				sc = append(sc, strings.Split(s, ",")...)
			}
			t, secret, err := ts.Create(cmd.Context(), args[0], sc)
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.json(map[string]any{"token": t, "secret": secret})
			}
			fmt.Fprintf(a.stdout, "Created token %q (id %s, scopes %s). Its secret, shown only now:\n\n  %s\n\nSend it as: Authorization: Bearer <secret>\n",
				t.Name, t.ID, strings.Join(t.Scopes, ", "), secret)
			return nil
		},
	}
	create.Flags().StringSliceVar(&scopes, "scope", nil, "scope: requests, consent or admin (repeat or comma-separate)")
	_ = create.MarkFlagRequired("scope")

	list := &cobra.Command{
		Use:     "list",
		Short:   "List tokens (never their secrets)",
		Example: "  vow token list --format json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ts, closeStore, err := a.tokenStore(cmd)
			if err != nil {
				return err
			}
			defer closeStore()
			list, err := ts.List(cmd.Context())
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.json(map[string]any{"tokens": list})
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tID\tSCOPES\tCREATED\tLAST USED\tSTATUS")
			for _, t := range list {
				status := "active"
				if t.RevokedAt != nil {
					status = "revoked " + t.RevokedAt.Format(time.DateOnly)
				}
				last := "never"
				if t.LastUsedAt != nil {
					last = t.LastUsedAt.Format(time.DateTime)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.ID, strings.Join(t.Scopes, ","), t.CreatedAt.Format(time.DateTime), last, status)
			}
			return tw.Flush()
		},
	}
	revoke := &cobra.Command{
		Use:     "revoke NAME|ID",
		Short:   "Revoke a token; every instance refuses it within seconds",
		Example: "  vow token revoke backend",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ts, closeStore, err := a.tokenStore(cmd)
			if err != nil {
				return err
			}
			defer closeStore()
			t, err := ts.Revoke(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.json(map[string]any{"token": t})
			}
			fmt.Fprintf(a.stdout, "Revoked token %q (id %s).\n", t.Name, t.ID)
			return nil
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

// tokenStore opens the state store and the token store on it.
func (a *app) tokenStore(cmd *cobra.Command) (*apitoken.Store, func(), error) {
	st, err := a.openState(cmd)
	if err != nil {
		return nil, nil, err
	}
	ts := apitoken.New(st)
	ts.Actor = "cli:" + cmp.Or(osUser(), "unknown")
	return ts, func() { st.Close() }, nil
}
