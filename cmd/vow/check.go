package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/drift"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/taxonomy"
)

func (a *app) checkCommand() *cobra.Command {
	var live, strict, categories, record, scanContent bool
	var timeout time.Duration
	var sf scanFlags
	cmd := &cobra.Command{
		Use:   "check [vow.yaml]",
		Short: "Check a policy file, and with --live the databases it declares",
		Long: `Check parses the policy strictly and reports every problem with file:line:col
and a hint: unknown keys, wrong types, unknown categories, and contradictions
between promises (a processor receiving data no system holds, personal data
with no retention rule, erasure offered without a strategy, broken relations).

With --live it also connects to every declared datastore and reports drift:
declared tables, columns, keys and relations that do not exist, and tables and
columns the database has that the policy does not declare.

With --scan (and --live) it also reads a sample of every table and reports
what the values themselves are (see vow scan): a category listed under
forbidden: found anywhere, or readable personal data or a plaintext secret in
a column declared stored: encrypted or hashed, is an error; personal data in
an ignored table, an undeclared or non-personal column, or an undeclared
JSON key is a warning.

Exit status: 0 no errors, 1 errors found (or warnings, with --strict),
2 the check could not run.`,
		Example: `  vow check
  vow check --live examples/scanner/vow.yaml
  vow check --live --scan --sample 2000
  vow check --format json | jq '.diagnostics[] | select(.severity=="error")'
  vow check --live --record --state "$VOW_STATE"   # keep evidence of each check
  vow check --categories   # list the built-in data categories`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if categories {
				return a.listCategories()
			}
			file := a.policyArg(args)
			if scanContent && !live {
				return errors.New("--scan reads the datastores: use it with --live")
			}
			p, ds, err := policy.Load(file)
			if err != nil {
				return fmt.Errorf("%w (run vow init to write one)", err)
			}
			var systems []drift.SystemResult
			// The live check needs only a decoded policy: contradictions
			// between promises do not stop drift from being found.
			if live && p != nil {
				ctx, cancel := contextTimeout(cmd, timeout)
				defer cancel()
				lds, res := drift.Live(ctx, p, datastore.Resolver{BaseDir: filepath.Dir(file)})
				ds, systems = append(ds, lds...), res
				if scanContent {
					cds, err := a.checkScan(cmd, file, p, &sf)
					if err != nil {
						return err
					}
					ds = append(ds, cds...)
				}
				ds.Sort()
			} else if live {
				a.logger.Warn("skipping the live check: the policy file does not parse")
			}
			if err := a.printCheck(file, p, ds, systems, live); err != nil {
				return err
			}
			if record {
				seq, err := a.recordCheck(cmd, file, live, ds)
				if err != nil {
					return err
				}
				a.logger.Info("check recorded", "event", seq, "state", redactURL(a.stateURL()))
			}
			errs, warns := ds.Count()
			if errs > 0 || (strict && warns > 0) {
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&live, "live", false, "also connect to every declared datastore and report drift")
	cmd.Flags().BoolVar(&strict, "strict", false, "fail on warnings too")
	cmd.Flags().BoolVar(&record, "record", false, "record the outcome as an event in the state store")
	cmd.Flags().BoolVar(&categories, "categories", false, "list the built-in data categories and exit")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "time limit for the live check (the content scan has none: bound it with --sample)")
	cmd.Flags().BoolVar(&scanContent, "scan", false, "with --live: also scan the values of every table for personal data, secrets and forbidden data")
	sf.register(cmd)
	return cmd
}

type checkJSON struct {
	File        string             `json:"file"`
	Valid       bool               `json:"valid"`
	Errors      int                `json:"errors"`
	Warnings    int                `json:"warnings"`
	Diagnostics policy.Diagnostics `json:"diagnostics"`
	Systems     []systemCheckJSON  `json:"systems,omitempty"`
}

type systemCheckJSON struct {
	Name       string `json:"name"`
	Reachable  bool   `json:"reachable"`
	Tables     int    `json:"tables"`
	DurationMS int64  `json:"duration_ms"`
}

func (a *app) printCheck(file string, p *policy.Policy, ds policy.Diagnostics, systems []drift.SystemResult, live bool) error {
	errs, warns := ds.Count()
	if a.format == "json" {
		out := checkJSON{File: file, Valid: errs == 0, Errors: errs, Warnings: warns, Diagnostics: ds}
		for _, s := range systems {
			sj := systemCheckJSON{Name: s.System, Reachable: s.Schema != nil, DurationMS: s.Duration.Milliseconds()}
			if s.Schema != nil {
				sj.Tables = len(s.Schema.Tables)
			}
			out.Systems = append(out.Systems, sj)
		}
		return a.json(out)
	}
	var src []byte
	if p != nil {
		src = p.Source
	}
	ds.WriteText(a.stdout, src)
	for _, s := range systems {
		if s.Schema != nil {
			fmt.Fprintf(a.stdout, "live: system %s (%s) reached in %s: %d tables\n", s.System, s.Schema.Kind, s.Duration.Round(time.Millisecond), len(s.Schema.Tables))
		}
	}
	what := "policy"
	if live {
		what = "policy and live datastores"
	}
	switch {
	case errs == 0 && warns == 0:
		fmt.Fprintf(a.stdout, "%s: %s OK\n", file, what)
	default:
		fmt.Fprintf(a.stdout, "%s: %d error(s), %d warning(s)\n", file, errs, warns)
	}
	return nil
}

func (a *app) listCategories() error {
	cs := taxonomy.Categories()
	if a.format == "json" {
		return a.json(cs)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tNAME\tPERSONAL\tSENSITIVE")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%v\n", c.Key, c.Name, c.Personal, c.Sensitive)
	}
	return tw.Flush()
}
