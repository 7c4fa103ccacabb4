package retention

import (
	"context"

	"github.com/vowprivacy/vow/connector"
)

// sample returns the form of SQLite's times in table.column
// (connector.SampleTime; empty for other databases), cached per
// connection; it fails when they are stored in more than one form
// (connector.ErrMixedTimes).
func (c *conn) sample(ctx context.Context, table, column string) ([2]string, error) {
	if c.c.Dialect().Kind() != "sqlite" {
		return [2]string{}, nil
	}
	key := table + "." + column
	if v, ok := c.samples[key]; ok {
		return v, nil
	}
	v, err := connector.SampleTime(ctx, c.c, table, column)
	if err != nil {
		return v, err
	}
	if c.samples == nil {
		c.samples = map[string][2]string{}
	}
	c.samples[key] = v
	return v, nil
}
