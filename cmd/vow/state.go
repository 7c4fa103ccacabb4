package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/state"
)

// stateURL is where Vow keeps its own state: --state, else $VOW_STATE, else
// vow.db in the data directory.
func (a *app) stateURL() string {
	return cmp.Or(a.state, os.Getenv("VOW_STATE"), filepath.Join(a.dataDir, "vow.db"))
}

// openState opens the state store; closing it seals the audit log.
func (a *app) openState(cmd *cobra.Command) (*state.Store, error) {
	s, err := state.Open(cmd.Context(), a.stateURL(), a.logger)
	if err != nil {
		return nil, err
	}
	a.sealOnClose(s)
	return s, nil
}

// policyArg is the policy file a command works on: --policy (every
// command takes it; default $VOW_POLICY, else vow.yaml), or the optional
// argument of the commands whose subject is the file itself (check,
// render, serve, …), which names the same thing.
func (a *app) policyArg(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return a.policy
}

// loadValidPolicy loads a policy file and refuses one with errors: Vow
// does not act on a policy that contradicts itself.
func (a *app) loadValidPolicy(file string) (*policy.Policy, error) {
	p, ds, err := policy.Load(file)
	if err != nil {
		return nil, fmt.Errorf("%w (run vow init to write one)", err)
	}
	if errs, _ := ds.Count(); errs > 0 || p == nil {
		ds.WriteText(a.stderr, nil)
		return nil, fmt.Errorf("%s has %d error(s); vow check %s shows them", file, errs, file)
	}
	if err := refuseStarter(file, p); err != nil {
		return nil, err
	}
	return p, nil
}

// refuseStarter refuses to act on a starter policy: its retention periods
// and erasure strategies are not decided yet.
func refuseStarter(file string, p *policy.Policy) error {
	if p.Starter {
		return fmt.Errorf("%s is a starter policy (starter: true): decide what vow check --live %s asks (retention periods, erasure strategies), then delete that line", file, file)
	}
	return nil
}

// openKeyring loads Vow's keys from $VOW_MASTER_KEY or the data directory
// and checks them against the state store, so that every instance sharing
// a store signs with the same key.
func (a *app) openKeyring(cmd *cobra.Command, dataDir string, s *state.Store) (*keyring.Keyring, error) {
	k, err := keyring.Load(dataDir, nil)
	if err != nil {
		return nil, err
	}
	bound, err := keyring.Bound(cmd.Context(), s)
	if err != nil {
		return nil, err
	}
	if err := k.Bind(cmd.Context(), s); err != nil {
		return nil, err
	}
	if !bound {
		// The first time a key signs for this store: the start of what
		// it vouches for.
		data, _ := json.Marshal(map[string]any{"key_id": k.ID(), "generation": k.Generation()})
		if _, err := s.Append(cmd.Context(), state.Event{Kind: "keys.created", Actor: "vow", Data: data}); err != nil {
			return nil, err
		}
	}
	return k, nil
}

func (a *app) stateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "state",
		Short: "Open Vow's state store, apply pending migrations, and describe it",
		Long: `State opens the state store (a SQLite file in the data directory by default,
or PostgreSQL with --state postgres://…), applies any pending migrations, and
prints its dialect, schema version, store ID and latest events. Run it once
before starting several instances on a new PostgreSQL store.`,
		Example: `  vow state
  vow state --state postgres://vow@db/vow
  VOW_STATE=postgres://vow@db/vow vow state --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := a.openState(cmd)
			if err != nil {
				return err
			}
			defer s.Close()
			v, err := s.Version(ctx)
			if err != nil {
				return err
			}
			id, err := s.ID(ctx)
			if err != nil {
				return err
			}
			evs, err := s.Events(ctx, state.EventFilter{})
			if err != nil {
				return err
			}
			if len(evs) > 10 {
				evs = evs[len(evs)-10:]
			}
			if a.format == "json" {
				return a.json(map[string]any{"dialect": s.Dialect(), "version": v, "id": id, "events": evs})
			}
			fmt.Fprintf(a.stdout, "state store %s (%s), schema version %d, id %s\n", redactURL(a.stateURL()), s.Dialect(), v, id)
			for _, e := range evs {
				fmt.Fprintf(a.stdout, "  #%d %s %s by %s %s\n", e.Seq, e.At.Format("2006-01-02 15:04:05Z07:00"), e.Kind, e.Actor, e.Data)
			}
			return nil
		},
	}
}

// recordCheck appends a policy.checked event with the check's outcome.
func (a *app) recordCheck(cmd *cobra.Command, file string, live bool, ds policy.Diagnostics) (int64, error) {
	s, err := a.openState(cmd)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	errs, warns := ds.Count()
	abs, _ := filepath.Abs(file)
	data, err := json.Marshal(map[string]any{"file": abs, "live": live, "errors": errs, "warnings": warns})
	if err != nil {
		return 0, err
	}
	ev, err := s.Append(cmd.Context(), state.Event{Kind: "policy.checked", Actor: "vow check", Data: data})
	return ev.Seq, err
}
