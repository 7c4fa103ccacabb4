package drift

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/policy"
)

// Opener opens the connector of a system; datastore.Resolver is one.
type Opener interface {
	Open(ctx context.Context, sys *policy.System) (connector.SQL, error)
}

// SystemResult is what the live check saw of one system.
type SystemResult struct {
	System   string
	Schema   *connector.Schema // nil when the datastore could not be read
	Duration time.Duration
}

// Live connects to every system of p, reads its schema and compares it with
// the policy. A datastore that cannot be reached is an error diagnostic, not
// a failure of the whole check, so one run reports every system.
func Live(ctx context.Context, p *policy.Policy, o Opener) (policy.Diagnostics, []SystemResult) {
	var diags policy.Diagnostics
	var results []SystemResult
	for _, sys := range p.Systems {
		if sys.Kind == "webhook" {
			continue // a service, not a database: nothing to introspect
		}
		start := time.Now()
		schema, zoneErr, err := readSchema(ctx, o, sys)
		results = append(results, SystemResult{System: sys.Name, Schema: schema, Duration: time.Since(start)})
		path := "systems." + sys.Name
		if err != nil {
			diags = append(diags, policy.Diagnostic{File: p.File, Pos: p.PosOf(path), Severity: policy.Error, Code: "unreachable", Path: path,
				Message: fmt.Sprintf("live check of system %s: %v", sys.Name, err)})
			continue
		}
		if zoneErr != nil {
			diags = append(diags, policy.Diagnostic{File: p.File, Pos: p.PosOf(path), Severity: policy.Error, Code: "time-zone-unknown", Path: path,
				Message: fmt.Sprintf("system %s: %v", sys.Name, zoneErr),
				Hint:    "until the policy says, requests and retention rules that compare or export these times, or rewrite rows whose DATETIME the server stamps ON UPDATE CURRENT_TIMESTAMP, stop"})
		}
		diags = append(diags, Compare(p, sys, schema)...)
	}
	diags = append(diags, identityTypes(p, results)...)
	diags.Sort()
	return diags, results
}

// readSchema reads a system's schema and, when a declared table has
// times without a zone, why their zone (connector.ZoneOf) is not known.
func readSchema(ctx context.Context, o Opener, sys *policy.System) (schema *connector.Schema, zoneErr, err error) {
	c, err := o.Open(ctx, sys)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	if schema, err = c.Introspect(ctx); err != nil {
		return nil, nil, err
	}
	kind := c.Dialect().Kind()
	for _, t := range sys.Tables {
		lt := schema.Table(t.Name)
		if lt != nil && slices.ContainsFunc(lt.Columns, func(col connector.Column) bool { return connector.Wall(kind, col.Base(), [2]string{"text"}) }) {
			_, zoneErr = connector.ZoneOf(ctx, c, sys.TimeZone)
			break
		}
	}
	return schema, zoneErr, nil
}
