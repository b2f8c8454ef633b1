package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/idpool/idpool/internal/apierr"
)

// maxDepth bounds the nesting of a request body. The deepest input of the
// model (SetIdentityPoolRoles' rules) nests five levels; anything much deeper
// is not a request an SDK sends.
const maxDepth = 32

// nodeKind is the JSON type of a parsed value.
type nodeKind uint8

const (
	jNull nodeKind = iota
	jString
	jNumber
	jTrue
	jFalse
	jArray
	jObject
)

// node is one JSON value, parsed with object member order kept so that
// validation messages list map entries in the order the client sent them.
type node struct {
	kind   nodeKind
	text   string // string value, or a number's literal
	items  []*node
	fields []field
}

type field struct {
	name  string
	value *node
}

func (n *node) get(name string) *node {
	for i := range n.fields {
		if n.fields[i].name == name {
			return n.fields[i].value
		}
	}
	return nil
}

// set adds a member; a repeated member replaces the earlier one's value,
// keeping its place (the last copy wins, as in AWS's deserializer, and is
// the only one checked and decoded).
func (n *node) set(name string, v *node) {
	for i := range n.fields {
		if n.fields[i].name == name {
			n.fields[i].value = v
			return
		}
	}
	n.fields = append(n.fields, field{name: name, value: v})
}

func serialization(msg string) *apierr.Error { return apierr.New(apierr.Serialization, msg) }

// parse reads body as one JSON object and checks every member the model
// knows against its shape's JSON type. The first mismatch, in document
// order, is the SerializationException AWS's deserializer would raise;
// members the model does not know are parsed and ignored.
func parse(body []byte, shape *Shape) (*node, *apierr.Error) {
	if len(bytes.TrimSpace(body)) == 0 {
		// SDKs always send at least {}; AWS's JSON framework refuses an
		// empty body (protocol.md §2.3, uncertain there; chosen here).
		return nil, serialization("Request body is empty; expected a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	p := &parser{dec: dec}
	root, err := p.value(shape, 0)
	if err != nil {
		return nil, err
	}
	if _, terr := dec.Token(); terr != io.EOF {
		return nil, serialization("Unexpected content after the JSON object")
	}
	return root, nil
}

type parser struct {
	dec *json.Decoder
}

func (p *parser) token() (json.Token, *apierr.Error) {
	tok, err := p.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, serialization("Unexpected end of input; the request body is not valid JSON")
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, serialization("Malformed JSON at offset " + strconv.FormatInt(se.Offset, 10))
		}
		return nil, serialization("Malformed JSON")
	}
	return tok, nil
}

// value parses the next value. shape is the shape the model expects there,
// or nil for members the model does not know.
func (p *parser) value(shape *Shape, depth int) (*node, *apierr.Error) {
	if depth > maxDepth {
		return nil, serialization("The request body nests too deeply")
	}
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	var n *node
	switch t := tok.(type) {
	case nil:
		n = &node{kind: jNull}
	case string:
		n = &node{kind: jString, text: t}
	case json.Number:
		n = &node{kind: jNumber, text: string(t)}
	case bool:
		if t {
			n = &node{kind: jTrue}
		} else {
			n = &node{kind: jFalse}
		}
	case json.Delim:
		switch t {
		case '[':
			if shape != nil && shape.Kind != List {
				return nil, mismatch(shape, jArray, "")
			}
			var elem *Shape
			if shape != nil {
				elem = shape.Member
			}
			n = &node{kind: jArray}
			for p.dec.More() {
				item, err := p.value(elem, depth+1)
				if err != nil {
					return nil, err
				}
				n.items = append(n.items, item)
			}
			if _, err := p.token(); err != nil {
				return nil, err
			}
			return n, nil
		case '{':
			if shape != nil && shape.Kind != Structure && shape.Kind != Map {
				return nil, mismatch(shape, jObject, "")
			}
			n = &node{kind: jObject}
			for p.dec.More() {
				kt, err := p.token()
				if err != nil {
					return nil, err
				}
				name, _ := kt.(string)
				var ms *Shape
				if shape != nil {
					if shape.Kind == Map {
						ms = shape.Value
					} else {
						ms = shape.member(name)
					}
				}
				v, err := p.value(ms, depth+1)
				if err != nil {
					return nil, err
				}
				n.set(name, v)
			}
			if _, err := p.token(); err != nil {
				return nil, err
			}
			return n, nil
		default:
			return nil, serialization("Malformed JSON")
		}
	}
	if shape != nil && n.kind != jNull {
		if err := checkScalar(shape, n); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func (s *Shape) member(name string) *Shape {
	for i := range s.Members {
		if s.Members[i].Name == name {
			return s.Members[i].Shape
		}
	}
	return nil
}

// typeNames are the target names in AWS's conversion messages, with the
// article its deserializer prints ("an Boolean" is what AWS writes).
var typeNames = map[Kind]string{
	String: "a String", Boolean: "an Boolean", Integer: "an Integer", Long: "a Long",
	Timestamp: "a Date",
}

// mismatch is the SerializationException for a value of the wrong JSON type.
func mismatch(shape *Shape, got nodeKind, text string) *apierr.Error {
	switch got {
	case jArray:
		return serialization("Start of list found where not expected")
	case jObject:
		return serialization("Start of structure or map found where not expected")
	}
	switch shape.Kind {
	case List:
		return serialization("Expected list or null")
	case Map:
		return serialization("Expected map or null")
	case Structure:
		return serialization("Expected null")
	}
	var from string
	switch got {
	case jString:
		from = "STRING_VALUE"
	case jNumber:
		from = "NUMBER_VALUE"
	case jTrue:
		from = "TRUE_VALUE"
	case jFalse:
		from = "FALSE_VALUE"
	}
	to := typeNames[shape.Kind]
	if shape.Kind == Boolean && got == jNumber {
		to = "a Boolean"
	}
	return serialization(from + " can not be converted to " + to)
}

func checkScalar(shape *Shape, n *node) *apierr.Error {
	switch shape.Kind {
	case String:
		if n.kind == jString {
			return nil
		}
	case Boolean:
		if n.kind == jTrue || n.kind == jFalse {
			return nil
		}
	case Integer, Long:
		if n.kind == jNumber {
			// An integer member takes only integral literals in range; a
			// fraction or exponent is refused rather than truncated.
			if strings.ContainsAny(n.text, ".eE") {
				return mismatch(shape, jNumber, n.text)
			}
			bits := 64
			if shape.Kind == Integer {
				bits = 32
			}
			if _, err := strconv.ParseInt(n.text, 10, bits); err != nil {
				return mismatch(shape, jNumber, n.text)
			}
			return nil
		}
	case Timestamp:
		if n.kind == jNumber {
			if f, err := strconv.ParseFloat(n.text, 64); err == nil && !math.IsInf(f, 0) {
				return nil
			}
		}
	}
	return mismatch(shape, n.kind, n.text)
}
