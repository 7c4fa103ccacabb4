package consent

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"os"
	"testing"

	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/state"
)

// FuzzQueryValue checks the hot path's query parser against net/url.
func FuzzQueryValue(f *testing.F) {
	for _, s := range []string{"", "purpose=marketing", "a=1&purpose=x%20y", "purpose=a+b", "purpose", "purpose=&purpose=2", "%zz=1&purpose=%", "purpos%65=x", "purpose=a%2Bb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got := queryValue(raw, "purpose")
		q, err := url.ParseQuery(raw)
		if err != nil {
			return // net/url refuses it; queryValue may answer anything
		}
		if want := q.Get("purpose"); got != want {
			t.Fatalf("queryValue(%q) = %q, url.ParseQuery gives %q", raw, got, want)
		}
	})
}

// FuzzUnsubscribe checks that no token but one Vow made unsubscribes
// anyone, and that refusing one changes nothing.
func FuzzUnsubscribe(f *testing.F) {
	src, err := os.ReadFile("../demo/vow.yaml")
	if err != nil {
		f.Fatal(err)
	}
	p, _ := policy.Parse("vow.yaml", src)
	st, err := state.Open(context.Background(), testdb.SQLite(f), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	var master [32]byte
	_, _ = rand.Read(master[:])
	k, _ := keyring.New(master[:])
	svc := New(st, p, k, nil, Options{})
	good, _ := svc.UnsubscribeToken("ada", "newsletter")
	f.Add(good[:len(good)-1])
	f.Add(good + "A")
	f.Add("AAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		if token == good {
			return
		}
		if _, _, err := svc.Unsubscribe(context.Background(), token); !errors.Is(err, ErrBadLink) {
			t.Fatalf("token %q: %v", token, err)
		}
	})
}
