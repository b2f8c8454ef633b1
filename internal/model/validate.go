package model

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/idpool/idpool/internal/apierr"
)

// Check parses an operation's request body and checks it against the input
// shape: JSON types first (SerializationException on the first mismatch),
// then every constraint of the model (one ValidationException listing every
// violation, as AWS joins them).
func (op *Operation) Check(body []byte) *apierr.Error {
	_, err := op.Prepare(body)
	return err
}

// Prepare checks a request body like Check and returns its canonical form:
// only the members the model defines, named exactly as the model names
// them, each once (the last copy of a repeated member), without nulls.
// That is the body to decode into the operation's input type: the value
// checked is the value used, whatever a lenient decoder would make of
// case-insensitive names or repeated members.
func (op *Operation) Prepare(body []byte) ([]byte, *apierr.Error) {
	root, err := parse(body, op.Input)
	if err != nil {
		return nil, err
	}
	if root.kind != jObject {
		if root.kind == jArray {
			return nil, serialization("Start of list found where not expected")
		}
		return nil, serialization("Expected a JSON object as the request body")
	}
	if op.Input == nil {
		return []byte("{}"), nil
	}
	var v violations
	v.structure(op.Input, root, "")
	if e := v.err(); e != nil {
		return nil, e
	}
	var b []byte
	b = canonical(b, op.Input, root)
	return b, nil
}

// canonical appends the JSON of n as shape s describes it.
func canonical(b []byte, s *Shape, n *node) []byte {
	switch s.Kind {
	case Structure:
		b = append(b, '{')
		first := true
		for _, m := range s.Members {
			v := n.get(m.Name)
			if v == nil || v.kind == jNull {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = strconv.AppendQuote(b, m.Name)
			b = append(b, ':')
			b = canonical(b, m.Shape, v)
		}
		return append(b, '}')
	case Map:
		b = append(b, '{')
		for i, f := range n.fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, f.name)
			b = append(b, ':')
			b = canonical(b, s.Value, f.value)
		}
		return append(b, '}')
	case List:
		b = append(b, '[')
		for i, it := range n.items {
			if i > 0 {
				b = append(b, ',')
			}
			b = canonical(b, s.Member, it)
		}
		return append(b, ']')
	}
	switch n.kind {
	case jString:
		return appendJSONString(b, n.text)
	case jNumber:
		return append(b, n.text...)
	case jTrue:
		return append(b, "true"...)
	case jFalse:
		return append(b, "false"...)
	}
	return append(b, "null"...)
}

type violations []string

func (v *violations) add(value *node, sensitive bool, path, rule string) {
	var b strings.Builder
	b.WriteString("Value ")
	switch {
	case value == nil || value.kind == jNull:
		b.WriteString("null ")
	case sensitive && value.kind == jString:
		// Sensitive members are named without their value.
	default:
		b.WriteByte('\'')
		render(&b, value)
		b.WriteString("' ")
	}
	b.WriteString("at '")
	b.WriteString(path)
	b.WriteString("' failed to satisfy constraint: ")
	b.WriteString(rule)
	*v = append(*v, b.String())
}

// err joins the violations the way AWS does: a count, then each violation
// separated by "; ".
func (v violations) err() *apierr.Error {
	if len(v) == 0 {
		return nil
	}
	noun := "errors"
	if len(v) == 1 {
		noun = "error"
	}
	return apierr.New(apierr.Validation, strconv.Itoa(len(v))+" validation "+noun+" detected: "+strings.Join(v, "; "))
}

// memberPath is how AWS names a member in messages: its name with the first
// letter lower-cased, nested members joined with ".".
func memberPath(parent, name string) string {
	if name == "" {
		return parent
	}
	r, size := utf8.DecodeRuneInString(name)
	lower := strings.ToLower(string(r)) + name[size:]
	if parent == "" {
		return lower
	}
	return parent + "." + lower
}

func (v *violations) structure(s *Shape, n *node, path string) {
	for _, m := range s.Members {
		val := n.get(m.Name)
		p := memberPath(path, m.Name)
		if val == nil || val.kind == jNull {
			if m.Required {
				v.add(nil, false, p, "Member must not be null")
			}
			continue
		}
		v.value(m.Shape, val, p)
	}
}

func (v *violations) value(s *Shape, n *node, path string) {
	switch s.Kind {
	case String:
		for _, rule := range s.stringRules(n.text) {
			v.add(n, s.Sensitive, path, rule)
		}
	case Integer, Long:
		x, _ := strconv.ParseInt(n.text, 10, 64)
		if s.Max != nil && x > *s.Max {
			v.add(n, false, path, "Member must have value less than or equal to "+strconv.FormatInt(*s.Max, 10))
		}
		if s.Min != nil && x < *s.Min {
			v.add(n, false, path, "Member must have value greater than or equal to "+strconv.FormatInt(*s.Min, 10))
		}
	case List:
		v.count(s, n, int64(len(n.items)), path)
		if s.Member.Kind == Structure {
			for i, item := range n.items {
				p := path + "." + strconv.Itoa(i+1) + ".member"
				if item.kind == jNull {
					v.add(nil, false, p, "Member must not be null")
					continue
				}
				v.structure(s.Member, item, p)
			}
			return
		}
		for _, item := range n.items {
			if !s.Member.satisfied(item) {
				v.add(n, s.Member.Sensitive, path, "Member must satisfy constraint: ["+s.Member.ruleList()+"]")
				break
			}
		}
	case Map:
		v.count(s, n, int64(len(n.fields)), path)
		for _, f := range n.fields {
			if !s.Key.satisfied(&node{kind: jString, text: f.name}) {
				v.add(n, s.Value.Sensitive, path, "Map keys must satisfy constraint: ["+s.Key.ruleList()+"]")
				break
			}
		}
		if s.Value.Kind == Structure {
			// Choice: a structure inside a map is named
			// '<map>.<key>.member.<field>', following the list form
			// '<list>.<index>.member.<field>' that AWS uses.
			for _, f := range n.fields {
				p := path + "." + f.name + ".member"
				if f.value.kind == jNull {
					v.add(nil, false, p, "Member must not be null")
					continue
				}
				v.structure(s.Value, f.value, p)
			}
			return
		}
		for _, f := range n.fields {
			if !s.Value.satisfied(f.value) {
				v.add(n, s.Value.Sensitive, path, "Map value must satisfy constraint: ["+s.Value.ruleList()+"]")
				break
			}
		}
	case Structure:
		v.structure(s, n, path)
	}
}

// count checks the entry count of a list or map. AWS words it as a length.
func (v *violations) count(s *Shape, n *node, c int64, path string) {
	if s.Max != nil && c > *s.Max {
		v.add(n, false, path, "Member must have length less than or equal to "+strconv.FormatInt(*s.Max, 10))
	}
	if s.Min != nil && c < *s.Min {
		v.add(n, false, path, "Member must have length greater than or equal to "+strconv.FormatInt(*s.Min, 10))
	}
}

// stringRules lists the rules a string value breaks, in AWS's order: length
// first, then pattern, then enum.
func (s *Shape) stringRules(val string) []string {
	var out []string
	l := int64(utf8.RuneCountInString(val))
	if s.Max != nil && l > *s.Max {
		out = append(out, "Member must have length less than or equal to "+strconv.FormatInt(*s.Max, 10))
	}
	if s.Min != nil && l < *s.Min {
		out = append(out, "Member must have length greater than or equal to "+strconv.FormatInt(*s.Min, 10))
	}
	if s.re != nil && !s.re.MatchString(val) {
		out = append(out, "Member must satisfy regular expression pattern: "+s.Pattern)
	}
	if len(s.Enum) > 0 && !contains(s.Enum, val) {
		out = append(out, "Member must satisfy enum value set: ["+strings.Join(s.Enum, ", ")+"]")
	}
	return out
}

// satisfied reports whether an element of a list or map meets its shape's
// constraints (elements of the model's lists and maps are strings).
func (s *Shape) satisfied(n *node) bool {
	if n == nil || n.kind == jNull {
		return false
	}
	if s.Kind != String {
		return true
	}
	return len(s.stringRules(n.text)) == 0
}

// ruleList is the bracketed list AWS prints for an element shape: every
// constraint of the shape, whichever one failed.
func (s *Shape) ruleList() string {
	var rules []string
	if s.Max != nil {
		rules = append(rules, "Member must have length less than or equal to "+strconv.FormatInt(*s.Max, 10))
	}
	if s.Min != nil {
		rules = append(rules, "Member must have length greater than or equal to "+strconv.FormatInt(*s.Min, 10))
	}
	if s.Pattern != "" {
		rules = append(rules, "Member must satisfy regular expression pattern: "+s.Pattern)
	}
	if len(s.Enum) > 0 {
		rules = append(rules, "Member must satisfy enum value set: ["+strings.Join(s.Enum, ", ")+"]")
	}
	return strings.Join(rules, ", ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// render writes a value the way AWS's Java front end prints it: strings
// bare, lists as [a, b], maps as {k=v, k2=v2}, structures as {Name: v,...}.
func render(b *strings.Builder, n *node) {
	switch n.kind {
	case jNull:
		b.WriteString("null")
	case jString, jNumber:
		b.WriteString(n.text)
	case jTrue:
		b.WriteString("true")
	case jFalse:
		b.WriteString("false")
	case jArray:
		b.WriteByte('[')
		for i, it := range n.items {
			if i > 0 {
				b.WriteString(", ")
			}
			render(b, it)
		}
		b.WriteByte(']')
	case jObject:
		b.WriteByte('{')
		for i, f := range n.fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f.name)
			b.WriteByte('=')
			render(b, f.value)
		}
		b.WriteByte('}')
	}
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}
