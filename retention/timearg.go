package retention

import (
	"context"
	"time"

	"github.com/vowprivacy/vow/connector"
)

// timeArg is connector.TimeArg: one way, for retention and requests, to
// write an instant for a timestamp column.
func timeArg(kind, typ string, sample [2]string, t time.Time) any {
	return connector.TimeArg(kind, typ, sample, t)
}

// sample returns SQLite's storage class and text of one non-null value of
// table.column (empty for other databases), cached per connection.
func (c *conn) sample(table, column string) [2]string {
	if c.c.Dialect().Kind() != "sqlite" {
		return [2]string{}
	}
	key := table + "." + column
	if v, ok := c.samples[key]; ok {
		return v
	}
	v := connector.SampleTime(context.Background(), c.c, table, column)
	if c.samples == nil {
		c.samples = map[string][2]string{}
	}
	c.samples[key] = v
	return v
}
