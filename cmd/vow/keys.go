package main

import (
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vowprivacy/vow/keyring"
)

func init() { commands = append(commands, (*app).keysCommand) }

func (a *app) keysCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Show this installation's signing key, and export its public half",
		Long: `Vow signs erasure certificates and consent receipts with an Ed25519 key derived
from its master key ($VOW_MASTER_KEY, or master.key in --data-dir). Whoever
checks a certificate needs only the public key: give them the output of
vow keys public. Reading keys never creates one.`,
		Example: `  vow keys public > vow-public.key
  vow certificate verify certificate.json --public-key "$(cat vow-public.key)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := a.openKeys()
			if err != nil {
				return err
			}
			pub := base64.StdEncoding.EncodeToString(k.PublicKey())
			if a.format == "json" {
				return a.json(map[string]string{"key_id": k.ID(), "algorithm": "Ed25519", "public_key": pub})
			}
			fmt.Fprintf(a.stdout, "signing key %s (Ed25519)\npublic key: %s\n", k.ID(), pub)
			return nil
		},
	}
	public := &cobra.Command{
		Use:   "public",
		Short: "Print the public signing key (base64), for --public-key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := a.openKeys()
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, base64.StdEncoding.EncodeToString(k.PublicKey()))
			return nil
		},
	}
	cmd.AddCommand(public)
	return cmd
}

// openKeys reads this installation's keys without creating any.
func (a *app) openKeys() (*keyring.Keyring, error) {
	k, err := keyring.Open(a.dataDir, nil)
	if errors.Is(err, keyring.ErrNoKey) {
		return nil, fmt.Errorf("%w (pass the --data-dir of the installation that signs, or set %s)", err, keyring.EnvVar)
	}
	return k, err
}
