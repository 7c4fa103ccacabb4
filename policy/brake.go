package policy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Percent is a share written as "10%" (or a plain number of percent).
type Percent float64

// UnmarshalYAML accepts "10%", "0.5%" and 10.
func (p *Percent) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("a share is a percentage such as 10%")
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(n.Value), "%")), 64)
	if err != nil || v <= 0 || v > 100 {
		return fmt.Errorf("share %q must be a percentage above 0 and at most 100, e.g. 10%%", n.Value)
	}
	*p = Percent(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (p Percent) MarshalYAML() (any, error) { return p.String(), nil }

func (p Percent) String() string { return strconv.FormatFloat(float64(p), 'f', -1, 64) + "%" }

// Default brakes: one person rarely owns a tenth of a table, and a
// retention rule rarely finds half of its table expired at once; both
// floors keep small tables (a demo's 20 users) from tripping them.
var (
	DefaultRequestBrake   = Brake{Share: 10, Rows: 1000}
	DefaultRetentionBrake = Brake{Share: 50, Rows: 10000}
)

// RequestBrake is the brake for erasure requests, defaults applied.
func (p *Policy) RequestBrake() Brake { return p.Brake.Requests.orDefault(DefaultRequestBrake) }

// RetentionBrake is the brake for rule r, defaults applied: the rule's
// own, else the policy's, else the default.
func (p *Policy) RetentionBrake(r *Rule) Brake {
	if r != nil && r.Brake != nil {
		return r.Brake.orDefault(p.RetentionBrake(nil))
	}
	return p.Brake.Retention.orDefault(DefaultRetentionBrake)
}

func (b *Brake) orDefault(d Brake) Brake {
	if b == nil {
		return d
	}
	out := *b
	if out.Share == 0 {
		out.Share = d.Share
	}
	if out.Rows == 0 {
		out.Rows = d.Rows
	}
	return out
}

// Trips reports whether changing n of a table's total rows exceeds the
// brake. A total that is unknown (0 or less) trips on the row count alone.
func (b Brake) Trips(n, total int64) bool {
	if n <= int64(b.Rows) {
		return false
	}
	if total <= 0 {
		return true
	}
	return float64(n) > float64(total)*float64(b.Share)/100
}
