package datastore

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/vowprivacy/vow/policy"
)

func TestDSN(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dsn"), []byte("postgres://db/app\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "empty"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"APP_DSN": " mysql://root@db/app ", "BLANK": ""}
	r := Resolver{BaseDir: dir, LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	tests := []struct {
		conn policy.Connection
		want string
		err  bool
	}{
		{policy.Connection{Env: "APP_DSN"}, "mysql://root@db/app", false},
		{policy.Connection{Env: "MISSING"}, "", true},
		{policy.Connection{Env: "BLANK"}, "", true},
		{policy.Connection{File: "dsn"}, "postgres://db/app", false},
		{policy.Connection{File: "empty"}, "", true},
		{policy.Connection{File: "nope"}, "", true},
		{policy.Connection{Path: "app.db"}, filepath.Join(dir, "app.db"), false},
		{policy.Connection{Path: "/abs/app.db"}, "/abs/app.db", false},
		{policy.Connection{}, "", true},
	}
	for _, tc := range tests {
		got, err := r.DSN(&policy.System{Name: "app", Connection: tc.conn})
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("%+v: got %q, %v", tc.conn, got, err)
		}
		if err != nil && !errors.Is(err, ErrNoDSN) {
			t.Errorf("%+v: error %v is not ErrNoDSN", tc.conn, err)
		}
	}
}

func TestKindOf(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://u@h/db":           "postgres",
		"postgresql://u@h/db":         "postgres",
		"host=h dbname=app user=u":    "postgres",
		"mysql://root@h:3306/db":      "mysql",
		"root:pw@tcp(127.0.0.1)/shop": "mysql",
		"./app.db":                    "sqlite",
		"file:app.db?mode=ro":         "sqlite",
	} {
		if got := KindOf(dsn); got != want {
			t.Errorf("KindOf(%q) = %s, want %s", dsn, got, want)
		}
	}
}
