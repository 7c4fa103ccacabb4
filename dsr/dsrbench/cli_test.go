package dsrbench

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRealPsql checks that the client reference times psql itself, not
// Debian's Perl wrapper in front of it.
func TestRealPsql(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, "lib", "postgresql")
	touch := func(path string) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return path
	}
	wrapper := touch(filepath.Join(dir, "share", "postgresql-common", "pg_wrapper"))
	link := func(name, target string) string {
		t.Helper()
		p := filepath.Join(dir, "bin", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	wrapped := link("psql", wrapper)
	plain := touch(filepath.Join(dir, "opt", "psql"))

	t.Run("wrapper without a real psql", func(t *testing.T) {
		if got, err := realPsql(wrapped, lib); err == nil {
			t.Fatalf("got %s, want an error", got)
		}
	})
	touch(filepath.Join(lib, "9.6", "bin", "psql"))
	newest := touch(filepath.Join(lib, "15", "bin", "psql"))
	touch(filepath.Join(lib, "13", "bin", "psql"))
	touch(filepath.Join(lib, "notaversion", "bin", "psql"))
	for _, c := range []struct{ name, bin, want string }{
		{"wrapper: the newest version", wrapped, newest},
		{"a link to the wrapper's link", link("psql2", wrapped), newest},
		{"a real binary stays", plain, plain},
		{"a link to a real binary stays", link("psql3", plain), filepath.Join(dir, "bin", "psql3")},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := realPsql(c.bin, lib)
			if err != nil || got != c.want {
				t.Fatalf("realPsql(%s) = %q, %v; want %q", c.bin, got, err, c.want)
			}
		})
	}
}
