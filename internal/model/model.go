package model

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

//go:embed model-facts.json
var factsJSON []byte

// Kind is the type of a shape.
type Kind int

// Shape kinds, as the model names them.
const (
	String Kind = iota
	Boolean
	Integer
	Long
	Timestamp
	List
	Map
	Structure
)

var kindNames = map[string]Kind{
	"string": String, "boolean": Boolean, "integer": Integer, "long": Long,
	"timestamp": Timestamp, "list": List, "map": Map, "structure": Structure,
}

// Shape is one shape of the model with its constraints.
type Shape struct {
	Name      string
	Kind      Kind
	Min, Max  *int64 // length for strings, entries for lists and maps, value for numbers
	Pattern   string // as the model writes it (Java syntax, unanchored)
	Enum      []string
	Sensitive bool
	Member    *Shape   // list element
	Key       *Shape   // map key
	Value     *Shape   // map value
	Members   []Member // structure members, in model order

	re *regexp.Regexp // Pattern translated to RE2 and anchored
}

// Member is a member of a structure.
type Member struct {
	Name     string
	Shape    *Shape
	Required bool
}

// Operation is one operation of the model.
type Operation struct {
	Name   string
	Input  *Shape // nil when the operation takes no input
	Output string
	Errors []string
	// Signed reports whether the operation requires SigV4 (the 19 developer
	// operations); the four public ones are sent unsigned.
	Signed bool
}

// Model is the Cognito Identity API model.
type Model struct {
	TargetPrefix string
	Shapes       map[string]*Shape
	Operations   map[string]*Operation
}

// Load parses the embedded model-facts.json. It fails only if the embedded
// file is broken, which a test catches.
func Load() (*Model, error) { return parseFacts(factsJSON) }

type rawShape struct {
	Type      string          `json:"type"`
	Min       *int64          `json:"min"`
	Max       *int64          `json:"max"`
	Pattern   string          `json:"pattern"`
	Enum      []string        `json:"enum"`
	Sensitive bool            `json:"sensitive"`
	Member    string          `json:"member"`
	Key       string          `json:"key"`
	Value     string          `json:"value"`
	Members   json.RawMessage `json:"members"`
	Required  []string        `json:"required"`
}

type rawFacts struct {
	Service struct {
		TargetPrefix       string   `json:"targetPrefix"`
		UnsignedOperations []string `json:"unsignedOperations"`
	} `json:"service"`
	Operations map[string]struct {
		Input  *string  `json:"input"`
		Output *string  `json:"output"`
		Errors []string `json:"errors"`
		Auth   string   `json:"auth"`
	} `json:"operations"`
	Shapes map[string]rawShape `json:"shapes"`
}

func parseFacts(data []byte) (*Model, error) {
	var f rawFacts
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	m := &Model{TargetPrefix: f.Service.TargetPrefix, Shapes: map[string]*Shape{}, Operations: map[string]*Operation{}}
	for name, rs := range f.Shapes {
		k, ok := kindNames[rs.Type]
		if !ok {
			return nil, fmt.Errorf("model: shape %s: unknown type %q", name, rs.Type)
		}
		s := &Shape{Name: name, Kind: k, Min: rs.Min, Max: rs.Max, Pattern: rs.Pattern, Enum: rs.Enum, Sensitive: rs.Sensitive}
		if rs.Pattern != "" {
			re, err := compileJavaPattern(rs.Pattern)
			if err != nil {
				return nil, fmt.Errorf("model: shape %s: %w", name, err)
			}
			s.re = re
		}
		m.Shapes[name] = s
	}
	ref := func(owner, name string) (*Shape, error) {
		s, ok := m.Shapes[name]
		if !ok {
			return nil, fmt.Errorf("model: shape %s refers to unknown shape %q", owner, name)
		}
		return s, nil
	}
	var err error
	for name, rs := range f.Shapes {
		s := m.Shapes[name]
		switch s.Kind {
		case List:
			if s.Member, err = ref(name, rs.Member); err != nil {
				return nil, err
			}
		case Map:
			if s.Key, err = ref(name, rs.Key); err != nil {
				return nil, err
			}
			if s.Value, err = ref(name, rs.Value); err != nil {
				return nil, err
			}
		case Structure:
			names, shapes, err := orderedMembers(rs.Members)
			if err != nil {
				return nil, fmt.Errorf("model: shape %s: %w", name, err)
			}
			required := map[string]bool{}
			for _, r := range rs.Required {
				required[r] = true
			}
			for i, mn := range names {
				ms, err := ref(name, shapes[i])
				if err != nil {
					return nil, err
				}
				s.Members = append(s.Members, Member{Name: mn, Shape: ms, Required: required[mn]})
			}
		}
	}
	unsigned := map[string]bool{}
	for _, op := range f.Service.UnsignedOperations {
		unsigned[op] = true
	}
	for name, ro := range f.Operations {
		op := &Operation{Name: name, Errors: ro.Errors, Signed: !unsigned[name]}
		if ro.Input != nil {
			if op.Input, err = ref(name, *ro.Input); err != nil {
				return nil, err
			}
		}
		if ro.Output != nil {
			op.Output = *ro.Output
		}
		m.Operations[name] = op
	}
	return m, nil
}

// orderedMembers reads a structure's members object keeping the model's
// member order, which decides the order of validation messages.
func orderedMembers(raw json.RawMessage) (names, shapes []string, err error) {
	if len(raw) == 0 {
		return nil, nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, nil, err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		var mem struct {
			Shape string `json:"shape"`
		}
		if err := dec.Decode(&mem); err != nil {
			return nil, nil, err
		}
		names = append(names, tok.(string))
		shapes = append(shapes, mem.Shape)
	}
	return names, shapes, nil
}

// compileJavaPattern translates a model pattern (Java regex syntax, matched
// against the whole value) into an anchored RE2 expression. The two syntaxes
// agree on everything the model uses except \s and \S: Java's whitespace
// class includes \x0B (vertical tab), RE2's does not.
func compileJavaPattern(p string) (*regexp.Regexp, error) {
	const ws = `\t\n\x0B\f\r `
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			n := p[i+1]
			i++
			switch {
			case n == 's' && inClass:
				b.WriteString(ws)
			case n == 's':
				b.WriteString("[" + ws + "]")
			case n == 'S' && !inClass:
				b.WriteString("[^" + ws + "]")
			case n == 'S':
				// Only a class that holds \S alone can be rewritten as a
				// negated class; the model has no other use of it.
				if !strings.HasSuffix(b.String(), "[") || i+1 >= len(p) || p[i+1] != ']' {
					return nil, fmt.Errorf("pattern %q: \\S inside a larger character class is not supported", p)
				}
				b.WriteString("^" + ws)
			default:
				b.WriteByte('\\')
				b.WriteByte(n)
			}
		case c == '[':
			inClass = true
			b.WriteByte(c)
		case c == ']':
			inClass = false
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return regexp.Compile(`^(?:` + b.String() + `)$`)
}

// OperationNames returns the operations' names, sorted.
func (m *Model) OperationNames() []string {
	names := make([]string, 0, len(m.Operations))
	for n := range m.Operations {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
