package drift_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/demo"
	"github.com/vowprivacy/vow/drift"
	"github.com/vowprivacy/vow/policy"
)

// BenchmarkLiveSQLite measures a whole live check of the demo: open the
// SQLite database, introspect 12 tables, compare with the policy. It
// fails on errors only: a warning (an index the demo could add) does not
// change what is measured.
func BenchmarkLiveSQLite(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	if _, err := demo.Generate(ctx, dir, 1, time.Now()); err != nil {
		b.Fatal(err)
	}
	p, ds, err := policy.Load(filepath.Join(dir, demo.PolicyFile))
	if err != nil || ds.HasErrors() {
		b.Fatal(err, ds)
	}
	r := datastore.Resolver{BaseDir: dir}
	b.ReportAllocs()
	for b.Loop() {
		if ds, _ := drift.Live(ctx, p, r); ds.HasErrors() {
			b.Fatal(ds)
		}
	}
}
