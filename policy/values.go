package policy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Unit is the unit of a Duration.
type Unit string

// Units a Duration may be written in.
const (
	Hours  Unit = "h"
	Days   Unit = "d"
	Weeks  Unit = "w"
	Months Unit = "mo"
	Years  Unit = "y"
)

// Duration is a calendar period such as "30d", "12 months" or "7y". Months
// and years are calendar units, not fixed lengths of time, because that is
// what policies promise.
//
// The zero Duration is unset (IsZero). A period written as zero ("0d") is
// set and zero long (IsZeroLength): a retention rule's keep: 0d removes rows
// as soon as its condition holds. Where a zero period makes no sense (a
// hold, a grace period) the lints say so; parsing accepts it.
type Duration struct {
	N    int
	Unit Unit
}

var unitNames = map[string]Unit{
	"h": Hours, "hour": Hours, "hours": Hours,
	"d": Days, "day": Days, "days": Days,
	"w": Weeks, "week": Weeks, "weeks": Weeks,
	"mo": Months, "month": Months, "months": Months,
	"y": Years, "year": Years, "years": Years,
}

// ParseDuration parses "30d", "30 days", "12mo", "1 year", "72h", and "0d"
// (set, and zero long).
func ParseDuration(s string) (Duration, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return Duration{}, fmt.Errorf("duration %q must start with a number, e.g. 30d, 12 months, 7y", s)
	}
	n, err := strconv.Atoi(t[:i])
	if err != nil || n > 100000 {
		return Duration{}, fmt.Errorf("duration %q is out of range", s)
	}
	u, ok := unitNames[strings.ToLower(strings.TrimSpace(t[i:]))]
	if !ok {
		return Duration{}, fmt.Errorf("duration %q has no known unit; use h, d, w, mo or y (or hours, days, weeks, months, years)", s)
	}
	return Duration{N: n, Unit: u}, nil
}

// IsZero reports whether the duration was not set. A duration written as
// zero ("0d") is set: see IsZeroLength.
func (d Duration) IsZero() bool { return d.Unit == "" }

// IsZeroLength reports whether the duration is set and zero long, such as
// "0d": for a retention rule's keep, at once.
func (d Duration) IsZeroLength() bool { return d.Unit != "" && d.N == 0 }

// String formats the duration as it may be written in the file.
func (d Duration) String() string {
	if d.IsZero() {
		return ""
	}
	return strconv.Itoa(d.N) + string(d.Unit)
}

// Human formats the duration for readers: "30 days", "1 year".
func (d Duration) Human() string {
	if d.IsZero() {
		return ""
	}
	name := map[Unit]string{Hours: "hour", Days: "day", Weeks: "week", Months: "month", Years: "year"}[d.Unit]
	if d.N != 1 {
		name += "s"
	}
	return fmt.Sprintf("%d %s", d.N, name)
}

// Before returns the instant d before t: rows older than that are expired.
func (d Duration) Before(t time.Time) time.Time {
	switch d.Unit {
	case Hours:
		return t.Add(-time.Duration(d.N) * time.Hour)
	case Days:
		return t.AddDate(0, 0, -d.N)
	case Weeks:
		return t.AddDate(0, 0, -7*d.N)
	case Months:
		return t.AddDate(0, -d.N, 0)
	case Years:
		return t.AddDate(-d.N, 0, 0)
	}
	return t
}

// After returns the instant d after t, in calendar units.
func (d Duration) After(t time.Time) time.Time {
	return Duration{N: -d.N, Unit: d.Unit}.Before(t)
}

// Approx returns the duration's approximate length, for comparisons.
func (d Duration) Approx() time.Duration {
	base := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	return base.Sub(d.Before(base))
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("a duration is a scalar such as 30d, 12 months or 7y")
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// Interval is a short span of clock time written as Go writes durations:
// 500ms, 10s, 5m. (Duration is for calendar periods.) -1 means "off" where
// a field says so.
type Interval time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Interval) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("a time span is a scalar such as 500ms, 10s or 5m")
	}
	v := strings.TrimSpace(n.Value)
	if v == "-1" {
		*d = -1
		return nil
	}
	t, err := time.ParseDuration(v)
	if err != nil || t <= 0 {
		return fmt.Errorf("time span %q must be positive and have a unit, e.g. 500ms, 10s or 5m", n.Value)
	}
	*d = Interval(t)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Interval) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Date is a calendar date written YYYY-MM-DD.
type Date struct{ time.Time }

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	t, err := time.Parse(time.DateOnly, n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return fmt.Errorf("date %q must be written YYYY-MM-DD", n.Value)
	}
	d.Time = t
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Date) MarshalYAML() (any, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.Format(time.DateOnly), nil
}

// Method is an erasure strategy.
type Method string

// Erasure strategies. Delete applies to tables, the others to fields; Hold
// applies to both.
const (
	Delete  Method = "delete"
	Nullify Method = "nullify"
	Set     Method = "set"
	HMAC    Method = "hmac"
	Hold    Method = "hold"
)

// Erasure says what an erasure request does to a table or field.
type Erasure struct {
	Method Method
	// Value is the fixed replacement for Set.
	Value string
	// Reason and For explain and bound a Hold; From names the timestamp
	// column the period runs from (rows older than For are no longer
	// held), when the table has one.
	Reason string
	For    Duration
	From   string
}

// UnmarshalYAML accepts "delete", "nullify", "hmac", {set: value} and
// {hold: reason, for: duration}.
func (e *Erasure) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		switch m := Method(n.Value); m {
		case Delete, Nullify, HMAC:
			*e = Erasure{Method: m}
			return nil
		case Set:
			return errors.New(`set needs a value: write {set: "value"}`)
		case Hold:
			return errors.New(`hold needs a reason and period: write {hold: "reason", for: 7y}`)
		}
		return fmt.Errorf("unknown erasure strategy %q%s; use delete, nullify, hmac, {set: value} or {hold: reason, for: period}", n.Value, suggest(n.Value, []string{"delete", "nullify", "hmac", "set", "hold"}))
	case yaml.MappingNode:
		var raw struct {
			Set  *string  `yaml:"set"`
			Hold string   `yaml:"hold"`
			For  Duration `yaml:"for"`
			From string   `yaml:"from"`
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch k := n.Content[i].Value; k {
			case "set", "hold", "for", "from":
			default:
				return fmt.Errorf("unknown key %q in erasure strategy%s; use {set: value} or {hold: reason, for: period, from: column}", k, suggest(k, []string{"set", "hold", "for", "from"}))
			}
		}
		if err := n.Decode(&raw); err != nil {
			return errors.New(cleanYAMLError(err))
		}
		switch {
		case raw.Set != nil && raw.Hold != "":
			return errors.New("an erasure strategy is either set or hold, not both")
		case raw.From != "" && raw.Hold == "":
			return errors.New("from belongs to a hold: {hold: reason, for: period, from: column}")
		case raw.Set != nil:
			*e = Erasure{Method: Set, Value: *raw.Set}
		case raw.Hold != "":
			if raw.For.IsZero() {
				return errors.New(`a hold needs a period: add for: (e.g. for: 10y)`)
			}
			*e = Erasure{Method: Hold, Reason: raw.Hold, For: raw.For, From: raw.From}
		default:
			return errors.New("an erasure strategy mapping needs set or hold")
		}
		return nil
	}
	return errors.New("an erasure strategy is a word (delete, nullify, hmac) or a mapping ({set: …} or {hold: …, for: …})")
}

// MarshalYAML implements yaml.Marshaler.
func (e Erasure) MarshalYAML() (any, error) {
	switch e.Method {
	case Set:
		return map[string]string{"set": e.Value}, nil
	case Hold:
		m := map[string]string{"hold": e.Reason, "for": e.For.String()}
		if e.From != "" {
			m["from"] = e.From
		}
		return m, nil
	}
	return string(e.Method), nil
}
