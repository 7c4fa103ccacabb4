package connector_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/connector/mysql"
	"github.com/vowprivacy/vow/connector/postgres"
	"github.com/vowprivacy/vow/connector/sqlite"
	"github.com/vowprivacy/vow/internal/testdb"
)

// TestZoneOf: the zone of a datastore's wall times is the policy's, a
// MySQL DSN's loc, or UTC on a server on UTC; on a server on another zone
// with none declared it is unknown, and says which zone the server is on.
func TestZoneOf(t *testing.T) {
	t.Parallel()
	ny := testdb.Postgres(t)
	testdb.Exec(t, "postgres", ny, "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET timezone = %L', current_database(), 'America/New_York'); END $$")
	utcPG := testdb.Postgres(t)
	// A database on UTC where the application's role has New York.
	appRole := testdb.Postgres(t)
	role := testdb.Name(t)
	testdb.PostgresAdmin(t, "CREATE ROLE "+role+" LOGIN")
	t.Cleanup(func() { testdb.PostgresAdmin(t, "DROP ROLE IF EXISTS "+role) })
	testdb.Exec(t, "postgres", appRole, "DO $$ BEGIN EXECUTE format('ALTER ROLE "+role+" IN DATABASE %I SET timezone = %L', current_database(), 'America/New_York'); END $$")
	// A group role's setting reaches no session; another name for the
	// server's zone is the server's zone.
	group, alias := testdb.Name(t), testdb.Name(t)
	testdb.PostgresAdmin(t, "CREATE ROLE "+group+" NOLOGIN; CREATE ROLE "+alias+" LOGIN")
	t.Cleanup(func() { testdb.PostgresAdmin(t, "DROP ROLE IF EXISTS "+group+"; DROP ROLE IF EXISTS "+alias) })
	groupOnly := testdb.Postgres(t)
	testdb.Exec(t, "postgres", groupOnly, "DO $$ BEGIN EXECUTE format('ALTER ROLE "+group+" IN DATABASE %I SET timezone = %L', current_database(), 'Asia/Tokyo'); "+
		"EXECUTE format('ALTER ROLE "+alias+" IN DATABASE %I SET timezone = %L', current_database(), 'Etc/Universal'); END $$")
	my := testdb.MySQL(t)
	for _, tc := range []struct {
		name, kind, dsn, declared string
		want                      string // the zone, or the error's text
	}{
		{"postgres on UTC", "postgres", utcPG, "", "UTC"},
		{"postgres on New York", "postgres", ny, "", "the database server's time zone is America/New_York"},
		{"postgres on New York, declared", "postgres", ny, "America/New_York", "America/New_York"},
		{"postgres on New York, declared UTC", "postgres", ny, "UTC", "UTC"},
		// Vow's own sessions on UTC say nothing of the application's: the
		// zone of a session that sets none is read on a connection of its
		// own.
		{"postgres on New York, a DSN on UTC", "postgres", withParam(ny, "timezone=UTC"), "", "the database server's time zone is America/New_York"},
		{"postgres on UTC, a DSN on New York", "postgres", withParam(utcPG, "timezone=America/New_York"), "", "UTC"},
		{"postgres on UTC, options on New York", "postgres", withParam(utcPG, "options=-c%20timezone%3DAmerica/New_York"), "", "UTC"},
		{"postgres on UTC, a role on New York", "postgres", appRole, "", "roles set their own for their sessions (" + role + " America/New_York"},
		{"postgres on UTC, a role on New York, declared", "postgres", appRole, "UTC", "UTC"},
		{"postgres on UTC, a group role on Tokyo", "postgres", groupOnly, "", "UTC"},
		{"postgres on New York, a DSN on UTC, declared", "postgres", withParam(ny, "timezone=UTC"), "America/New_York", "America/New_York"},
		{"mysql on UTC", "mysql", my, "", "UTC"},
		{"mysql, the DSN's loc", "mysql", withParam(my, "loc=Europe%2FBerlin"), "", "Europe/Berlin"},
		{"mysql, declared", "mysql", my, "Europe/Berlin", "Europe/Berlin"},
		{"mysql, loc and declared alike", "mysql", withParam(my, "loc=Europe%2FBerlin"), "Europe/Berlin", "Europe/Berlin"},
		{"mysql, loc and declared apart", "mysql", withParam(my, "loc=UTC"), "Europe/Berlin", "the DSN's loc=UTC and the policy's time_zone Europe/Berlin disagree"},
		{"sqlite", "sqlite", testdb.SQLite(t), "", "UTC"},
		{"sqlite, declared", "sqlite", testdb.SQLite(t), "Asia/Tokyo", "Asia/Tokyo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var (
				c   connector.SQL
				err error
			)
			switch tc.kind {
			case "postgres":
				c, err = postgres.Open(t.Context(), tc.dsn)
			case "mysql":
				c, err = mysql.Open(t.Context(), tc.dsn)
			default:
				c, err = sqlite.Open(t.Context(), tc.dsn)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			zone, err := connector.ZoneOf(t.Context(), c, tc.declared)
			switch {
			case err != nil && !strings.Contains(err.Error(), tc.want):
				t.Errorf("ZoneOf = %v; want %s", err, tc.want)
			case err != nil && (strings.Contains(tc.want, "server's time zone") || strings.Contains(tc.want, "roles set")) && !errors.Is(err, connector.ErrZoneUnknown):
				t.Errorf("ZoneOf = %v; want ErrZoneUnknown", err)
			case err == nil && zone.String() != tc.want:
				t.Errorf("ZoneOf = %s; want %s", zone, tc.want)
			}
		})
	}
}

// withParam adds a parameter to a DSN's query.
func withParam(dsn, param string) string {
	if strings.Contains(dsn, "?") {
		return dsn + "&" + param
	}
	return dsn + "?" + param
}
