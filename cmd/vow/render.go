package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vowprivacy/vow/render"
)

// renderFlags choose the wording of rendered documents.
type renderFlags struct {
	templates string
	lang      string
}

func (f *renderFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.templates, "templates", os.Getenv("VOW_TEMPLATES"), "directory of templates that replace the built-in wording (<dir>/<lang>/messages.yaml, policy.md.tmpl, …)")
	cmd.Flags().StringVar(&f.lang, "lang", "en", "language of the document: a directory under --templates")
}

func (f *renderFlags) renderer() (*render.Renderer, error) {
	return render.New(render.Options{Dir: f.templates, Lang: f.lang})
}

func (a *app) renderCommand() *cobra.Command {
	var format, out string
	var rf renderFlags
	cmd := &cobra.Command{
		Use:   "render [vow.yaml]",
		Short: "Write the privacy policy people read, from the policy file Vow enforces",
		Long: `Render turns vow.yaml into the privacy policy: Markdown, a self-contained
accessible HTML page, or a one-screen quick summary. Every retention period,
deadline and processor it states is read from the same model Vow enforces.

The wording comes from built-in English templates; --templates names a
directory whose files replace them (see docs/rendering.md), and --lang picks
a translation in it.

To publish a version with a history, notices and stable URLs, use
vow policy publish and vow serve.`,
		Example: `  vow render                          # Markdown to stdout
  vow render --format html -o privacy.html
  vow render --format summary demo/vow.yaml
  vow render --templates ./policy-templates --lang de --format html -o datenschutz.html`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := render.ParseFormat(format)
			if err != nil {
				return fmt.Errorf("--format must be md, html or summary, not %q", format)
			}
			file := a.policyArg(args)
			p, err := a.loadValidPolicy(file)
			if err != nil {
				return err
			}
			r, err := rf.renderer()
			if err != nil {
				return err
			}
			doc, err := r.String(f, p, render.Meta{})
			if err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err = fmt.Fprint(a.stdout, doc)
				return err
			}
			if err := os.WriteFile(out, []byte(doc), 0o644); err != nil {
				return fmt.Errorf("render: %w", err)
			}
			abs, _ := filepath.Abs(out)
			a.logger.Info("rendered", "file", abs, "format", f)
			return nil
		},
	}
	// --format here is the document's format; it shadows the global text|json.
	cmd.Flags().StringVar(&format, "format", "md", "document format: md, html or summary")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of stdout")
	rf.add(cmd)
	return cmd
}
