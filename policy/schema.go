package policy

import (
	"encoding/json"
	"reflect"
	"sort"

	"github.com/vowprivacy/vow/taxonomy"
)

// durationPattern matches what ParseDuration accepts.
const durationPattern = `^\s*[0-9]+\s*(h|d|w|mo|y|hours?|days?|weeks?|months?|years?)\s*$`

// intervalPattern matches what time.ParseDuration accepts.
const intervalPattern = `^\s*([0-9]+(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+\s*$`

// enums lists the closed vocabularies, by Go type and field name.
func enums() map[string][]string {
	bases := make([]string, 0, len(taxonomy.LegalBases))
	for k := range taxonomy.LegalBases {
		bases = append(bases, k)
	}
	sort.Strings(bases)
	return map[string][]string{
		"System.Kind":             append(slicesClone(Kinds), "mariadb"),
		"Purpose.LegalBasis":      bases,
		"Field.Identity":          Identities,
		"Rights.Verification":     Verifications,
		"Transfer.Safeguard":      Safeguards,
		"Processor.Safeguard":     Safeguards,
		"Processor.Role":          {"processor", "sub-processor"},
		"Cookie.Category":         CookieKinds,
		"ConsentPurpose.Mode":     ConsentModes,
		"ConsentPurpose.Default":  {"granted", "denied"},
		"Rule.Then":               {"delete", "anonymise", "anonymize"},
		"Field.Stored":            StoredForms,
		"Notices.Acceptance":      Acceptances,
		"Notices.ChangeChannels":  ChangeChannels,
		"Scope.Laws":              Laws,
		"LegalDisclosure.Grounds": LegalGrounds,
		"Measure.Kind":            MeasureKinds,
	}
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// JSONSchema returns a JSON Schema (draft 2020-12) for vow.yaml, generated
// from the same struct tags the decoder reads, for editors' completion and
// validation (e.g. the YAML language server's `# yaml-language-server:
// $schema=` comment).
func JSONSchema() ([]byte, error) {
	root := schemaOf(reflect.TypeFor[Policy](), enums())
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = "https://vow.dev/schema/vow.schema.json"
	root["title"] = "Vow policy file (vow.yaml)"
	b, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

type obj = map[string]any

var erasureSchema = obj{"oneOf": []any{
	obj{"type": "string", "enum": []string{"delete", "nullify", "hmac"}},
	obj{"type": "object", "properties": obj{"set": obj{"type": []string{"string", "number", "boolean"}}}, "required": []string{"set"}, "additionalProperties": false},
	obj{"type": "object", "properties": obj{"hold": obj{"type": "string"}, "for": obj{"type": "string", "pattern": durationPattern}}, "required": []string{"hold", "for"}, "additionalProperties": false},
}}

func schemaOf(t reflect.Type, en map[string][]string) obj {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case reflect.TypeFor[Duration]():
		return obj{"type": "string", "pattern": durationPattern}
	case reflect.TypeFor[Date]():
		return obj{"type": "string", "format": "date"}
	case reflect.TypeFor[Erasure]():
		return erasureSchema
	case reflect.TypeFor[Percent]():
		return obj{"type": []string{"string", "number"}}
	case reflect.TypeFor[Interval]():
		return obj{"oneOf": []any{obj{"type": "string", "pattern": intervalPattern}, obj{"const": -1}}}
	}
	switch t.Kind() {
	case reflect.String:
		return obj{"type": "string"}
	case reflect.Bool:
		return obj{"type": "boolean"}
	case reflect.Int, reflect.Int64:
		return obj{"type": "integer"}
	case reflect.Float64:
		return obj{"type": "number"}
	case reflect.Slice:
		return obj{"type": "array", "items": schemaOf(t.Elem(), en)}
	case reflect.Struct:
		props := obj{}
		var required []string
		for _, f := range fieldsOf(t) {
			sf := t.Field(f.index)
			var s obj
			if f.keyed {
				s = obj{"type": "object", "additionalProperties": schemaOf(sf.Type.Elem(), en)}
			} else {
				s = schemaOf(sf.Type, en)
			}
			s = copyObj(s)
			if h := sf.Tag.Get("help"); h != "" {
				s["description"] = h
			}
			if e, ok := en[t.Name()+"."+sf.Name]; ok {
				if sf.Type.Kind() == reflect.Slice {
					// A list of a vocabulary: the items are enumerated.
					s["items"] = obj{"type": "string", "enum": e}
				} else {
					s["enum"] = e
				}
			}
			props[f.key] = s
			if f.required {
				required = append(required, f.key)
			}
		}
		out := obj{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			out["required"] = required
		}
		if t == reflect.TypeFor[Field]() {
			return obj{"oneOf": []any{obj{"type": "string", "description": "The column's data category."}, out}}
		}
		return out
	}
	return obj{}
}

func copyObj(s obj) obj {
	c := make(obj, len(s)+2)
	for k, v := range s {
		c[k] = v
	}
	return c
}

// Keys returns every key path of the policy file with its help text, in
// file order, for reference documentation. Keyed collections appear as
// "systems.<name>".
func Keys() [][2]string {
	var out [][2]string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t == reflect.TypeFor[Duration]() || t == reflect.TypeFor[Date]() || t == reflect.TypeFor[Erasure]() || t == reflect.TypeFor[Interval]() {
			return
		}
		for _, f := range fieldsOf(t) {
			sf := t.Field(f.index)
			path := join(prefix, f.key)
			out = append(out, [2]string{path, sf.Tag.Get("help")})
			sub := path
			if f.keyed {
				sub = path + ".<" + singular(path) + ">"
			} else if sf.Type.Kind() == reflect.Slice {
				sub = path + "[]"
			}
			walk(sf.Type, sub)
		}
	}
	walk(reflect.TypeFor[Policy](), "")
	return out
}
