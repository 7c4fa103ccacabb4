package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"
)

// Error is an API error: a status, a stable machine-readable code, a message
// safe to show the caller, and, for bad input, the field at fault. Err is
// the internal cause: it is logged, never sent.
type Error struct {
	Status  int
	Code    string
	Message string
	Field   string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// BadRequest is a 400 naming the field at fault and why.
func BadRequest(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid", Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound is a 404.
func NotFound(format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf(format, args...)}
}

// Conflict is a 409.
func Conflict(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusConflict, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Errorf builds an Error with any status.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// errorBody is the JSON shape of every error response.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	} `json:"error"`
}

// WriteError writes err as a JSON error response. An *Error (anywhere in the
// chain) is shown as it is; anything else becomes a 500 whose message hides
// the cause. It returns the status written.
func WriteError(w http.ResponseWriter, err error) int {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error; the server log has the cause"}
	}
	var b errorBody
	b.Error.Code, b.Error.Message, b.Error.Field = e.Code, e.Message, e.Field
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="vow"`)
	}
	WriteJSON(w, e.Status, b)
	return e.Status
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"code":"internal","message":"could not encode the response"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// DecodeJSON decodes the request body into v strictly: unknown fields,
// wrong types, trailing data and bodies over the route's limit are 400s
// naming the field.
func DecodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "send the body as application/json"}
	}
	body, err := io.ReadAll(r.Body)
	var tooB *http.MaxBytesError
	if errors.As(err, &tooB) {
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: fmt.Sprintf("the body is larger than %d bytes", tooB.Limit)}
	}
	if err != nil {
		return BadRequest("", "the body could not be read: %v", err)
	}
	// encoding/json would replace invalid UTF-8 with U+FFFD and keep the
	// last of two equal keys: {"type":"access","type":"erasure"} must not
	// quietly become an erasure.
	if !utf8.Valid(body) {
		return BadRequest("", "the body is not valid UTF-8")
	}
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] != '{' && wantsObject(v) {
		return BadRequest("", "the body must be a JSON object, {…}")
	}
	// encoding/json matches a struct's fields in any case: {"type": …,
	// "TYPE": …} names one field twice.
	if key, ok := duplicateKey(body, wantsStruct(v)); ok {
		return BadRequest(key, "%q appears twice in the body; send it once", key)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		if dec.More() {
			return BadRequest("", "the body must hold one JSON value")
		}
		if _, terr := dec.Token(); terr != io.EOF {
			return BadRequest("", "the body must hold one JSON value")
		}
		return nil
	}
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.Is(err, io.EOF):
		return BadRequest("", "the body is empty; send a JSON object")
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return BadRequest("", "the body is not valid JSON: %v", err)
	case errors.As(err, &typ):
		return BadRequest(typ.Field, "%s must be %s, not %s", typ.Field, kindName(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return BadRequest(f, "unknown field %q", f)
	default:
		return BadRequest("", "the body is not valid: %v", err)
	}
}

// wantsObject reports whether v decodes from a JSON object.
func wantsObject(v any) bool {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t != nil && (t.Kind() == reflect.Struct || t.Kind() == reflect.Map)
}

// wantsStruct reports whether v decodes into a struct (whose fields
// encoding/json matches case-insensitively).
func wantsStruct(v any) bool {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t != nil && t.Kind() == reflect.Struct
}

// duplicateKey returns the first key that appears twice in one object of
// body, with its path ("changes.email"), if any.
func duplicateKey(body []byte, fold bool) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		object bool
		keys   map[string]bool
		path   string
		key    bool // the next string token is a key
	}
	var stack []*frame
	last := ""
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false // io.EOF, or a syntax error Decode reports
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				path := last
				if top != nil && !top.object {
					path = top.path
				}
				stack = append(stack, &frame{object: t == '{', keys: map[string]bool{}, path: path, key: t == '{'})
			default:
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].key = true
				}
			}
			continue
		case string:
			if top != nil && top.object && top.key {
				name := t
				if top.path != "" {
					name = top.path + "." + t
				}
				k := t
				if fold {
					k = strings.ToLower(t)
				}
				if top.keys[k] {
					return name, true
				}
				top.keys[k] = true
				top.key, last = false, name
				continue
			}
		}
		if top != nil && top.object {
			top.key = true
		}
	}
}

func kindName(k string) string {
	switch k {
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "bool":
		return "true or false"
	case "string":
		return "a string"
	case "ptr", "interface":
		return "a value"
	default:
		return "a number"
	}
}
