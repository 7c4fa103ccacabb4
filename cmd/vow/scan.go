package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/drift"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/scan"
)

// scanFlags are the flags that bound a content scan, shared by vow scan
// and vow check --scan.
type scanFlags struct {
	sample, batch int
	full          bool
	pause         time.Duration
	only          []string
}

func (f *scanFlags) register(cmd *cobra.Command) {
	cmd.Flags().IntVar(&f.sample, "sample", 10_000, "rows read from each table")
	cmd.Flags().BoolVar(&f.full, "full", false, "read every row instead of a sample")
	cmd.Flags().IntVar(&f.batch, "batch", 0, "rows read by one statement (default 1000 for a sample, 20000 with --full)")
	cmd.Flags().DurationVar(&f.pause, "pause", 0, "pause between batches, to spare the live workload (e.g. 50ms)")
	cmd.Flags().StringSliceVar(&f.only, "table", nil, "scan only these tables (system:table, or system for all of one; repeatable)")
}

func (a *app) scanOptions(f *scanFlags) (scan.Options, error) {
	if f.sample < 1 || f.batch < 0 {
		return scan.Options{}, errors.New("--sample must be at least 1, and --batch not negative")
	}
	opt := scan.Options{Sample: f.sample, Full: f.full, Batch: f.batch, Pause: f.pause, Only: f.only}
	if a.format == "text" && isTerminal(a.stderr) {
		opt.Progress = func(p scan.Progress) {
			fmt.Fprintf(a.stderr, "\r\033[Kscanning %s:%s (%d/%d)", p.System, p.Table, p.Index, p.Tables)
		}
	}
	return opt, nil
}

func (a *app) scanCommand() *cobra.Command {
	var f scanFlags
	var all bool
	cmd := &cobra.Command{
		Use:   "scan [vow.yaml]",
		Short: "Find personal data, secrets and forbidden data in the declared databases by their content",
		Long: `Scan reads a sample of every table of every database the policy declares
(PostgreSQL's TABLESAMPLE on large tables, windows of the primary key
elsewhere; --full reads every row) and looks at the values themselves:
emails, phone numbers, IP addresses, card numbers (Luhn and issuer checked),
IBANs (mod-97 checked), national identifiers with a checksum, dates of
birth, addresses and names (with lower confidence), secrets and tokens
(JWTs, private keys, cloud and VCS tokens, payment-provider keys) and
password hashes — in text, in JSON (per key path) and inside log lines.

It only reads, in batches of --batch rows with --pause between them, and
keeps no value: each finding shows a masked example. Text, JSON and binary
columns are scanned; numbers, dates and UUIDs are not.

It lists what it found per column beside what the policy declares. vow check
--live --scan turns the same findings into diagnostics at their place in the
policy (forbidden data and unprotected secrets are errors).`,
		Example: `  vow scan
  vow scan --table app:workflow_runs --full
  vow scan --sample 50000 --pause 20ms --format json > scan.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := a.policyArg(args)
			p, ds, err := policy.Load(file)
			if err != nil {
				return fmt.Errorf("scan: %w", err)
			}
			if p == nil {
				return fmt.Errorf("%s does not parse: %w (run vow check %s)", file, ds.Err(), file)
			}
			opt, err := a.scanOptions(&f)
			if err != nil {
				return err
			}
			rep, err := scan.Run(cmd.Context(), p, datastore.Resolver{BaseDir: filepath.Dir(file)}, opt)
			if opt.Progress != nil {
				fmt.Fprint(a.stderr, "\r\033[K")
			}
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.json(rep)
			}
			writeScan(a.stdout, p, rep, all)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&all, "all", false, "list every scanned column, also those where nothing was found")
	return cmd
}

// writeScan prints a scan as a table: one line per finding, with what the
// policy declares for the column beside it.
func writeScan(w io.Writer, p *policy.Policy, rep *scan.Report, all bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLUMN\tFOUND\tVALUES\tCONFIDENCE\tEXAMPLE\tDECLARED")
	tables, rows := 0, 0
	var failed []string
	for _, s := range rep.Systems {
		if s.Error != "" {
			failed = append(failed, s.Name+": "+s.Error)
			continue
		}
		sys := p.System(s.Name)
		for _, t := range s.Tables {
			tables++
			rows += t.Rows
			if t.Error != "" {
				failed = append(failed, s.Name+":"+t.Name+": "+t.Error)
				continue
			}
			for _, c := range t.Columns {
				declared := declaredAs(sys, t.Name, c.Name)
				if len(c.Findings) == 0 && all {
					fmt.Fprintf(tw, "%s:%s.%s\t-\t%d\t\t\t%s\n", s.Name, t.Name, c.Name, c.Values, declared)
				}
				for _, fd := range c.Findings {
					col := fmt.Sprintf("%s:%s.%s", s.Name, t.Name, c.Name)
					if fd.Path != "" {
						col += " → " + fd.Path
					}
					fmt.Fprintf(tw, "%s\t%s (%s)\t%d/%d\t%.2f\t%s\t%s\n", col, fd.Category, fd.Detector, fd.Matched, fd.Values, fd.Confidence, fd.Example, declared)
				}
			}
		}
	}
	tw.Flush()
	how := fmt.Sprintf("a sample of up to %d rows each", rep.Sample)
	if rep.Full {
		how = "every row"
	}
	fmt.Fprintf(w, "scanned %d table(s), %d row(s): %s\n", tables, rows, how)
	for _, f := range failed {
		fmt.Fprintf(w, "not scanned: %s\n", f)
	}
}

// declaredAs is what the policy says of a column: its category (and
// stored form), "ignored", or "undeclared".
func declaredAs(sys *policy.System, table, column string) string {
	if sys == nil {
		return "undeclared"
	}
	for _, ig := range sys.Ignore {
		if strings.EqualFold(ig, table) {
			return "ignored table"
		}
	}
	for _, t := range sys.Tables {
		if !strings.EqualFold(t.Name, table) {
			continue
		}
		for _, f := range t.Fields {
			if strings.EqualFold(f.Name, column) {
				s := f.Category
				if f.Stored != "" {
					s += " (stored " + f.Stored + ")"
				}
				return s
			}
		}
		return "undeclared column"
	}
	return "undeclared table"
}

// checkScan runs the content scan of check --live --scan.
func (a *app) checkScan(cmd *cobra.Command, file string, p *policy.Policy, f *scanFlags) (policy.Diagnostics, error) {
	opt, err := a.scanOptions(f)
	if err != nil {
		return nil, err
	}
	rep, err := scan.Run(cmd.Context(), p, datastore.Resolver{BaseDir: filepath.Dir(file)}, opt)
	if opt.Progress != nil {
		fmt.Fprint(a.stderr, "\r\033[K")
	}
	if err != nil {
		return nil, err
	}
	return drift.Content(p, rep), nil
}
