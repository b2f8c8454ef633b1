package trust

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// key is one of the condition keys idpool's tokens carry; it indexes a
// request's values.
type key int

const (
	keyAud key = iota
	keyAMR
	keySub
	numKeys
)

// String returns the key's canonical spelling.
func (k key) String() string {
	switch k {
	case keyAud:
		return KeyAud
	case keyAMR:
		return KeyAMR
	case keySub:
		return KeySub
	}
	return fmt.Sprintf("key(%d)", int(k))
}

// lookupKey finds a condition key case-insensitively, as IAM does.
func lookupKey(name string) (key, bool) {
	for k := range numKeys {
		if strings.EqualFold(name, k.String()) {
			return k, true
		}
	}
	return 0, false
}

// op is the comparison at the heart of a condition operator.
type op int

const (
	opEquals     op = iota // StringEquals, StringNotEquals
	opEqualsFold           // StringEqualsIgnoreCase, StringNotEqualsIgnoreCase
	opLike                 // StringLike, StringNotLike
	opNull                 // Null
)

// qualifier is a set operator prefix for multivalued keys.
type qualifier int

const (
	qualNone      qualifier = iota
	qualAnyValue            // ForAnyValue:
	qualAllValues           // ForAllValues:
)

// condition is one key under one operator of a Condition element.
type condition struct {
	operator string // as written, for messages
	op       op
	negated  bool
	ifExists bool
	qual     qualifier
	key      key
	values   []value // the key's policy values; ORed

	// For Null: which of "true" (the key is missing) and "false" (the key
	// is present) the values name.
	nullMissing, nullPresent bool
}

// value is one condition value, split into parts so that policy variables
// are substituted at evaluation and ${*}-style escapes never act as
// wildcards.
type value []part

type partKind int

const (
	partText     partKind = iota // written text; * and ? are wildcards under StringLike
	partLiteral                  // an escape such as ${*}: never a wildcard
	partVariable                 // ${key}: the request's value, never a wildcard
)

type part struct {
	kind partKind
	text string // for partText and partLiteral
	key  key    // for partVariable
}

// parseOperator splits an operator name into its parts. Names are
// case-sensitive, as in IAM.
func parseOperator(name string) (c condition, err error) {
	c.operator = name
	base := name
	if rest, ok := strings.CutPrefix(base, "ForAnyValue:"); ok {
		base, c.qual = rest, qualAnyValue
	} else if rest, ok := strings.CutPrefix(base, "ForAllValues:"); ok {
		base, c.qual = rest, qualAllValues
	}
	if base == "Null" {
		if c.qual != qualNone {
			return c, fmt.Errorf("operator %q is not supported (Null takes no ForAnyValue: or ForAllValues:)", name)
		}
		c.op = opNull
		return c, nil
	}
	base, c.ifExists = strings.CutSuffix(base, "IfExists")
	switch base {
	case "StringEquals":
		c.op = opEquals
	case "StringNotEquals":
		c.op, c.negated = opEquals, true
	case "StringEqualsIgnoreCase":
		c.op = opEqualsFold
	case "StringNotEqualsIgnoreCase":
		c.op, c.negated = opEqualsFold, true
	case "StringLike":
		c.op = opLike
	case "StringNotLike":
		c.op, c.negated = opLike, true
	default:
		return c, fmt.Errorf("operator %q is not supported (want StringEquals, StringNotEquals, StringEqualsIgnoreCase, "+
			"StringNotEqualsIgnoreCase, StringLike or StringNotLike, optionally with IfExists and ForAnyValue: or "+
			"ForAllValues:, or Null)", name)
	}
	return c, nil
}

// parseConditions reads a Condition element: operator -> key -> values.
// The result is in a fixed order so that evaluation and error messages do
// not depend on map iteration.
func parseConditions(raw json.RawMessage, version string) ([]condition, error) {
	if jsonKind(raw) != '{' {
		return nil, fmt.Errorf("%s must be an object of operators", compact(raw))
	}
	var operators map[string]json.RawMessage
	if err := json.Unmarshal(raw, &operators); err != nil {
		return nil, err
	}
	var out []condition
	for _, name := range slices.Sorted(maps.Keys(operators)) {
		proto, err := parseOperator(name)
		if err != nil {
			return nil, err
		}
		rawKeys := operators[name]
		if jsonKind(rawKeys) != '{' {
			return nil, fmt.Errorf("%s: %s must be an object of condition keys", name, compact(rawKeys))
		}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(rawKeys, &keys); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(keys) == 0 {
			return nil, fmt.Errorf("%s has no condition keys", name)
		}
		for _, keyName := range slices.Sorted(maps.Keys(keys)) {
			c := proto
			k, ok := lookupKey(keyName)
			if !ok {
				return nil, fmt.Errorf("%s: condition key %q is not supported (want %s, %s or %s)",
					name, keyName, KeyAud, KeyAMR, KeySub)
			}
			c.key = k
			texts, err := conditionValues(keys[keyName])
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %v", name, keyName, err)
			}
			if c.op == opNull {
				for _, t := range texts {
					switch t {
					case "true":
						c.nullMissing = true
					case "false":
						c.nullPresent = true
					default:
						return nil, fmt.Errorf("%s: %s: value %q must be \"true\" or \"false\"", name, keyName, t)
					}
				}
			} else {
				for _, t := range texts {
					v, err := parseValue(t, version)
					if err != nil {
						return nil, fmt.Errorf("%s: %s: %v", name, keyName, err)
					}
					c.values = append(c.values, v)
				}
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// conditionValues reads a key's values: a string, number or boolean, or a
// non-empty list of them. Numbers and booleans count as their JSON text,
// as in IAM.
func conditionValues(raw json.RawMessage) ([]string, error) {
	if jsonKind(raw) != '[' {
		t, err := scalarText(raw)
		if err != nil {
			return nil, err
		}
		return []string{t}, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errors.New("empty list of values")
	}
	out := make([]string, 0, len(items))
	for _, item := range items {
		t, err := scalarText(item)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// scalarText is the text of a JSON string, number or boolean.
func scalarText(raw json.RawMessage) (string, error) {
	switch jsonKind(raw) {
	case '"':
		if s, ok := jsonString(raw); ok {
			return s, nil
		}
	case 't', 'f':
		var b bool
		if err := json.Unmarshal(raw, &b); err == nil {
			return fmt.Sprint(b), nil
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		var n json.Number
		if err := json.Unmarshal(raw, &n); err == nil {
			return n.String(), nil
		}
	}
	return "", fmt.Errorf("value %s must be a string, number or boolean", compact(raw))
}

// parseValue splits a condition value into text, escapes and policy
// variables. Only Version 2012-10-17 has variables.
func parseValue(s, version string) (value, error) {
	if version != version2012 || !strings.Contains(s, "${") {
		return value{{kind: partText, text: s}}, nil
	}
	var v value
	for {
		before, rest, found := strings.Cut(s, "${")
		if before != "" {
			v = append(v, part{kind: partText, text: before})
		}
		if !found {
			return v, nil
		}
		name, after, closed := strings.Cut(rest, "}")
		if !closed {
			return nil, fmt.Errorf("value has an unterminated policy variable \"${%s\"", rest)
		}
		switch name {
		case "*", "?", "$":
			v = append(v, part{kind: partLiteral, text: name})
		default:
			k, ok := lookupKey(name)
			if !ok || k == keyAMR {
				// amr is multivalued, so it has no single value to put
				// in place of a variable; IAM refuses it too.
				return nil, fmt.Errorf("policy variable \"${%s}\" is not supported (want ${%s}, ${%s}, ${*}, ${?} or ${$})",
					name, KeyAud, KeySub)
			}
			v = append(v, part{kind: partVariable, key: k})
		}
		s = after
	}
}

// restrictsAudience reports whether the statement has a condition that
// only a request with a chosen aud can satisfy: a positive string
// operator on aud, without IfExists or ForAllValues:, both of which hold
// when aud is missing.
// Each of its values must name something: a value made only of wildcards
// or of a variable (${cognito-identity.amazonaws.com:aud} is the token's
// own aud) lets every pool in.
func (s *statement) restrictsAudience() bool {
	for _, c := range s.conditions {
		if c.key != keyAud || c.op == opNull || c.negated || c.ifExists || c.qual == qualAllValues {
			continue
		}
		if !slices.ContainsFunc(c.values, func(v value) bool { return !v.names(c.op == opLike) }) {
			return true
		}
	}
	return false
}

// names reports whether the value holds written text beyond wildcards
// (when like) and variables.
func (v value) names(like bool) bool {
	for _, p := range v {
		switch p.kind {
		case partLiteral:
			return true
		case partText:
			if !like || strings.Trim(p.text, "*?") != "" {
				return true
			}
		}
	}
	return false
}
