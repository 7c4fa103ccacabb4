package retention

import (
	"context"

	"github.com/vowprivacy/vow/connector"
)

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
