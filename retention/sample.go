package retention

import (
	"context"
	"time"

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

// instant writes t for table.column, of the database type typ, as the
// column compares it (connector.InstantOf), after checking on SQLite that
// the column's times are in one form — over all its values, and on t's
// day (connector.SampleTime, connector.CheckCutoffDay).
func (c *conn) instant(ctx context.Context, table, column, typ string, t time.Time) (connector.Instant, error) {
	sample, err := c.sample(ctx, table, column)
	if err != nil {
		return connector.Instant{}, err
	}
	if err := connector.CheckCutoffDay(ctx, c.c, table, column, sample, t); err != nil {
		return connector.Instant{}, err
	}
	return connector.InstantOf(c.c.Dialect().Kind(), typ, sample, t), nil
}
