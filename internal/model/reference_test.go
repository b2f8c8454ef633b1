package model

// This file holds a second, deliberately separate reading of the model and
// of AWS's validation grammar (the constraint messages of AWS's ValidationException), used as an oracle by the tests:
// the model-facts.json is decoded here with its own types (not through
// Load), patterns are matched with hand-translated regular expressions (not
// through compileJavaPattern), and request bodies are decoded with their own
// ordered JSON reader. The generated tests and FuzzCheck compare Check with
// what this reference expects.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// fSpec is model-facts.json as the tests read it.
type fSpec struct {
	Service struct {
		TargetPrefix       string   `json:"targetPrefix"`
		UnsignedOperations []string `json:"unsignedOperations"`
	} `json:"service"`
	Operations map[string]struct {
		Target string   `json:"target"`
		Input  *string  `json:"input"`
		Output *string  `json:"output"`
		Errors []string `json:"errors"`
		Auth   string   `json:"auth"`
	} `json:"operations"`
	Shapes map[string]fShape `json:"shapes"`
}

type fShape struct {
	Type      string   `json:"type"`
	Min       *int64   `json:"min"`
	Max       *int64   `json:"max"`
	Pattern   string   `json:"pattern"`
	Enum      []string `json:"enum"`
	Sensitive bool     `json:"sensitive"`
	Member    string   `json:"member"`
	Key       string   `json:"key"`
	Value     string   `json:"value"`
	Members   fMembers `json:"members"`
	Required  []string `json:"required"`
}

type fMember struct {
	Name  string
	Shape string `json:"shape"`
}

// fMembers keeps the members in the order the file lists them.
type fMembers []fMember

func (ms *fMembers) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		var m fMember
		if err := dec.Decode(&m); err != nil {
			return err
		}
		m.Name = tok.(string)
		*ms = append(*ms, m)
	}
	return nil
}

func (s fShape) required(name string) bool {
	for _, r := range s.Required {
		if r == name {
			return true
		}
	}
	return false
}

func readSpec(t testing.TB) *fSpec {
	t.Helper()
	var sp fSpec
	if err := json.Unmarshal(factsJSON, &sp); err != nil {
		t.Fatalf("model-facts.json: %v", err)
	}
	return &sp
}

// javaPattern is the tests' own reading of one model pattern: a hand-made
// RE2 translation with Java's semantics (\w and \d are ASCII, \s is
// [ \t\n\x0B\f\r]), plus values Java accepts and refuses. filler is a
// character that can be appended to a valid value and keep it valid ("" if
// none can).
type javaPattern struct {
	oracle  *regexp.Regexp
	valid   []string
	invalid []string
	filler  string
}

// javaPatterns lists every pattern of the model; a test fails when the model
// gains a pattern that is not here.
var javaPatterns = map[string]javaPattern{
	`\d+`: {
		oracle:  regexp.MustCompile(`^[0-9]+$`),
		valid:   []string{"123456789012", "0"},
		invalid: []string{"12a", "1 2", "\u0663", "-1", "１２"},
		filler:  "1",
	},
	`[\p{L}\p{M}\p{S}\p{N}\p{P}]+`: {
		oracle:  regexp.MustCompile(`^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$`),
		valid:   []string{"custom:dept", "email", "cognito:groups", "é", "e\u0301", "€", "😀", "\u0663", "a-b_c.d"},
		invalid: []string{"a b", "a\tb", "a\u00a0b", "a\u200bb", "x\n"},
		filler:  "x",
	},
	`[\w_]+`: {
		oracle:  regexp.MustCompile(`^[A-Za-z0-9_]+$`),
		valid:   []string{"7lhlkkfbfb4q5kpp90urffao", "abc_DEF_123"},
		invalid: []string{"a-b", "a b", "é", "a.b", "a\x0Bb"},
		filler:  "x",
	},
	`[\w._:/-]+`: {
		oracle:  regexp.MustCompile(`^[A-Za-z0-9_.:/\-]+$`),
		valid:   []string{"cognito-idp.us-east-1.amazonaws.com/us-east-1_123456789", "a:b/c-d_e.f"},
		invalid: []string{"a b", "a;b", "é", "a@b", "a+b"},
		filler:  "x",
	},
	`[\w._-]+`: {
		oracle:  regexp.MustCompile(`^[A-Za-z0-9_.\-]+$`),
		valid:   []string{"login.mycompany.myapp", "a_b-c.d"},
		invalid: []string{"a/b", "a:b", "a b", "é"},
		filler:  "x",
	},
	`[\w-]+:[0-9a-f-]+`: {
		oracle:  regexp.MustCompile(`^[A-Za-z0-9_\-]+:[0-9a-f\-]+$`),
		valid:   []string{"us-east-1:0def4f54-71bd-42f5-b8d9-7e8811807670", "us_east_1:a", "x:-"},
		invalid: []string{"6eaf0258-e8c5-467f-90de-6e212326e6d3", "us-east-1:0DEF", "us-east-1:0xyz", "us-east-1:", ":abc", "us east:abc", "us-east-1:ab:cd", "us-east-1:abc\n", "é:abc"},
		filler:  "0",
	},
	`[\w\s+=,.@-]+`: {
		oracle:  regexp.MustCompile(`^[A-Za-z0-9_ \t\n\x0B\f\r+=,.@\-]+$`),
		valid:   []string{"My pool", "pool_1", "a+b=c,d.e@f-g", "tab\there", "vt\x0Bhere", "ff\fhere", "nl\nhere", " "},
		invalid: []string{"test/pool", "poolé", "pool\u00a0x", "pool\u2003x", "pool\u0085x", "pool!", "pool:x", "pool'"},
		filler:  "x",
	},
	`[\w.;_/-]+`: {
		oracle:  regexp.MustCompile(`^[A-Za-z0-9_.;/\-]+$`),
		valid:   []string{"123456789.apps.googleusercontent.com", "amzn1.application-oa2-client.x;y/z"},
		invalid: []string{"a b", "a:b", "a,b", "é"},
		filler:  "x",
	},
	`[\S]+`: {
		oracle:  regexp.MustCompile(`^[^ \t\n\x0B\f\r]+$`),
		valid:   []string{"eyJ0b2tlbiI6MX0", "a\u00a0b", "a\u2003b", "é", "a\u0085b", "!@#$%^&*()"},
		invalid: []string{"a b", "a\tb", "a\x0Bb", "a\nb", "a\fb", "a\rb", " "},
		filler:  "x",
	},
	`(un)?authenticated`: {
		oracle:  regexp.MustCompile(`^(?:un)?authenticated$`),
		valid:   []string{"authenticated", "unauthenticated"},
		invalid: []string{"Authenticated", "authenticatedx", "ununauthenticated", "admin", "un", "authenticated\n"},
		filler:  "",
	},
}

// jv is a JSON value decoded with object members kept in document order.
type jv struct {
	kind  byte // 'n' null, 's' string, 'd' number, 't' true, 'f' false, 'a' array, 'o' object
	s     string
	items []*jv
	keys  []string
	vals  []*jv
}

func decodeOrdered(body []byte) (*jv, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	v, err := readJV(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data")
	}
	return v, nil
}

func readJV(dec *json.Decoder) (*jv, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case nil:
		return &jv{kind: 'n'}, nil
	case string:
		return &jv{kind: 's', s: t}, nil
	case json.Number:
		return &jv{kind: 'd', s: string(t)}, nil
	case bool:
		if t {
			return &jv{kind: 't'}, nil
		}
		return &jv{kind: 'f'}, nil
	case json.Delim:
		v := &jv{kind: 'a'}
		if t == '{' {
			v.kind = 'o'
		}
		for dec.More() {
			if v.kind == 'o' {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v.keys = append(v.keys, k.(string))
			}
			item, err := readJV(dec)
			if err != nil {
				return nil, err
			}
			if v.kind == 'o' {
				v.vals = append(v.vals, item)
			} else {
				v.items = append(v.items, item)
			}
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return v, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// lookup returns the last value of a member, as JSON decoders do.
func (v *jv) lookup(name string) *jv {
	for i := len(v.keys) - 1; i >= 0; i-- {
		if v.keys[i] == name {
			return v.vals[i]
		}
	}
	return nil
}

// hasDuplicateKeys reports whether any object in v repeats a member name.
func (v *jv) hasDuplicateKeys() bool {
	seen := map[string]bool{}
	for _, k := range v.keys {
		if seen[k] {
			return true
		}
		seen[k] = true
	}
	for _, c := range append(append([]*jv{}, v.items...), v.vals...) {
		if c.hasDuplicateKeys() {
			return true
		}
	}
	return false
}

func (v *jv) render() string {
	switch v.kind {
	case 'n':
		return "null"
	case 's', 'd':
		return v.s
	case 't':
		return "true"
	case 'f':
		return "false"
	case 'a':
		parts := make([]string, len(v.items))
		for i, it := range v.items {
			parts[i] = it.render()
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	parts := make([]string, len(v.keys))
	for i, k := range v.keys {
		parts[i] = k + "=" + v.vals[i].render()
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// refMaxDepth is the nesting the pipeline accepts (decode.go's maxDepth).
const refMaxDepth = 32

// typeError is the SerializationException message the reference expects
// for the first value, in document order, whose JSON type disagrees with the
// model (or that nests too deeply), or "".
func (sp *fSpec) typeError(shape string, v *jv, depth int) string {
	if depth > refMaxDepth {
		return "The request body nests too deeply"
	}
	if shape == "" { // a member the model does not know: only its depth matters
		for _, c := range append(append([]*jv{}, v.items...), v.vals...) {
			if e := sp.typeError("", c, depth+1); e != "" {
				return e
			}
		}
		return ""
	}
	s := sp.Shapes[shape]
	switch v.kind {
	case 'n':
		return ""
	case 'a':
		if s.Type != "list" {
			return "Start of list found where not expected"
		}
		for _, it := range v.items {
			if e := sp.typeError(s.Member, it, depth+1); e != "" {
				return e
			}
		}
		return ""
	case 'o':
		if s.Type != "structure" && s.Type != "map" {
			return "Start of structure or map found where not expected"
		}
		for i, k := range v.keys {
			ms := s.Value
			if s.Type == "structure" {
				ms = ""
				for _, m := range s.Members {
					if m.Name == k {
						ms = m.Shape
					}
				}
			}
			if e := sp.typeError(ms, v.vals[i], depth+1); e != "" {
				return e
			}
		}
		return ""
	}
	return scalarTypeError(s, v)
}

// scalarTypeError is the text for a string, number or boolean sent where s
// is expected, or "" when it fits.
func scalarTypeError(s fShape, v *jv) string {
	switch s.Type {
	case "string":
		if v.kind == 's' {
			return ""
		}
	case "boolean":
		if v.kind == 't' || v.kind == 'f' {
			return ""
		}
	case "integer", "long":
		bits := 64
		if s.Type == "integer" {
			bits = 32
		}
		if v.kind == 'd' && !strings.ContainsAny(v.s, ".eE") {
			if _, err := strconv.ParseInt(v.s, 10, bits); err == nil {
				return ""
			}
		}
	case "timestamp":
		if v.kind == 'd' {
			return ""
		}
	case "list":
		return "Expected list or null"
	case "map":
		return "Expected map or null"
	case "structure":
		return "Expected null"
	}
	from := map[byte]string{'s': "STRING_VALUE", 'd': "NUMBER_VALUE", 't': "TRUE_VALUE", 'f': "FALSE_VALUE"}[v.kind]
	to := map[string]string{"string": "a String", "boolean": "an Boolean", "integer": "an Integer", "long": "a Long", "timestamp": "a Date"}[s.Type]
	if s.Type == "boolean" && v.kind == 'd' {
		to = "a Boolean"
	}
	return from + " can not be converted to " + to
}

// Rule texts of AWS's ValidationException messages.
func ruleMax(n int64) string {
	return "Member must have length less than or equal to " + strconv.FormatInt(n, 10)
}
func ruleMin(n int64) string {
	return "Member must have length greater than or equal to " + strconv.FormatInt(n, 10)
}
func ruleValueMax(n int64) string {
	return "Member must have value less than or equal to " + strconv.FormatInt(n, 10)
}
func ruleValueMin(n int64) string {
	return "Member must have value greater than or equal to " + strconv.FormatInt(n, 10)
}
func rulePattern(p string) string { return "Member must satisfy regular expression pattern: " + p }
func ruleEnum(e []string) string {
	return "Member must satisfy enum value set: [" + strings.Join(e, ", ") + "]"
}
func notNull() string { return "Member must not be null" }
func violation(v, path, rule string) string {
	return "Value " + v + " at '" + path + "' failed to satisfy constraint: " + rule
}
func quoted(s string) string { return "'" + s + "'" }

// brokenRules lists the rules a string breaks: length, then pattern, then
// enum (the order idpool writes them in; AWS's own order is not known).
func brokenRules(s fShape, val string) []string {
	var out []string
	n := int64(utf8.RuneCountInString(val))
	if s.Max != nil && n > *s.Max {
		out = append(out, ruleMax(*s.Max))
	}
	if s.Min != nil && n < *s.Min {
		out = append(out, ruleMin(*s.Min))
	}
	if s.Pattern != "" && !javaPatterns[s.Pattern].oracle.MatchString(val) {
		out = append(out, rulePattern(s.Pattern))
	}
	if len(s.Enum) > 0 && !containsString(s.Enum, val) {
		out = append(out, ruleEnum(s.Enum))
	}
	return out
}

// allRules is the bracketed list AWS prints for an element of a list or map
// ("Map value must satisfy constraint: [Member must have length less than or
// equal to 50000, Member must have length greater than or equal to 1]" was
// seen from the real service).
func allRules(s fShape) string {
	var rules []string
	if s.Max != nil {
		rules = append(rules, ruleMax(*s.Max))
	}
	if s.Min != nil {
		rules = append(rules, ruleMin(*s.Min))
	}
	if s.Pattern != "" {
		rules = append(rules, rulePattern(s.Pattern))
	}
	if len(s.Enum) > 0 {
		rules = append(rules, ruleEnum(s.Enum))
	}
	return "[" + strings.Join(rules, ", ") + "]"
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func lowerFirst(path, name string) string {
	r, n := utf8.DecodeRuneInString(name)
	p := strings.ToLower(string(r)) + name[n:]
	if path == "" {
		return p
	}
	return path + "." + p
}

// violations lists every constraint violation of v against shape, in the
// order the message lists them.
func (sp *fSpec) violations(shape string, v *jv, path string) []string {
	s := sp.Shapes[shape]
	var out []string
	elemOK := func(es fShape, e *jv) bool {
		return e.kind != 'n' && (es.Type != "string" || len(brokenRules(es, e.s)) == 0)
	}
	count := func(n int) {
		if s.Max != nil && int64(n) > *s.Max {
			out = append(out, violation(quoted(v.render()), path, ruleMax(*s.Max)))
		}
		if s.Min != nil && int64(n) < *s.Min {
			out = append(out, violation(quoted(v.render()), path, ruleMin(*s.Min)))
		}
	}
	switch s.Type {
	case "string":
		for _, r := range brokenRules(s, v.s) {
			out = append(out, violation(quoted(v.s), path, r))
		}
	case "integer", "long":
		x, _ := strconv.ParseInt(v.s, 10, 64)
		if s.Max != nil && x > *s.Max {
			out = append(out, violation(quoted(v.s), path, ruleValueMax(*s.Max)))
		}
		if s.Min != nil && x < *s.Min {
			out = append(out, violation(quoted(v.s), path, ruleValueMin(*s.Min)))
		}
	case "list":
		count(len(v.items))
		es := sp.Shapes[s.Member]
		if es.Type == "structure" {
			for i, it := range v.items {
				p := path + "." + strconv.Itoa(i+1) + ".member"
				if it.kind == 'n' {
					out = append(out, violation("null", p, notNull()))
					continue
				}
				out = append(out, sp.structViolations(s.Member, it, p)...)
			}
			break
		}
		for _, it := range v.items {
			if !elemOK(es, it) {
				out = append(out, violation(quoted(v.render()), path, "Member must satisfy constraint: "+allRules(es)))
				break
			}
		}
	case "map":
		count(len(v.keys))
		ks, vs := sp.Shapes[s.Key], sp.Shapes[s.Value]
		for _, k := range v.keys {
			if !elemOK(ks, &jv{kind: 's', s: k}) {
				out = append(out, violation(quoted(v.render()), path, "Map keys must satisfy constraint: "+allRules(ks)))
				break
			}
		}
		if vs.Type == "structure" {
			for i, k := range v.keys {
				p := path + "." + k + ".member"
				if v.vals[i].kind == 'n' {
					out = append(out, violation("null", p, notNull()))
					continue
				}
				out = append(out, sp.structViolations(s.Value, v.vals[i], p)...)
			}
			break
		}
		for _, e := range v.vals {
			if !elemOK(vs, e) {
				out = append(out, violation(quoted(v.render()), path, "Map value must satisfy constraint: "+allRules(vs)))
				break
			}
		}
	case "structure":
		out = append(out, sp.structViolations(shape, v, path)...)
	}
	return out
}

func (sp *fSpec) structViolations(shape string, v *jv, path string) []string {
	s := sp.Shapes[shape]
	var out []string
	for _, m := range s.Members {
		p := lowerFirst(path, m.Name)
		mv := v.lookup(m.Name)
		if mv == nil || mv.kind == 'n' {
			if s.required(m.Name) {
				out = append(out, violation("null", p, notNull()))
			}
			continue
		}
		out = append(out, sp.violations(m.Shape, mv, p)...)
	}
	return out
}

// expect is what the reference expects Check to answer for body: the
// error code ("" for success) and, when known exactly, the message.
// exact is false where only the code is specified (malformed JSON).
func (sp *fSpec) expect(op string, body []byte) (code, msg string, exact bool) {
	if len(bytes.TrimSpace(body)) == 0 {
		return "SerializationException", "Request body is empty; expected a JSON object", true
	}
	root, err := decodeOrdered(body)
	if err != nil {
		return "SerializationException", "", false
	}
	input := *sp.Operations[op].Input
	if e := sp.typeError(input, root, 0); e != "" {
		return "SerializationException", e, true
	}
	if root.kind != 'o' {
		return "SerializationException", "Expected a JSON object as the request body", true
	}
	vs := sp.structViolations(input, root, "")
	if len(vs) == 0 {
		return "", "", true
	}
	return "ValidationException", validationMessage(vs), true
}

func validationMessage(vs []string) string {
	noun := "errors"
	if len(vs) == 1 {
		noun = "error"
	}
	return fmt.Sprintf("%d validation %s detected: %s", len(vs), noun, strings.Join(vs, "; "))
}
