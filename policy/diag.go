package policy

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Severity ranks a Diagnostic. Errors make a policy unusable; warnings are
// promises at risk that a human should look at.
type Severity string

// Severities.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Pos is a position in the policy file. Line and Col start at 1; zero means
// unknown.
type Pos struct {
	Line int `json:"line"`
	Col  int `json:"col"`
}

// Diagnostic is one problem found in a policy.
type Diagnostic struct {
	File     string   `json:"file"`
	Pos      Pos      `json:"pos"`
	Severity Severity `json:"severity"`
	// Code names the check, e.g. "unknown-key"; stable for scripts.
	Code string `json:"code"`
	// Path is the dotted key path, e.g. systems.app.tables.users.
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

// String formats the diagnostic as file:line:col: severity: message (hint) [code].
func (d Diagnostic) String() string {
	var b strings.Builder
	b.WriteString(d.File)
	if d.Pos.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", d.Pos.Line, d.Pos.Col)
	}
	fmt.Fprintf(&b, ": %s: %s", d.Severity, d.Message)
	if d.Hint != "" {
		fmt.Fprintf(&b, " (%s)", d.Hint)
	}
	fmt.Fprintf(&b, " [%s]", d.Code)
	return b.String()
}

// Diagnostics is a list of problems, sorted by position by Sort.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Count returns the number of errors and warnings.
func (ds Diagnostics) Count() (errs, warns int) {
	for _, d := range ds {
		if d.Severity == Error {
			errs++
		} else {
			warns++
		}
	}
	return errs, warns
}

// Sort orders diagnostics by file position, then code.
func (ds Diagnostics) Sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		if a.Pos.Col != b.Pos.Col {
			return a.Pos.Col < b.Pos.Col
		}
		return a.Code < b.Code
	})
}

// Err returns the diagnostics as an error if any is an error, else nil.
func (ds Diagnostics) Err() error {
	if !ds.HasErrors() {
		return nil
	}
	return &InvalidError{Diagnostics: ds}
}

// InvalidError is returned when a policy has errors. Callers that want the
// individual problems use errors.As.
type InvalidError struct{ Diagnostics Diagnostics }

func (e *InvalidError) Error() string {
	n, _ := e.Diagnostics.Count()
	for _, d := range e.Diagnostics {
		if d.Severity == Error {
			if n == 1 {
				return "policy: " + d.String()
			}
			return fmt.Sprintf("policy: %s (and %d more errors; run vow check)", d.String(), n-1)
		}
	}
	return "policy: invalid"
}

// MarshalJSON keeps an empty list from encoding as null.
func (ds Diagnostics) MarshalJSON() ([]byte, error) {
	if ds == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]Diagnostic(ds))
}

// WriteText prints diagnostics for people: each on its own line, followed
// by the source line it points at with a caret under the column.
func (ds Diagnostics) WriteText(w io.Writer, src []byte) {
	lines := strings.Split(string(src), "\n")
	for _, d := range ds {
		fmt.Fprintln(w, d.String())
		if d.Pos.Line > 0 && d.Pos.Line <= len(lines) {
			line := strings.TrimRight(lines[d.Pos.Line-1], "\r")
			fmt.Fprintf(w, "  %4d | %s\n", d.Pos.Line, line)
			if d.Pos.Col > 0 && d.Pos.Col <= len(line)+1 {
				fmt.Fprintf(w, "       | %s^\n", strings.Repeat(" ", d.Pos.Col-1))
			}
		}
	}
}
