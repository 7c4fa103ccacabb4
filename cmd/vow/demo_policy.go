package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/render"
	"github.com/vowprivacy/vow/versions"
)

// The demo renders Lumen's privacy policy from the same vow.yaml it
// enforces, publishes it as a version, and shows the semantic diff against
// a changed copy (a new processor, a longer retention).

func demoPolicyStep(cmd *cobra.Command, a *app, env *demoEnv) (any, error) {
	r, err := render.New(render.Options{})
	if err != nil {
		return nil, err
	}
	files := map[string]string{}
	for _, f := range []struct {
		format render.Format
		name   string
	}{{render.HTML, "privacy.html"}, {render.Markdown, "privacy.md"}} {
		doc, err := r.String(f.format, env.Policy, render.Meta{})
		if err != nil {
			return nil, err
		}
		path := filepath.Join(env.Dir, f.name)
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			return nil, err
		}
		files[string(f.format)] = path
	}
	summary, err := r.String(render.Summary, env.Policy, render.Meta{})
	if err != nil {
		return nil, err
	}

	k, err := a.openKeyring(cmd, env.DataDir, env.Store)
	if err != nil {
		return nil, err
	}
	svc := &versions.Service{Store: env.Store, Renderer: r, Keys: k}
	v, err := svc.Publish(cmd.Context(), versions.Publish{Policy: env.Policy, Actor: "vow demo"})
	if errors.Is(err, versions.ErrUnchanged) { // a demo run again on the same --state
		v, err = svc.Latest(cmd.Context())
	}
	if err != nil {
		return nil, err
	}

	// A changed copy: what the company might publish next.
	src := string(env.Policy.Source)
	changed := strings.Replace(src, "processors:\n", "processors:\n  - name: Sentry\n    purposes: [service]\n    categories: [user.device.ip_address, user.device.user_agent]\n    location: United States\n    safeguard: scc\n", 1)
	changed = strings.Replace(changed, "keep: 12 months", "keep: 24 months", 1)
	changed = strings.Replace(changed, "keep: 1y", "keep: 6 months", 1)
	next, ds := policy.Parse("vow.next.yaml", []byte(changed))
	if next == nil {
		return nil, fmt.Errorf("the changed copy does not parse: %v", ds)
	}
	changes := versions.Diff(env.Policy, next)
	nextFile := filepath.Join(env.Dir, "vow.next.yaml")
	if err := os.WriteFile(nextFile, []byte(changed), 0o644); err != nil {
		return nil, err
	}
	files["next"] = nextFile

	if a.format == "text" {
		fmt.Fprintf(a.stdout, "Rendered %s and %s from vow.yaml. The quick summary:\n\n", files["html"], files["md"])
		for _, line := range strings.Split(strings.TrimSpace(summary), "\n") {
			fmt.Fprintln(a.stdout, "  "+line)
		}
		fmt.Fprintf(a.stdout, "\nPublished it as %s (sha256 %s, effective %s).\n", v.ID, v.Hash[:12], v.Effective)
		fmt.Fprintf(a.stdout, "\nvow policy diff %s %s — a changed copy (a new processor, longer and shorter retention):\n", v.ID, nextFile)
		if err := a.printChanges(r, changes); err != nil {
			return nil, err
		}
		if versions.Material(changes) {
			fmt.Fprintf(a.stdout, "Material: it could take effect %d days after publication at the earliest, with notices sent then (vow policy publish, vow policy notify).\n", env.Policy.Notices.ChangeNoticeDays)
		}
	}
	return map[string]any{"files": files, "version": v, "diff": changes, "material": versions.Material(changes)}, nil
}
