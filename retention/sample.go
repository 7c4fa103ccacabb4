package retention

import (
	"context"
	"fmt"
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
// column compares it (connector.InstantOf): after checking on SQLite that
// the column's times are in one form — over all its values, and on t's
// day (connector.SampleTime, connector.CheckCutoffDay) — and, for wall
// times, in the zone they are in (connector.ZoneOf).
func (c *conn) instant(ctx context.Context, table, column, typ string, t time.Time) (connector.Instant, error) {
	sample, err := c.sample(ctx, table, column)
	if err != nil {
		return connector.Instant{}, err
	}
	var zone *time.Location
	if connector.Wall(c.c.Dialect().Kind(), typ, sample) {
		if zone, err = c.wallZone(ctx); err != nil {
			return connector.Instant{}, fmt.Errorf("%s.%s (%s): %w", table, column, typ, err)
		}
	}
	if err := connector.CheckCutoffDay(ctx, c.c, table, column, sample, zone, t); err != nil {
		return connector.Instant{}, err
	}
	return connector.InstantOf(c.c.Dialect().Kind(), typ, sample, zone, t), nil
}

// wallZone returns the zone of the system's wall times (connector.ZoneOf),
// read once per connection.
func (c *conn) wallZone(ctx context.Context) (*time.Location, error) {
	if c.zone == nil && c.zoneErr == nil {
		c.zone, c.zoneErr = connector.ZoneOf(ctx, c.c, c.declared)
	}
	return c.zone, c.zoneErr
}

// clockAgrees fails unless the database's clock functions (NOW()) give
// wall times in the zone the system's times without a zone are in: a
// condition comparing them would otherwise take rows hours early (on
// MySQL Vow's sessions are on UTC; the application's may not be).
func (c *conn) clockAgrees(ctx context.Context) error {
	zone, err := c.wallZone(ctx)
	if err != nil {
		return err
	}
	session, err := connector.SessionZone(ctx, c.c)
	if err != nil {
		return err
	}
	if !connector.SameZone(zone, session) {
		return fmt.Errorf("on Vow's sessions it gives the time in %s, but the system's times without a zone are in %s, so the condition would take rows hours early or late; count the time with from and keep instead", session, zone)
	}
	return nil
}
