package connector_test

import (
	"slices"
	"testing"
	"time"

	"github.com/vowprivacy/vow/connector"
)

func TestStamps(t *testing.T) {
	t.Parallel()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	newYork, _ := time.LoadLocation("America/New_York")
	winter := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	summer := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	users := &connector.Table{Name: "users", Columns: []connector.Column{
		{Name: "email", Type: "varchar(255)"},
		{Name: "Updated_At", Type: "datetime(3)", OnUpdateNow: true},
		{Name: "touched", Type: "datetime", OnUpdateNow: true},
		{Name: "seen_at", Type: "timestamp", OnUpdateNow: true}, // an instant: the server's stamp is right
		{Name: "created_at", Type: "datetime"},
	}}
	mysql := connector.DialectOf("mysql")
	for _, tc := range []struct {
		name    string
		d       connector.Dialect
		zone    *time.Location
		now     time.Time
		changed string
		set     []string
		want    []string
	}{
		{"Berlin in winter", mysql, berlin, winter, "", nil, []string{"`Updated_At` = NOW(3) + INTERVAL 3600 SECOND", "`touched` = NOW() + INTERVAL 3600 SECOND"}},
		{"Berlin in summer", mysql, berlin, summer, "", nil, []string{"`Updated_At` = NOW(3) + INTERVAL 7200 SECOND", "`touched` = NOW() + INTERVAL 7200 SECOND"}},
		{"west of UTC", mysql, newYork, winter, "", nil, []string{"`Updated_At` = NOW(3) + INTERVAL -18000 SECOND", "`touched` = NOW() + INTERVAL -18000 SECOND"}},
		// A column the statement sets itself, named in any case.
		{"set by the statement", mysql, berlin, winter, "", []string{"updated_at"}, []string{"`touched` = NOW() + INTERVAL 3600 SECOND"}},
		// Only in rows that change.
		{"where a row changes", mysql, berlin, winter, "`email` IS NOT NULL", []string{"email"}, []string{"`Updated_At` = IF(`email` IS NOT NULL, NOW(3) + INTERVAL 3600 SECOND, `Updated_At`)", "`touched` = IF(`email` IS NOT NULL, NOW() + INTERVAL 3600 SECOND, `touched`)"}},
		{"UTC", mysql, time.UTC, winter, "", nil, nil},
		{"zone not read", mysql, nil, winter, "", nil, nil},
		{"postgres", connector.DialectOf("postgres"), berlin, winter, "", nil, nil},
	} {
		if got := connector.Stamps(tc.d, users, tc.zone, tc.now, tc.changed, tc.set...); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestDiffers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		col  connector.Column
		want string
	}{
		{connector.Column{Name: "name", Collation: "latin1_swedish_ci"}, "NOT (CAST(`name` AS BINARY) <=> CAST(CONVERT(? USING latin1) AS BINARY))"},
		{connector.Column{Name: "name", Collation: "utf8mb4_uca1400_ai_ci"}, "NOT (CAST(`name` AS BINARY) <=> CAST(CONVERT(? USING utf8mb4) AS BINARY))"},
		// Numbers, times and binary strings have no collation.
		{connector.Column{Name: "name"}, "NOT (CAST(`name` AS BINARY) <=> CAST(? AS BINARY))"},
		// Nothing but a character set's name goes into the statement.
		{connector.Column{Name: "name", Collation: "x) OR (1_ci"}, "NOT (CAST(`name` AS BINARY) <=> CAST(? AS BINARY))"},
	} {
		if got := connector.Differs(&tc.col, "`name`", "?"); got != tc.want {
			t.Errorf("%q: %s, want %s", tc.col.Collation, got, tc.want)
		}
	}
}
