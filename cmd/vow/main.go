// Command vow is the Vow privacy engine. Its commands check a policy file
// (vow.yaml) against itself and the live databases (check, init), run the
// demo, carry out data-subject requests (request, certificate), enforce
// retention and legal holds (retention, hold), record consent (consent),
// publish the policy (render, policy), keep the breach register
// (incident), keep and verify Vow's own audit log and keys (audit, keys,
// state), and serve all of it over HTTP (serve, token). This package only
// wires the command line and the server to the packages that do the work.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

// exitError carries a process exit code through cobra.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// app holds what every command shares: flags and output streams.
type app struct {
	policy   string
	format   string
	logLevel string
	state    string
	dataDir  string
	stdout   io.Writer
	stderr   io.Writer
	logger   *slog.Logger
	// trace reports phase times with $VOW_TRACE=1; nil otherwise.
	trace *tracer
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line and returns the exit code: 0 success,
// 1 problems found, 2 the command could not run.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr, trace: newTracer(stderr)}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	default:
		msg := err.Error()
		if strayPolicy(msg, args) {
			msg += " (give the policy file with --policy FILE, which every command takes)"
		}
		if a.format == "json" {
			b, _ := json.Marshal(map[string]any{"error": map[string]string{"message": msg}})
			fmt.Fprintln(stderr, string(b))
		} else {
			fmt.Fprintln(stderr, "vow:", msg)
		}
		return 2
	}
}

// strayPolicy reports whether an argument error is about a policy file
// given where the command takes none as an argument.
func strayPolicy(msg string, args []string) bool {
	if !strings.Contains(msg, "unknown command") && !strings.Contains(msg, "accepts") && !strings.Contains(msg, "arg(s)") {
		return false
	}
	for i, arg := range args {
		if (strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml")) && (i == 0 || args[i-1] != "--policy") && !strings.HasPrefix(arg, "--policy=") {
			return true
		}
	}
	return false
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "vow",
		Short: "Vow makes a privacy policy executable",
		Long: `Vow reads one policy file (vow.yaml) that declares a company's data map —
categories, purposes, datastores, processors, retention, rights — and
checks it against itself and the company's real databases.`,
		Example: `  vow demo                      # see Vow work on a sample database
  vow init --from "$DATABASE_URL" # write a starter vow.yaml
  vow check --live                # check vow.yaml and the live databases`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if a.format != "text" && a.format != "json" {
				return fmt.Errorf("--format must be text or json, not %q", a.format)
			}
			var level slog.Level
			if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
				return fmt.Errorf("--log-level must be debug, info, warn or error, not %q", a.logLevel)
			}
			a.logger = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
			return nil
		},
	}
	root.PersistentFlags().StringVar(&a.policy, "policy", cmp.Or(os.Getenv("VOW_POLICY"), "vow.yaml"), "the policy file, for every command; $VOW_POLICY sets the default")
	root.PersistentFlags().StringVar(&a.format, "format", "text", "output format: text or json")
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	root.PersistentFlags().StringVar(&a.state, "state", "", "state store: a SQLite file or postgres://… URL (default $VOW_STATE, else vow.db in --data-dir)")
	root.PersistentFlags().StringVar(&a.dataDir, "data-dir", cmp.Or(os.Getenv("VOW_DATA_DIR"), ".vow"), "directory for Vow's own files")
	// Every verb, wired here: adding one is adding a line.
	root.AddCommand(
		a.checkCommand(), a.initCommand(), a.demoCommand(), a.renderCommand(), a.policyCommand(),
		a.requestCommand(), a.certificateCommand(), a.retentionCommand(), a.holdCommand(),
		a.consentCommand(), a.incidentCommand(), a.auditCommand(), a.keysCommand(),
		a.stateCommand(), a.tokenCommand(), a.serveCommand(), a.versionCommand(), a.scanCommand(),
	)
	return root
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version of vow",
		Example: "  vow version\n  vow version --format json",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			v, commit, date := buildInfo()
			if a.format == "json" {
				return a.json(map[string]string{"version": v, "commit": commit, "commit_time": date, "go": runtime.Version()})
			}
			fmt.Fprintln(a.stdout, "vow", buildVersion(), runtime.Version())
			return nil
		},
	}
}

func buildVersion() string {
	v, commit, date := buildInfo()
	if commit != "" {
		v += " (commit " + commit
		if date != "" {
			v += " of " + date
		}
		v += ")"
	}
	return v
}

// buildInfo is the version (set with -ldflags "-X main.version=…", else
// the module's, else "dev"), and the commit and its time from the build's
// VCS stamp (a "+" marks uncommitted changes).
func buildInfo() (v, commit, date string) {
	v = "dev"
	bi, ok := debug.ReadBuildInfo()
	if ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	if version != "" {
		v = version
	}
	if !ok {
		return v, "", ""
	}
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
			if len(commit) > 12 {
				commit = commit[:12]
			}
		case "vcs.time":
			date = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && commit != "" {
		commit += "+"
	}
	return v, commit, date
}

func (a *app) json(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// redactURL hides the password of a URL for display.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
