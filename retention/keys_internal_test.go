package retention

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/vowprivacy/vow/state"
)

func TestIntType(t *testing.T) {
	t.Parallel()
	for typ, want := range map[string]bool{
		"integer": true, "INTEGER": true, "bigint": true, "int(11)": true, "bigint(20) unsigned": true,
		"int8": true, "smallint": true, "bigserial": true, "unsigned big int": true, "mediumint(8) unsigned zerofill": true,
		"uuid": false, "char(36)": false, "text": false, "binary(16)": false, "bytea": false,
		"point": false, "interval": false, "numeric(20,0)": false, "": false,
	} {
		if got := intType(typ); got != want {
			t.Errorf("intType(%q) = %v, want %v", typ, got, want)
		}
	}
}

// TestCheckpointKeys: a checkpoint gives back the key it was given, binary
// values (and text that is not UTF-8) included, so that a resumed run
// continues after the right row.
func TestCheckpointKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := state.Open(ctx, filepath.Join(t.TempDir(), "state.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := &Engine{Store: st}
	for name, tc := range map[string]struct{ key, want []any }{
		"integer":   {[]any{int64(42)}, []any{int64(42)}},
		"uuid":      {[]any{"0b4e1c9a-0000-4000-8000-00000000002a"}, []any{"0b4e1c9a-0000-4000-8000-00000000002a"}},
		"binary":    {[]any{[]byte{0xff, 0x00, 0x41, 0xc3}}, []any{[]byte{0xff, 0x00, 0x41, 0xc3}}},
		"not utf-8": {[]any{"a\xffb"}, []any{[]byte("a\xffb")}},
		"composite": {[]any{"team-a", int64(7)}, []any{"team-a", int64(7)}},
	} {
		cp := &checkpoint{Rule: name, RunID: "ret_1", Cutoff: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), LastKey: tc.key}
		if err := e.saveCheckpoint(ctx, cp); err != nil {
			t.Fatal(err)
		}
		got, err := e.loadCheckpoint(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.LastKey) != len(tc.want) {
			t.Fatalf("%s: key %#v, want %#v", name, got.LastKey, tc.want)
		}
		for i, v := range got.LastKey {
			w := tc.want[i]
			if wb, ok := w.([]byte); ok {
				if gb, ok := v.([]byte); !ok || !bytes.Equal(gb, wb) {
					t.Errorf("%s: key %#v, want %#v", name, got.LastKey, tc.want)
				}
			} else if v != w {
				t.Errorf("%s: key %#v, want %#v", name, got.LastKey, tc.want)
			}
		}
	}
}
