package rowjson

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestAppend covers the rules that the databases in live_test.go cannot
// all produce on demand: values at the edges, and driver types seen only
// on one protocol.
func TestAppend(t *testing.T) {
	pg := func(db, decl string) Column { return Column{DatabaseType: db, Kind: "postgres", DeclaredType: decl} }
	my := func(db, decl string) Column { return Column{DatabaseType: db, Kind: "mysql", DeclaredType: decl} }
	lite := func(db string) Column { return Column{DatabaseType: db, Kind: "sqlite", DeclaredType: db} }
	// A MariaDB connection whose DSN says loc=Europe/Berlin.
	berlin := func(db string) Column {
		loc, err := time.LoadLocation("Europe/Berlin")
		if err != nil {
			t.Skip(err)
		}
		return Column{DatabaseType: db, Kind: "mysql", Location: loc}
	}
	tests := []struct {
		name string
		v    any
		c    Column
		want string
	}{
		{"null", nil, pg("text", ""), `null`},
		{"bool", true, pg("bool", ""), `true`},
		{"int64", int64(-42), pg("int8", ""), `-42`},
		{"int64 one in an int column", int64(1), my("int", "int"), `1`},
		{"float64", 2.5, pg("float8", ""), `2.5`},
		{"float64 large", 1e21, pg("float8", ""), `1e+21`},
		{"float64 small", 1e-7, pg("float8", ""), `1e-7`},
		{"float64 NaN", math.NaN(), pg("float8", ""), `"NaN"`},
		{"float64 +Inf", math.Inf(1), pg("float8", ""), `"Infinity"`},
		{"float64 -Inf", math.Inf(-1), lite("real"), `"-Infinity"`},
		{"postgres real at its width", float64(float32(1.1)), pg("float4", ""), `1.1`},
		{"sqlite float is a double", float64(float32(1.1)), lite("float4"), `1.100000023841858`},
		{"float32", float32(1.1), my("float", ""), `1.1`},
		{"uint64", uint64(math.MaxUint64), my("unsigned bigint", ""), `18446744073709551615`},
		{"numeric text", "12345678901234567890.123", pg("numeric", ""), `12345678901234567890.123`},
		{"numeric NaN", "NaN", pg("numeric", ""), `"NaN"`},
		{"decimal bytes", []byte("-0.500"), my("decimal", ""), `-0.500`},
		{"unsigned bigint bytes", []byte("18446744073709551615"), my("unsigned bigint", ""), `18446744073709551615`},
		{"not a number in a number column", "12.", lite("numeric"), `"12."`},
		{"int4range is no number", "[1,5)", pg("int4range", ""), `"[1,5)"`},
		{"text", `a "b" <c> & é`, pg("text", ""), `"a \"b\" \u003cc\u003e \u0026 é"`},
		{"text bytes", []byte("héllo"), my("varchar", ""), `"héllo"`},
		{"invalid UTF-8 text", "a\xffb", lite("text"), `{"base64":"Yf9i"}`},
		{"invalid UTF-8 bytes", []byte("a\xffb"), my("text", ""), `{"base64":"Yf9i"}`},
		{"bytea", []byte{0, 0xff}, pg("bytea", ""), `{"base64":"AP8="}`},
		{"blob of text", []byte("abc"), my("blob", ""), `{"base64":"YWJj"}`},
		{"sqlite bytes are a blob", []byte("abc"), lite("text"), `{"base64":"YWJj"}`},
		{"time", time.Date(2024, 1, 2, 3, 4, 5, 6000, time.FixedZone("", 2*3600)), pg("timestamptz", ""), `"2024-01-02T01:04:05.000006Z"`},
		{"date", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), pg("date", ""), `"2024-01-02"`},
		{"datetime at midnight", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), my("datetime", ""), `"2024-01-02T00:00:00Z"`},
		{"sqlite date with a time", time.Date(2024, 1, 2, 3, 0, 0, 0, time.UTC), lite("date"), `"2024-01-02T03:00:00Z"`},
		{"mysql datetime as text", []byte("2024-01-15 12:00:00.123456"), my("datetime", ""), `"2024-01-15T12:00:00.123456Z"`},
		{"mysql datetime as text, wall time in loc", []byte("2024-01-15 12:00:00.123456"), berlin("datetime"), `"2024-01-15T11:00:00.123456Z"`},
		{"mysql date as text is the day, whatever loc", []byte("1990-05-01"), berlin("date"), `"1990-05-01"`},
		{"mysql timestamp as text is UTC, whatever loc", []byte("2026-10-25 01:30:00"), berlin("timestamp"), `"2026-10-25T01:30:00Z"`},
		{"mysql zero date", time.Time{}, my("date", ""), `"0000-00-00"`},
		{"mysql zero datetime", time.Time{}, my("datetime", ""), `"0000-00-00 00:00:00"`},
		{"jsonb", []byte(`{"a": [1, 2.50, {"b": null}], "c": "\u00e9"}`), pg("jsonb", ""), `{"a":[1,2.50,{"b":null}],"c":"\u00e9"}`},
		{"json scalar", []byte(`"s"`), pg("json", ""), `"s"`},
		{"invalid json", "{a}", lite("json"), `"{a}"`},
		{"mariadb json declared", []byte(`[1, "x"]`), my("text", "json"), `[1,"x"]`},
		{"mariadb longtext is text", []byte(`[1, "x"]`), my("text", "longtext"), `"[1, \"x\"]"`},
		{"sqlite jsonb blob", []byte{0x4c, 0x17, 'a', 0x13, '1'}, lite("jsonb"), `{"base64":"TBdhEzE="}`},
		{"sqlite json text", `{"a":1}`, lite("json"), `{"a":1}`},
		{"sqlite boolean", int64(1), lite("boolean"), `true`},
		{"sqlite boolean zero", int64(0), lite("boolean"), `false`},
		{"tinyint is a number", int64(1), my("tinyint", ""), `1`},
		{"tinyint(1) declared", int64(1), my("tinyint", "tinyint(1)"), `true`},
		{"boolean declared", int64(0), my("tinyint", "BOOLEAN"), `false`},
		{"tinyint(1) holding 5", int64(5), my("tinyint", "tinyint(1)"), `5`},
		{"mysql bit", []byte{0x05}, my("bit", "bit(3)"), `5`},
		{"mysql bit 64", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, my("bit", "bit(64)"), `18446744073709551615`},
		{"postgres bit is text", "101", pg("bit", ""), `"101"`},
		{"mysql set", []byte("x,y"), my("set", ""), `["x","y"]`},
		{"mysql empty set", []byte(""), my("set", ""), `[]`},
		{"mysql enum", []byte("b c"), my("enum", ""), `"b c"`},
		{"uuid upper", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", lite("uuid"), `"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"`},
		{"uuid bytes", []byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}, lite("uuid"), `"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"`},
		{"uuid not one", "not-a-uuid", lite("uuid"), `"not-a-uuid"`},
		{"text array", `{a,"b,c","d\"e",NULL,"NULL","","x\\y"," s "}`, pg("_text", "text[]"), `["a","b,c","d\"e",null,"NULL","","x\\y"," s "]`},
		{"int array 2d", `{{1,2},{3,NULL}}`, pg("_int4", ""), `[[1,2],[3,null]]`},
		{"numeric array", `{1.5,12345678901234567890.123,NaN}`, pg("_numeric", ""), `[1.5,12345678901234567890.123,"NaN"]`},
		{"bool array", `{t,f,NULL}`, pg("_bool", ""), `[true,false,null]`},
		{"jsonb array", `{"{\"a\": 1}","\"s\"",NULL}`, pg("_jsonb", ""), `[{"a":1},"s",null]`},
		{"bytea array", `{"\\x00ff",NULL}`, pg("_bytea", ""), `[{"base64":"AP8="},null]`},
		{"timestamptz array", `{"2024-01-02 01:04:05.5+02","2024-01-02 01:04:05+05:30",infinity}`, pg("_timestamptz", ""), `["2024-01-01T23:04:05.5Z","2024-01-01T19:34:05Z","infinity"]`},
		{"enum array by declared type", `{happy,"sad, \"very\""}`, pg("16385", "mood[]"), `["happy","sad, \"very\""]`},
		{"declared integer array", `{1,2}`, pg("16390", "integer[]"), `[1,2]`},
		{"declared timestamp array", `{"2024-01-02 03:04:05"}`, pg("", "timestamp(3) without time zone[]"), `["2024-01-02T03:04:05Z"]`},
		{"box array", `{(1,1),(0,0);(2,2),(1,1)}`, pg("_box", ""), `["(1,1),(0,0)","(2,2),(1,1)"]`},
		{"lower bound", `[0:1]={1,2}`, pg("_int4", ""), `[1,2]`},
		{"empty array", `{}`, pg("_text", ""), `[]`},
		{"not an array", `{a`, pg("_text", ""), `"{a"`},
		{"enum", "sad, \"very\"", pg("16385", "mood"), `"sad, \"very\""`},
		{"uint32 by reflection", uint32(7), Column{}, `7`},
		{"int by reflection", -7, Column{}, `-7`},
		{"string kind", kindString("k"), Column{}, `"k"`},
		{"marshaler", json.RawMessage(`{"a" : 1}`), Column{}, `{"a":1}`},
		{"other", struct{ A int }{1}, Column{}, `"{1}"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Append([]byte("x"), tt.v, tt.c)
			if err != nil {
				t.Fatal(err)
			}
			if string(got[1:]) != tt.want {
				t.Errorf("Append(%#v, %+v)\n got %s\nwant %s", tt.v, tt.c, got[1:], tt.want)
			}
			if !json.Valid(got[1:]) {
				t.Errorf("Append(%#v) = %s: not JSON", tt.v, got[1:])
			}
		})
	}
}

type kindString string

// TestAppendStringLikeEncodingJSON holds appendString to json.Marshal's
// output, which the exports wrote before this package.
func TestAppendStringLikeEncodingJSON(t *testing.T) {
	var all strings.Builder
	for c := rune(0); c < 0x80; c++ {
		all.WriteRune(c)
	}
	for _, s := range []string{"", "plain", all.String(), "é日本\U0001F600", "\u2028\u2029", "a\xffb\xc3", "<script>&amp;</script>", `\"`} {
		want, _ := json.Marshal(s)
		valid := utf8.ValidString(s)
		if got, ok := appendString(nil, s); string(got) != string(want) || ok != valid {
			t.Errorf("appendString(%q) = %s, %v, want %s, %v", s, got, ok, want, valid)
		}
		if got, ok := appendString(nil, []byte(s)); string(got) != string(want) || ok != valid {
			t.Errorf("appendString([]byte %q) = %s, %v, want %s, %v", s, got, ok, want, valid)
		}
	}
}

func TestIsJSONNumber(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "-0": true, "12": true, "1.5": true, "-0.001": true, "1e5": true, "1E+5": true, "2.5e-3": true,
		"12345678901234567890.123": true,
		"":                         false, "-": false, "01": false, "1.": false, ".5": false, "+1": false, "1e": false, "NaN": false,
		"Infinity": false, "0x10": false, "1_000": false, "$1.00": false,
	} {
		if got := isJSONNumber(s); got != want {
			t.Errorf("isJSONNumber(%q) = %v, want %v", s, got, want)
		}
		if got := json.Valid([]byte(s)); got != want {
			t.Errorf("json.Valid(%q) = %v, but isJSONNumber should agree with it", s, got)
		}
	}
}

// BenchmarkAppend measures a row of common values, the export's loop.
func BenchmarkAppend(b *testing.B) {
	cols := []Column{
		{DatabaseType: "int8", Kind: "postgres"},
		{DatabaseType: "text", Kind: "postgres"},
		{DatabaseType: "numeric", Kind: "postgres"},
		{DatabaseType: "timestamptz", Kind: "postgres"},
		{DatabaseType: "bool", Kind: "postgres"},
		{DatabaseType: "varchar", Kind: "mysql"},
		{DatabaseType: "_text", Kind: "postgres"},
	}
	vals := []any{int64(12345), "someone@example.com", "1234.50", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), true, []byte("Jane Doe"), `{home,"work, main",NULL}`}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = buf[:0]
		for i, v := range vals {
			buf, _ = Append(buf, v, cols[i])
		}
	}
}
