package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/server"
	"github.com/vowprivacy/vow/state"
)

// WellKnownKeys is where vow serve publishes its public signing keys.
const WellKnownKeys = keyring.WellKnown

func (a *app) keysCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Show this installation's signing keys, export their public halves, rotate them",
		Long: `Vow signs erasure certificates, consent receipts and the checkpoints of its
audit log with an Ed25519 key derived from its master key ($VOW_MASTER_KEY, or
master.key in --data-dir). Whoever checks what Vow signed needs only the
public key: give them the output of vow keys public, or point them at
` + WellKnownKeys + ` on vow serve. vow keys rotate moves to a new signing
key; the earlier ones stay published and trusted, so what they signed still
verifies. Reading keys never creates one.`,
		Example: `  vow keys
  vow keys public > vow-public.key
  vow keys rotate
  vow certificate verify certificate.json --keys-url https://privacy.example.com` + WellKnownKeys,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := a.openKeys(cmd)
			if err != nil {
				return err
			}
			pubs := k.PublicKeys()
			if a.format == "json" {
				return a.json(map[string]any{"keys": pubs})
			}
			for _, p := range pubs {
				state := "retired: verifies what it signed before a rotation"
				if p.Current {
					state = "current"
				}
				fmt.Fprintf(a.stdout, "signing key %s (Ed25519, generation %d, %s)\n  public key: %s\n", p.ID, p.Generation, state, base64.StdEncoding.EncodeToString(p.Key))
			}
			return nil
		},
	}
	var all bool
	public := &cobra.Command{
		Use:   "public",
		Short: "Print the public signing key (base64), for --public-key; --all prints every generation",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := a.openKeys(cmd)
			if err != nil {
				return err
			}
			for _, p := range k.PublicKeys() {
				if all || p.Current {
					fmt.Fprintln(a.stdout, base64.StdEncoding.EncodeToString(p.Key))
				}
			}
			return nil
		},
	}
	public.Flags().BoolVar(&all, "all", false, "print the public key of every generation, one a line")
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Sign with a new key from now on; the earlier keys stay trusted for what they signed",
		Long: `Rotate moves Vow to the next generation of its signing key (derived from the
same master key) and records it in the state store and the audit log. Every
instance signs with the new key from its next start; the earlier public keys
stay in vow keys and ` + WellKnownKeys + `, so certificates, receipts and
audit checkpoints signed before still verify. Give the new public key to
whoever checks with --public-key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.openState(cmd)
			if err != nil {
				return err
			}
			defer s.Close()
			k, err := a.bindKeys(cmd, s)
			if err != nil {
				return err
			}
			prev := k.ID()
			if err := k.Rotate(cmd.Context(), s); err != nil {
				return err
			}
			data, _ := json.Marshal(map[string]any{"previous": prev, "key_id": k.ID(), "generation": k.Generation()})
			if _, err := s.Append(cmd.Context(), state.Event{Kind: "keys.rotated", Actor: "cli:" + osUser(), Data: data}); err != nil {
				return err
			}
			if a.format == "json" {
				return a.json(map[string]any{"previous": prev, "key_id": k.ID(), "generation": k.Generation(), "public_key": k.PublicKey()})
			}
			fmt.Fprintf(a.stdout, "signing with key %s (generation %d) from now on; %s and earlier stay trusted\npublic key: %s\n", k.ID(), k.Generation(), prev, base64.StdEncoding.EncodeToString(k.PublicKey()))
			return nil
		},
	}
	cmd.AddCommand(public, rotate)
	return cmd
}

// openKeys reads this installation's keys without creating any, bound to
// its state store so that they sign and verify with every generation the
// store knows of.
func (a *app) openKeys(cmd *cobra.Command) (*keyring.Keyring, error) {
	s, err := a.openState(cmd)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return a.bindKeys(cmd, s)
}

// bindKeys reads the keys without creating any and binds them to s.
func (a *app) bindKeys(cmd *cobra.Command, s *state.Store) (*keyring.Keyring, error) {
	k, err := keyring.Open(a.dataDir, nil)
	if errors.Is(err, keyring.ErrNoKey) {
		return nil, fmt.Errorf("%w (pass the --data-dir of the installation that signs, or set %s)", err, keyring.EnvVar)
	}
	if err != nil {
		return nil, err
	}
	if err := k.Bind(cmd.Context(), s); err != nil {
		return nil, err
	}
	return k, nil
}

// trustedPublicKeys are the keys a signature is checked against: those
// given (base64, --public-key), those served at a URL (--keys-url), or
// else every generation of this installation's.
func (a *app) trustedPublicKeys(cmd *cobra.Command, given []string, keysURL string) ([]ed25519.PublicKey, error) {
	var pubs []ed25519.PublicKey
	for _, g := range given {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(g))
		if err != nil || len(b) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("--public-key %q is not an Ed25519 public key in base64 (vow keys public prints one)", g)
		}
		pubs = append(pubs, b)
	}
	if keysURL != "" {
		served, err := fetchKeys(cmd, keysURL)
		if err != nil {
			return nil, err
		}
		pubs = append(pubs, served...)
	}
	if len(pubs) > 0 {
		return pubs, nil
	}
	// Never keyring.Load: a key created here would have signed nothing.
	k, err := a.openKeys(cmd)
	if err != nil {
		return nil, fmt.Errorf("%w — or give the signer's public key with --public-key (vow keys public prints it there) or --keys-url", err)
	}
	return k.Trusted(), nil
}

// fetchKeys reads the public keys a Vow server publishes at WellKnownKeys.
func fetchKeys(cmd *cobra.Command, raw string) ([]ed25519.PublicKey, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && (u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1"))) {
		return nil, fmt.Errorf("--keys-url %q: give an https:// URL (the keys are only as trustworthy as the channel), e.g. https://privacy.example.com%s", raw, WellKnownKeys)
	}
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, raw, nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("--keys-url: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("--keys-url %s answered %s", raw, resp.Status)
	}
	var doc struct {
		Keys []keyring.PublicKey `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("--keys-url %s: not a Vow key list: %v", raw, err)
	}
	var out []ed25519.PublicKey
	for _, k := range doc.Keys {
		if k.Algorithm != "Ed25519" || len(k.Key) != ed25519.PublicKeySize || keyring.KeyID(k.Key) != k.ID {
			return nil, fmt.Errorf("--keys-url %s: key %q is malformed or its ID does not match it", raw, k.ID)
		}
		out = append(out, k.Key)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--keys-url %s lists no keys", raw)
	}
	return out, nil
}

// mountKeys publishes the public signing keys.
func mountKeys(env *serveEnv, mux *server.Mux) error {
	env.Keyring.Mount(mux, env.Store)
	return nil
}
