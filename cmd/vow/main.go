// Command vow is the Vow privacy engine: it checks a policy file (vow.yaml)
// against itself and against the company's live databases, scaffolds one
// from an existing database, and runs a demo. This package only wires the
// command line to the packages that do the work.
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
	"runtime/debug"
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
	format   string
	logLevel string
	state    string
	dataDir  string
	stdout   io.Writer
	stderr   io.Writer
	logger   *slog.Logger
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
	a := &app{stdout: stdout, stderr: stderr}
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
		fmt.Fprintln(stderr, "vow:", err)
		return 2
	}
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
	root.PersistentFlags().StringVar(&a.format, "format", "text", "output format: text or json")
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	root.PersistentFlags().StringVar(&a.state, "state", "", "state store: a SQLite file or postgres://… URL (default $VOW_STATE, else vow.db in --data-dir)")
	root.PersistentFlags().StringVar(&a.dataDir, "data-dir", cmp.Or(os.Getenv("VOW_DATA_DIR"), ".vow"), "directory for Vow's own files")
	for _, c := range commands {
		root.AddCommand(c(a))
	}
	return root
}

// commands builds the top-level verbs. Each capability's file appends its
// own in an init function, so adding a verb touches no shared line.
var commands = []func(*app) *cobra.Command{
	(*app).checkCommand,
	(*app).initCommand,
	(*app).demoCommand,
	(*app).stateCommand,
	(*app).versionCommand,
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version of vow",
		Example: "  vow version\n  vow version --format json",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			v := buildVersion()
			if a.format == "json" {
				return a.json(map[string]string{"version": v})
			}
			fmt.Fprintln(a.stdout, "vow", v)
			return nil
		},
	}
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
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
