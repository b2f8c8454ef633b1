package seed

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"gopkg.in/yaml.v3"
)

// lineError is a problem at a line of the file.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("%s (line %d)", e.msg, e.line) }

func atLine(line int, format string, a ...any) *lineError {
	return &lineError{line: line, msg: fmt.Sprintf(format, a...)}
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// toJSON writes a YAML value as JSON, keeping the order of mapping keys
// (the model's messages list map entries in the order they were sent),
// so that it can be checked as a request body carrying it would be.
func toJSON(n *yaml.Node) ([]byte, error) {
	return appendJSON(nil, n, 0)
}

// maxNesting bounds the depth of a value: the deepest member of a seed
// (a role mapping's rules) nests five levels.
const maxNesting = 32

func appendJSON(b []byte, n *yaml.Node, depth int) ([]byte, error) {
	n = resolve(n)
	if depth > maxNesting {
		return nil, atLine(n.Line, "the value nests too deeply")
	}
	switch n.Kind {
	case yaml.MappingNode:
		b = append(b, '{')
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := resolve(n.Content[i]), n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, atLine(k.Line, "a key must be a name, not a list or mapping")
			}
			if k.Value == "<<" && k.Tag == "!!merge" {
				return nil, atLine(k.Line, "merge keys (<<) are not supported")
			}
			if first, dup := seen[k.Value]; dup {
				return nil, atLine(k.Line, "key %q repeated (first on line %d)", k.Value, first)
			}
			seen[k.Value] = k.Line
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k.Value)
			b = append(b, ':')
			var err error
			if b, err = appendJSON(b, v, depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case yaml.SequenceNode:
		b = append(b, '[')
		for i, item := range n.Content {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, item, depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case yaml.ScalarNode:
		return appendScalar(b, n)
	}
	return nil, atLine(n.Line, "unsupported YAML value")
}

// appendScalar writes a scalar as the JSON value of its YAML type: the
// model then refuses a value of the wrong type as the API does (an
// unquoted true where a string is expected, say).
func appendScalar(b []byte, n *yaml.Node) ([]byte, error) {
	switch n.ShortTag() {
	case "!!null":
		return append(b, "null"...), nil
	case "!!bool":
		var v bool
		if err := n.Decode(&v); err != nil {
			return nil, atLine(n.Line, "%v", err)
		}
		return strconv.AppendBool(b, v), nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err == nil {
			return strconv.AppendInt(b, i, 10), nil
		}
		var u uint64
		if err := n.Decode(&u); err == nil {
			return strconv.AppendUint(b, u, 10), nil
		}
		return nil, atLine(n.Line, "integer %s is out of range", n.Value)
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, atLine(n.Line, "%v", err)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, atLine(n.Line, "%s is not a number JSON can carry", n.Value)
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64), nil
	}
	// Strings, and everything else YAML can tag (timestamps, binary): the
	// text as written.
	return appendString(b, n.Value), nil
}

func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}
