package rowjson

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vowprivacy/vow/internal/testdb"
)

// arrayLiterals are literals PostgreSQL writes, some only a person would
// type, which its input also reads, and some it refuses.
var arrayLiterals = []string{
	`{}`,
	`{a}`,
	`{a,"b,c","d\"e",NULL,"NULL","","x\\y"," s "}`,
	`{"{braces}","a}b","tab	in"}`,
	`{{1,2},{3,4}}`,
	`{{{1},{2}},{{3},{4}}}`,
	`{{NULL,NULL},{"",""}}`,
	`[0:1]={a,b}`,
	`[1:1][3:4]={{a,b}}`,
	`{ a , b }`,
	` { "a" ,"b"} `,
	`{a b,c  d}`,
	`{null,Null,"null"}`,
	`{a\,b,c\"d,e\\f}`,
	`{"é日本\U0001F600"}`,
	`{\ a\ }`,
	`{"\a","a\\b\"c",\"a,a \b }`,
	`{"",""}`,
	// Refused by both:
	`{a"b,c"d}`,
	`{a,,b}`,
	`{a`,
	`a}`,
	`{"a}`,
	`{a}x`,
	`{a,{b}}`,
	`{{a},b}`,
	`{a{b}}`,
	`{a,}`,
	`{,}`,
	`{a\`,
	``,
	`[1:2]{a,b}`,
}

// TestParseArrayLikePostgres reads arrayLiterals with parseArray and with
// PostgreSQL (as text[], through array_to_json), and wants the same
// elements, or both to refuse the literal.
func TestParseArrayLikePostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, testdb.PostgresAdminURL())
	if err != nil {
		t.Fatalf("PostgreSQL not reachable: %v", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, lit := range arrayLiterals {
		var pgJSON string
		pgErr := conn.QueryRow(ctx, "SELECT array_to_json($1::text[])::text", lit).Scan(&pgJSON)
		arr, ok := parseArray(lit, ',')
		switch {
		case pgErr != nil && ok:
			t.Errorf("parseArray(%q) = %v, but PostgreSQL refuses it: %v", lit, arr, pgErr)
		case pgErr == nil && !ok:
			t.Errorf("parseArray(%q) refused, but PostgreSQL reads %s", lit, pgJSON)
		case ok:
			var want any
			if err := json.Unmarshal([]byte(pgJSON), &want); err != nil {
				t.Fatal(err)
			}
			if want == nil { // array_to_json('{}') is "[]"; a NULL array only for NULL
				t.Fatalf("%q: PostgreSQL gave %s", lit, pgJSON)
			}
			if !reflect.DeepEqual(arr, want) {
				t.Errorf("parseArray(%q) = %#v, PostgreSQL reads %s", lit, arr, pgJSON)
			}
			// And PostgreSQL reads back what formatArray writes.
			var back string
			if err := conn.QueryRow(ctx, "SELECT array_to_json($1::text[])::text", string(formatArray(nil, arr, ','))).Scan(&back); err != nil {
				t.Errorf("PostgreSQL refuses formatArray(%q) = %s: %v", lit, formatArray(nil, arr, ','), err)
			} else if back != pgJSON {
				t.Errorf("formatArray(%q) = %s, which PostgreSQL reads as %s, not %s", lit, formatArray(nil, arr, ','), back, pgJSON)
			}
		}
	}
}

// FuzzParseArray holds parseArray to never panicking, and to reading
// whatever it accepts the way it reads formatArray's rendering of it, which
// is canonical. Append on an array column must give valid JSON for any
// text.
func FuzzParseArray(f *testing.F) {
	for _, lit := range arrayLiterals {
		f.Add(lit)
	}
	f.Add(`{"{\"a\": 1}",NULL}`)
	f.Add(`{"\\x00ff"}`)
	f.Add(`{"2024-01-02 01:04:05+00"}`)
	f.Add(`{t,f}`)
	f.Fuzz(func(t *testing.T, lit string) {
		for _, delim := range []byte{',', ';'} {
			arr, ok := parseArray(lit, delim)
			if !ok {
				continue
			}
			out := formatArray(nil, arr, delim)
			back, ok := parseArray(string(out), delim)
			if !ok {
				t.Fatalf("parseArray(%q) = %#v, but its rendering %s does not parse", lit, arr, out)
			}
			if !reflect.DeepEqual(arr, back) {
				t.Fatalf("parseArray(%q) = %#v; rendered %s, it reads back as %#v", lit, arr, out, back)
			}
			if again := formatArray(nil, back, delim); string(again) != string(out) {
				t.Fatalf("formatArray is not canonical for %q: %s, then %s", lit, out, again)
			}
		}
		for _, db := range []string{"_text", "_int4", "_numeric", "_bool", "_jsonb", "_bytea", "_timestamptz", "_timestamp", "_uuid", "_box"} {
			b, err := Append(nil, lit, Column{DatabaseType: db, Kind: "postgres"})
			if err != nil || !json.Valid(b) {
				t.Fatalf("Append(%q) as %s = %s, %v: not JSON", lit, db, b, err)
			}
		}
	})
}

func TestPGTypeName(t *testing.T) {
	for decl, want := range map[string]string{
		"integer[]":                        "int4",
		"text[]":                           "text",
		"mood[]":                           "mood",
		"numeric(10,2)[]":                  "numeric",
		"timestamp(3) with time zone[]":    "timestamptz",
		"timestamp without time zone[]":    "timestamp",
		"character varying(20)[]":          "varchar",
		"double precision[]":               "float8",
		"boolean[]":                        "bool",
		"jsonb[]":                          "jsonb",
		`"Mixed Case"[]`:                   `"Mixed Case"`,
		"time(6) with time zone[]":         "time with time zone",
		"interval day to second(3)[]":      "interval day to second",
		"public.mood[]":                    "public.mood",
		"smallint[][]":                     "int2",
		"bigint[]":                         "int8",
		"real[]":                           "float4",
		"bytea[]":                          "bytea",
		"uuid[]":                           "uuid",
		"character(3)[]":                   "bpchar",
		"timestamp(6) without time zone[]": "timestamp",
	} {
		if got := pgTypeName(decl); got != want {
			t.Errorf("pgTypeName(%q) = %q, want %q", decl, got, want)
		}
	}
}
