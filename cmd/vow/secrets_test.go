package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestHelpShowsNoSecrets: no command's help prints a secret planted in
// the environment Vow reads (a flag defaulting to an environment variable
// shows its value in help).
func TestHelpShowsNoSecrets(t *testing.T) {
	const planted = "PLANTEDSECRET"
	t.Setenv("VOW_SMTP_URL", "smtp://user:"+planted+"@mail.example.com:587?from=a@example.com")
	t.Setenv("VOW_STATE", "postgres://vow:"+planted+"@db.example.com/vow")
	t.Setenv("VOW_INCIDENT_WEBHOOK_SECRET", planted)
	t.Setenv("VOW_MASTER_KEY", "")
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string{}, path...), sub.Name()))
		}
	}
	walk((&app{}).rootCommand(), nil)
	if len(paths) < 30 {
		t.Fatalf("only %d commands found", len(paths))
	}
	for _, p := range paths {
		_, out, errOut := vow(t, append(p, "--help")...)
		if strings.Contains(out+errOut, planted) {
			t.Errorf("vow %s --help prints a secret from the environment", strings.Join(p, " "))
		}
	}
}

// TestErrorsAndLogsShowNoSecrets: a command that fails to reach its state
// store or mail server says so without the password in the URL, in its
// error and in its debug log alike.
func TestErrorsAndLogsShowNoSecrets(t *testing.T) {
	const planted = "PLANTEDSECRET"
	t.Setenv("VOW_MASTER_KEY", "")
	t.Setenv("VOW_SMTP_URL", "smtp://user:"+planted+"@127.0.0.1:1?from=a@example.com")
	dir := t.TempDir()
	for _, args := range [][]string{
		{"state", "--state", "postgres://vow:" + planted + "@127.0.0.1:1/vow?connect_timeout=2", "--log-level", "debug"},
		{"audit", "verify", "--state", "postgres://vow:" + planted + "@127.0.0.1:1/vow?connect_timeout=2", "--log-level", "debug", "--public-key", "AAAA"},
		{"policy", "notify", "--data-dir", dir, "--log-level", "debug"},
	} {
		code, out, errOut := vow(t, args...)
		if strings.Contains(out+errOut, planted) {
			t.Errorf("vow %s (exit %d) shows a secret:\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
	}
}
