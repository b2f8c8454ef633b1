package model

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

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
	p := &parser{b: body}
	p.skipSpace()
	if p.i == len(p.b) {
		// SDKs always send at least {}; AWS's JSON framework refuses an
		// empty body (what AWS answers is not known; chosen here, docs/decisions.md).
		return nil, serialization("Request body is empty; expected a JSON object")
	}
	root, err := p.value(shape, 0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.i != len(p.b) {
		return nil, serialization("Unexpected content after the JSON object")
	}
	return root, nil
}

// parser reads JSON (RFC 8259) straight from the body bytes: one pass, no
// reflection, strings copied once.
type parser struct {
	b []byte
	i int
}

func (p *parser) skipSpace() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) malformed() *apierr.Error {
	if p.i >= len(p.b) {
		return serialization("Unexpected end of input; the request body is not valid JSON")
	}
	return serialization("Malformed JSON at offset " + strconv.Itoa(p.i))
}

// expect consumes the byte c (after white space) or fails.
func (p *parser) expect(c byte) *apierr.Error {
	p.skipSpace()
	if p.i >= len(p.b) || p.b[p.i] != c {
		return p.malformed()
	}
	p.i++
	return nil
}

// value parses the next value. shape is the shape the model expects there,
// or nil for members the model does not know.
func (p *parser) value(shape *Shape, depth int) (*node, *apierr.Error) {
	if depth > maxDepth {
		return nil, serialization("The request body nests too deeply")
	}
	p.skipSpace()
	if p.i >= len(p.b) {
		return nil, p.malformed()
	}
	var n *node
	switch c := p.b[p.i]; {
	case c == '[':
		if shape != nil && shape.Kind != List {
			return nil, mismatch(shape, jArray, "")
		}
		var elem *Shape
		if shape != nil {
			elem = shape.Member
		}
		p.i++
		n = &node{kind: jArray}
		p.skipSpace()
		if p.i < len(p.b) && p.b[p.i] == ']' {
			p.i++
			return n, nil
		}
		for {
			item, err := p.value(elem, depth+1)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, item)
			p.skipSpace()
			if p.i >= len(p.b) {
				return nil, p.malformed()
			}
			if p.b[p.i] == ']' {
				p.i++
				return n, nil
			}
			if p.b[p.i] != ',' {
				return nil, p.malformed()
			}
			p.i++
		}
	case c == '{':
		if shape != nil && shape.Kind != Structure && shape.Kind != Map {
			return nil, mismatch(shape, jObject, "")
		}
		p.i++
		n = &node{kind: jObject}
		p.skipSpace()
		if p.i < len(p.b) && p.b[p.i] == '}' {
			p.i++
			return n, nil
		}
		for {
			p.skipSpace()
			if p.i >= len(p.b) || p.b[p.i] != '"' {
				return nil, p.malformed()
			}
			name, err := p.str()
			if err != nil {
				return nil, err
			}
			if err := p.expect(':'); err != nil {
				return nil, err
			}
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
			p.skipSpace()
			if p.i >= len(p.b) {
				return nil, p.malformed()
			}
			if p.b[p.i] == '}' {
				p.i++
				return n, nil
			}
			if p.b[p.i] != ',' {
				return nil, p.malformed()
			}
			p.i++
		}
	case c == '"':
		text, err := p.str()
		if err != nil {
			return nil, err
		}
		n = &node{kind: jString, text: text}
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range [...]struct {
			text string
			kind nodeKind
		}{{"true", jTrue}, {"false", jFalse}, {"null", jNull}} {
			if bytes.HasPrefix(p.b[p.i:], []byte(lit.text)) {
				p.i += len(lit.text)
				n = &node{kind: lit.kind}
				break
			}
		}
		if n == nil {
			return nil, p.malformed()
		}
	case c == '-' || ('0' <= c && c <= '9'):
		text, err := p.number()
		if err != nil {
			return nil, err
		}
		n = &node{kind: jNumber, text: text}
	default:
		return nil, p.malformed()
	}
	if shape != nil && n.kind != jNull {
		if err := checkScalar(shape, n); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// number reads a JSON number and returns its literal.
func (p *parser) number() (string, *apierr.Error) {
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.b[p.i] == '-' {
		p.i++
	}
	if p.i < len(p.b) && p.b[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return "", p.malformed()
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return "", p.malformed()
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return "", p.malformed()
		}
	}
	return string(p.b[start:p.i]), nil
}

// str reads a JSON string (p.b[p.i] is its opening quote). Invalid UTF-8
// becomes U+FFFD, as encoding/json does.
func (p *parser) str() (string, *apierr.Error) {
	p.i++
	start := p.i
	// Fast path: no escapes, valid UTF-8.
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			raw := p.b[start:p.i]
			p.i++
			if utf8.Valid(raw) {
				return string(raw), nil
			}
			return validUTF8(raw), nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		p.i++
	}
	var sb strings.Builder
	sb.Write(p.b[start:p.i])
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return validUTF8([]byte(sb.String())), nil
		case c < 0x20:
			return "", p.malformed()
		case c != '\\':
			sb.WriteByte(c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.b) {
			return "", p.malformed()
		}
		switch e := p.b[p.i]; e {
		case '"', '\\', '/':
			sb.WriteByte(e)
		case 'b':
			sb.WriteByte('\b')
		case 'f':
			sb.WriteByte('\f')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 't':
			sb.WriteByte('\t')
		case 'u':
			r, ok := p.hex4(p.i + 1)
			if !ok {
				return "", p.malformed()
			}
			p.i += 4
			if utf16.IsSurrogate(r) {
				r2, ok2 := rune(-1), false
				if p.i+2 < len(p.b) && p.b[p.i+1] == '\\' && p.b[p.i+2] == 'u' {
					r2, ok2 = p.hex4(p.i + 3)
				}
				if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
					r = dec
					p.i += 6
				} else {
					r = utf8.RuneError
				}
			}
			sb.WriteRune(r)
		default:
			return "", p.malformed()
		}
		p.i++
	}
	return "", p.malformed()
}

// validUTF8 replaces each byte of an invalid UTF-8 sequence with U+FFFD,
// as encoding/json does.
func validUTF8(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			sb.WriteRune(utf8.RuneError)
		} else {
			sb.Write(b[:size])
		}
		b = b[size:]
	}
	return sb.String()
}

// hex4 reads four hex digits at b[at:].
func (p *parser) hex4(at int) (rune, bool) {
	if at+4 > len(p.b) {
		return 0, false
	}
	var r rune
	for _, c := range p.b[at : at+4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
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
