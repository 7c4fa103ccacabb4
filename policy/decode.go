package policy

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds the work of decoding, so that aliases that expand
// exponentially ("billion laughs") fail instead of exhausting memory.
const maxNodes = 200_000

// maxSize bounds the size of a policy file.
const maxSize = 8 << 20

// Load reads and checks the policy file at path. The error is non-nil only
// when the file cannot be read; problems with its content are in the
// diagnostics, and the policy is nil when the YAML itself does not parse.
func Load(path string) (*Policy, Diagnostics, error) {
	src, err := readPolicy(path)
	if err != nil {
		return nil, nil, err
	}
	p, ds := Parse(path, src)
	return p, ds, nil
}

// readPolicy reads a policy of at most maxSize bytes from a regular file
// or a pipe (`vow check <(…)`, /dev/stdin fed by a pipe, a named pipe).
// Devices, directories and sockets are refused before opening: /dev/zero
// would be read until memory ran out. A pipe is opened without blocking,
// so that a named pipe nobody writes to cannot hang the command, and its
// reads give up after pipeWait.
func readPolicy(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	pipe := fi.Mode()&os.ModeNamedPipe != 0
	if !fi.Mode().IsRegular() && !pipe {
		return nil, fmt.Errorf("policy: %s is not a regular file (a %s): give the path of a vow.yaml", path, fileKind(fi.Mode()))
	}
	flag := os.O_RDONLY
	if pipe {
		flag |= syscall.O_NONBLOCK
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	defer f.Close()
	if pipe {
		// The poller makes the deadline work; a pipe without a writer
		// reads as empty at once.
		if err := f.SetReadDeadline(time.Now().Add(pipeWait)); err != nil {
			return nil, fmt.Errorf("policy: %s: %w", path, err)
		}
	}
	src, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, fmt.Errorf("policy: %s is a pipe and nothing finished writing to it within %s", path, pipeWait)
	}
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if len(src) > maxSize {
		return nil, fmt.Errorf("policy: %s is larger than %d MiB, the limit for a policy file", path, maxSize>>20)
	}
	if pipe && len(src) == 0 {
		return nil, fmt.Errorf("policy: %s is a pipe and nothing was written to it", path)
	}
	return src, nil
}

// pipeWait bounds how long a policy read from a pipe may take.
var pipeWait = 30 * time.Second

func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&os.ModeNamedPipe != 0:
		return "named pipe"
	case m&os.ModeDevice != 0:
		return "device"
	case m&os.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}

// Parse decodes src strictly and lints it. It reports every problem it finds,
// not just the first.
func Parse(file string, src []byte) (*Policy, Diagnostics) {
	d := &decoder{file: file, pos: map[string]Pos{}}
	if len(src) > maxSize {
		d.errorf(Pos{}, "", "too-large", "policy file is %d bytes; the limit is %d", len(src), maxSize)
		return nil, d.diags
	}
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		d.add(Diagnostic{Pos: yamlErrorPos(err), Severity: Error, Code: "syntax", Message: cleanYAMLError(err), Hint: "fix the YAML syntax; indentation uses spaces"})
		return nil, d.diags
	}
	p := &Policy{File: file, Source: src}
	if len(root.Content) == 0 {
		d.errorf(Pos{1, 1}, "", "empty", "policy file is empty")
		return nil, d.diags
	}
	d.value(root.Content[0], reflect.ValueOf(p).Elem(), "")
	p.pos = d.pos
	if d.overBudget {
		return nil, d.diags
	}
	// While the file has structural errors, whatever a lint finds missing
	// may sit under a misspelled key: report the structure only, rather
	// than a cascade of false "no retention rule" findings.
	d.diags = append(d.diags, lint(p, !d.diags.HasErrors())...)
	for i := range d.diags {
		d.diags[i].File = file
	}
	d.diags.Sort()
	return p, d.diags
}

type decoder struct {
	file       string
	pos        map[string]Pos
	diags      Diagnostics
	nodes      int
	overBudget bool
}

func (d *decoder) add(diag Diagnostic) {
	diag.File = d.file
	d.diags = append(d.diags, diag)
}

func (d *decoder) errorf(p Pos, path, code, format string, args ...any) {
	d.add(Diagnostic{Pos: p, Severity: Error, Code: code, Path: path, Message: fmt.Sprintf(format, args...)})
}

func nodePos(n *yaml.Node) Pos { return Pos{n.Line, n.Column} }

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// value decodes n into v, recording positions and problems under path.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	if d.overBudget {
		return
	}
	if d.nodes++; d.nodes > maxNodes {
		d.overBudget = true
		d.errorf(nodePos(n), path, "too-large", "policy expands to more than %d nodes (aliases?)", maxNodes)
		return
	}
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if _, seen := d.pos[path]; !seen || path == "" {
		d.pos[path] = nodePos(n)
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an empty value leaves the zero value; required keys are checked by the parent
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	if reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		if err := n.Decode(v.Addr().Interface()); err != nil {
			d.errorf(nodePos(n), path, "invalid-value", "%s: %s", describe(path), cleanYAMLError(err))
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.structure(n, v, path)
	case reflect.Slice:
		d.slice(n, v, path)
	default:
		if n.Kind != yaml.ScalarNode {
			d.errorf(nodePos(n), path, "wrong-type", "%s must be a %s, not a %s", describe(path), kindName(v.Kind()), nodeKind(n))
			return
		}
		if v.Kind() == reflect.String && n.Tag != "!!str" && n.Tag != "!!int" && n.Tag != "!!float" {
			// A bare yes/no or timestamp where text is expected is most
			// likely a mistake; text must be text.
			if n.Tag == "!!bool" {
				d.errorf(nodePos(n), path, "wrong-type", "%s must be text, not the boolean %s", describe(path), n.Value)
				return
			}
		}
		if err := n.Decode(v.Addr().Interface()); err != nil {
			d.errorf(nodePos(n), path, "wrong-type", "%s must be %s, got %q", describe(path), kindName(v.Kind()), n.Value)
		}
	}
}

// mappingPairs returns a mapping's key/value pairs with merge keys (<<)
// expanded; explicit keys win over merged ones.
func (d *decoder) mappingPairs(n *yaml.Node) [][2]*yaml.Node {
	var pairs, merged [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" || (k.Value == "<<" && k.Style == 0 && k.Tag != "!!str") {
			for val.Kind == yaml.AliasNode {
				val = val.Alias
			}
			srcs := []*yaml.Node{val}
			if val.Kind == yaml.SequenceNode {
				srcs = val.Content
			}
			for _, s := range srcs {
				for s.Kind == yaml.AliasNode {
					s = s.Alias
				}
				if s.Kind == yaml.MappingNode {
					merged = append(merged, d.mappingPairs(s)...)
				}
			}
			continue
		}
		pairs = append(pairs, [2]*yaml.Node{k, val})
	}
	for _, m := range merged {
		dup := false
		for _, p := range pairs {
			if p[0].Value == m[0].Value {
				dup = true
				break
			}
		}
		if !dup {
			pairs = append(pairs, m)
		}
	}
	return pairs
}

type fieldInfo struct {
	index    int
	key      string
	required bool
	keyed    bool
}

func fieldsOf(t reflect.Type) []fieldInfo {
	var out []fieldInfo
	for i := range t.NumField() {
		f := t.Field(i)
		key := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if key == "" || key == "-" || !f.IsExported() {
			continue
		}
		opts := f.Tag.Get("vow")
		out = append(out, fieldInfo{index: i, key: key, required: strings.Contains(opts, "required"), keyed: strings.Contains(opts, "keyed")})
	}
	return out
}

// shorthand lets a struct be written as a bare scalar: a Field as its
// category.
type shorthand interface{ fromScalar(s string) }

func (f *Field) fromScalar(s string) { f.Category = s }

func (k *JSONKey) fromScalar(s string) { k.Category = s }

func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.ScalarNode {
		if sh, ok := v.Addr().Interface().(shorthand); ok {
			sh.fromScalar(n.Value)
			d.pos[join(path, "category")] = nodePos(n)
			return
		}
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(nodePos(n), path, "wrong-type", "%s must be a mapping (key: value lines), not a %s", describe(path), nodeKind(n))
		return
	}
	fields := fieldsOf(v.Type())
	seen := map[string]*yaml.Node{}
	for _, kv := range d.mappingPairs(n) {
		k, val := kv[0], kv[1]
		if prev, dup := seen[k.Value]; dup {
			d.errorf(nodePos(k), join(path, k.Value), "duplicate-key", "key %q appears twice in %s (first at line %d)", k.Value, describe(path), prev.Line)
			continue
		}
		seen[k.Value] = k
		var fi *fieldInfo
		for i := range fields {
			if fields[i].key == k.Value {
				fi = &fields[i]
				break
			}
		}
		if fi == nil {
			keys := make([]string, len(fields))
			for i, f := range fields {
				keys[i] = f.key
			}
			diag := Diagnostic{Pos: nodePos(k), Severity: Error, Code: "unknown-key", Path: join(path, k.Value),
				Message: fmt.Sprintf("unknown key %q in %s", k.Value, describe(path))}
			if s := closest(k.Value, keys); s != "" {
				diag.Message += fmt.Sprintf(", did you mean %q?", s)
			} else {
				diag.Hint = "valid keys: " + strings.Join(keys, ", ")
			}
			d.add(diag)
			continue
		}
		p := join(path, k.Value)
		d.pos[p] = nodePos(k)
		if fi.keyed {
			d.keyed(val, v.Field(fi.index), p)
		} else {
			d.value(val, v.Field(fi.index), p)
		}
	}
	for _, f := range fields {
		if k, ok := seen[f.key]; f.required && (!ok || isNullValue(n, k)) {
			d.add(Diagnostic{Pos: nodePos(n), Severity: Error, Code: "missing-key", Path: join(path, f.key),
				Message: fmt.Sprintf("%s needs %q", describe(path), f.key), Hint: help(v.Type(), f.index)})
		}
	}
}

func isNullValue(m, key *yaml.Node) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i] == key {
			return m.Content[i+1].Tag == "!!null"
		}
	}
	return false
}

func help(t reflect.Type, i int) string { return t.Field(i).Tag.Get("help") }

// keyed decodes a mapping into a slice of *T, setting each T's Name from
// its key and keeping the file's order.
func (d *decoder) keyed(n *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(nodePos(n), path, "wrong-type", "%s must be a mapping of names to entries, not a %s", describe(path), nodeKind(n))
		return
	}
	seen := map[string]int{}
	for _, kv := range d.mappingPairs(n) {
		k, val := kv[0], kv[1]
		if line, dup := seen[k.Value]; dup {
			d.errorf(nodePos(k), join(path, k.Value), "duplicate-name", "%s %q is declared twice (first at line %d)", singular(path), k.Value, line)
			continue
		}
		seen[k.Value] = k.Line
		if k.Value == "" {
			d.errorf(nodePos(k), path, "invalid-value", "%s has an entry with an empty name", describe(path))
			continue
		}
		elem := reflect.New(v.Type().Elem().Elem())
		elem.Elem().FieldByName("Name").SetString(k.Value)
		p := join(path, k.Value)
		d.pos[p] = nodePos(k)
		if !(val.Kind == yaml.ScalarNode && val.Tag == "!!null") {
			d.value(val, elem.Elem(), p)
			d.pos[p] = nodePos(k)
		}
		v.Set(reflect.Append(v, elem))
	}
}

func (d *decoder) slice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(nodePos(n), path, "wrong-type", "%s must be a list (lines starting with -), not a %s", describe(path), nodeKind(n))
		return
	}
	for i, item := range n.Content {
		resolved := item
		for resolved.Kind == yaml.AliasNode {
			resolved = resolved.Alias
		}
		// An empty entry ("- " alone) would put a nil or blank element in
		// the model for every later reader to trip on: refuse it here.
		if resolved.Kind == yaml.ScalarNode && resolved.Tag == "!!null" {
			d.errorf(nodePos(item), fmt.Sprintf("%s[%d]", path, i), "empty-entry", "%s has an empty entry", describe(path))
			continue
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		d.value(item, elem, fmt.Sprintf("%s[%d]", path, i))
		v.Set(reflect.Append(v, elem))
	}
}

// describe names a path for a message: "systems.app.tables.users" reads as
// "`systems.app.tables.users`", the root as "the policy".
func describe(path string) string {
	if path == "" {
		return "the policy"
	}
	return "`" + path + "`"
}

// singular names the kind of entry in a keyed collection at path.
func singular(path string) string {
	i := strings.LastIndexByte(path, '.')
	last := path[i+1:]
	switch last {
	case "categories":
		return "category"
	case "purposes":
		return "purpose"
	case "topics":
		return "topic"
	}
	return strings.TrimSuffix(last, "s")
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "scalar " + strconv.Quote(n.Value)
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.Slice:
		return "a list"
	}
	return k.String()
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

func yamlErrorPos(err error) Pos {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		l, _ := strconv.Atoi(m[1])
		return Pos{Line: l, Col: 1}
	}
	return Pos{}
}

// cleanYAMLError strips the library's prefixes so messages read as Vow's.
func cleanYAMLError(err error) string {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = strings.Join(te.Errors, "; ")
	}
	msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n  ")
	msg = strings.TrimPrefix(msg, "yaml: ")
	msg = yamlLine.ReplaceAllString(msg, "")
	msg = strings.Join(strings.Fields(strings.TrimLeft(msg, ": ")), " ")
	return msg
}

// closest returns the candidate nearest to s by edit distance, if close
// enough to be a likely typo.
func closest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if dist := levenshtein(strings.ToLower(s), strings.ToLower(c)); dist < bestD {
			best, bestD = c, dist
		}
	}
	if bestD <= max(2, len(s)/3) && bestD < len(s) {
		return best
	}
	return ""
}

// suggest returns ", did you mean X?" or "".
func suggest(s string, candidates []string) string {
	if c := closest(s, candidates); c != "" {
		return fmt.Sprintf(", did you mean %q?", c)
	}
	return ""
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// PosOf returns the position recorded for a key path, e.g.
// "systems.app.tables.users". Unknown paths fall back to their nearest
// recorded parent.
func (p *Policy) PosOf(path string) Pos {
	for {
		if pos, ok := p.pos[path]; ok {
			return pos
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return Pos{}
		}
		path = path[:i]
	}
}
