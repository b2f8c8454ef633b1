package model

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/idpool/idpool/internal/apierr"
)

// The test in this file is generated from model-facts.json, read by the
// tests' own decoder: for every operation it builds a valid request, then
// for every constrained position of the input (members of nested
// structures, list elements, map keys and values) a request that breaks
// exactly that rule, a request that omits or nulls each member and requests
// with each wrong JSON type. Check must name the position and the rule, and
// its whole answer must equal the reference's (reference_test.go).

// probe is one generated request.
type probe struct {
	name string
	body any
	// For a ValidationException: a violation the message must contain.
	// For a SerializationException: the exact message. "" for success.
	want string
	ser  bool
}

type walker struct {
	t      *testing.T
	sp     *fSpec
	probes []probe
}

func (w *walker) add(p probe) { w.probes = append(w.probes, p) }

// validString is a valid value of a string shape.
func (w *walker) validString(name string) string {
	s := w.sp.Shapes[name]
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	v := "v"
	if s.Pattern != "" {
		jp, ok := javaPatterns[s.Pattern]
		if !ok {
			w.t.Fatalf("shape %s: pattern %q has no entry in javaPatterns", name, s.Pattern)
		}
		v = jp.valid[0]
	}
	n := int64(utf8.RuneCountInString(v))
	if s.Min != nil && n < *s.Min {
		if s.Pattern != "" {
			v += strings.Repeat(javaPatterns[s.Pattern].filler, int(*s.Min-n))
		} else {
			v += strings.Repeat("v", int(*s.Min-n))
		}
	}
	if len(brokenRules(s, v)) != 0 {
		w.t.Fatalf("shape %s: generated value %q is not valid: %v", name, v, brokenRules(s, v))
	}
	return v
}

// minimal is the smallest valid value of a shape: required members only,
// lists at their minimum length, empty maps.
func (w *walker) minimal(name string) any {
	s := w.sp.Shapes[name]
	switch s.Type {
	case "string":
		return w.validString(name)
	case "boolean":
		return true
	case "integer", "long":
		if s.Min != nil {
			return *s.Min
		}
		return 1
	case "list":
		items := []any{}
		if s.Min != nil {
			for range *s.Min {
				items = append(items, w.minimal(s.Member))
			}
		}
		return items
	case "map":
		return map[string]any{}
	case "structure":
		obj := map[string]any{}
		for _, m := range s.Members {
			if s.required(m.Name) {
				obj[m.Name] = w.minimal(m.Shape)
			}
		}
		return obj
	}
	w.t.Fatalf("shape %s: type %q cannot be generated", name, s.Type)
	return nil
}

// stringBreakers returns values of a string shape that each break one rule,
// with that rule: one past the maximum length, one short of the minimum,
// each invalid pattern sample, and an unknown enum value.
func (w *walker) stringBreakers(name string) (vals, rules []string) {
	s := w.sp.Shapes[name]
	valid := w.validString(name)
	if s.Max != nil {
		fill := "v"
		if s.Pattern != "" {
			fill = javaPatterns[s.Pattern].filler
			if fill == "" {
				fill = "x" // no character keeps the pattern; the value breaks both
			}
		}
		v := valid + strings.Repeat(fill, int(*s.Max)+1-utf8.RuneCountInString(valid))
		vals, rules = append(vals, v), append(rules, ruleMax(*s.Max))
	}
	if s.Min != nil && *s.Min > 0 {
		r := []rune(valid)
		vals, rules = append(vals, string(r[:*s.Min-1])), append(rules, ruleMin(*s.Min))
	}
	if s.Pattern != "" {
		n := 0
		for _, v := range javaPatterns[s.Pattern].invalid {
			l := int64(utf8.RuneCountInString(v))
			if (s.Min != nil && l < *s.Min) || (s.Max != nil && l > *s.Max) {
				continue
			}
			vals, rules = append(vals, v), append(rules, rulePattern(s.Pattern))
			n++
		}
		if n == 0 {
			w.t.Fatalf("shape %s: no invalid sample of %q fits its length", name, s.Pattern)
		}
	}
	if len(s.Enum) > 0 {
		vals, rules = append(vals, "NotAnEnumValue"), append(rules, ruleEnum(s.Enum))
	}
	return vals, rules
}

// wrongTypes are JSON values of the wrong type for a shape, with the
// SerializationException text each must produce.
func wrongTypes(typ string) map[string]any {
	str, num, frac, yes, no, list, obj := "x", json.Number("1"), json.Number("1.5"), true, false, []any{}, map[string]any{}
	switch typ {
	case "string":
		return map[string]any{"NUMBER_VALUE can not be converted to a String": num, "TRUE_VALUE can not be converted to a String": yes,
			"FALSE_VALUE can not be converted to a String": no, "Start of list found where not expected": list,
			"Start of structure or map found where not expected": obj}
	case "boolean":
		return map[string]any{"STRING_VALUE can not be converted to an Boolean": str, "NUMBER_VALUE can not be converted to a Boolean": num,
			"Start of list found where not expected": list, "Start of structure or map found where not expected": obj}
	case "integer":
		return map[string]any{"STRING_VALUE can not be converted to an Integer": str, "NUMBER_VALUE can not be converted to an Integer": frac,
			"TRUE_VALUE can not be converted to an Integer": yes, "Start of list found where not expected": list,
			"Start of structure or map found where not expected": obj}
	case "long":
		return map[string]any{"STRING_VALUE can not be converted to a Long": str, "NUMBER_VALUE can not be converted to a Long": json.Number("9223372036854775808"),
			"FALSE_VALUE can not be converted to a Long": no, "Start of list found where not expected": list,
			"Start of structure or map found where not expected": obj}
	case "list":
		return map[string]any{"Expected list or null": str, "Start of structure or map found where not expected": obj}
	case "map":
		return map[string]any{"Expected map or null": num, "Start of list found where not expected": list}
	case "structure":
		return map[string]any{"Expected null": yes, "Start of list found where not expected": list}
	}
	return nil
}

func (w *walker) typeProbes(shape, path string, embed func(any) any) {
	for msg, v := range wrongTypes(w.sp.Shapes[shape].Type) {
		w.add(probe{name: path + "/type/" + msg, body: embed(v), want: msg, ser: true})
	}
}

// walkStruct generates probes for the members of a structure; embed turns
// a value of the structure into a whole request body.
func (w *walker) walkStruct(shape, path string, embed func(any) any) {
	s := w.sp.Shapes[shape]
	for _, m := range s.Members {
		mp := lowerFirst(path, m.Name)
		with := func(v any) any {
			obj := w.minimal(shape).(map[string]any)
			obj[m.Name] = v
			return embed(obj)
		}
		without := func() any {
			obj := w.minimal(shape).(map[string]any)
			delete(obj, m.Name)
			return embed(obj)
		}
		if s.required(m.Name) {
			want := violation("null", mp, notNull())
			w.add(probe{name: mp + "/missing", body: without(), want: want})
			w.add(probe{name: mp + "/null", body: with(nil), want: want})
		} else {
			w.add(probe{name: mp + "/null", body: with(nil)})
			w.add(probe{name: mp + "/valid", body: with(w.minimal(m.Shape))})
		}
		w.typeProbes(m.Shape, mp, with)
		w.walkValue(m.Shape, mp, with)
	}
}

func (w *walker) walkValue(shape, path string, embed func(any) any) {
	s := w.sp.Shapes[shape]
	switch s.Type {
	case "string":
		vals, rules := w.stringBreakers(shape)
		for i, v := range vals {
			w.add(probe{name: path + "/" + rules[i], body: embed(v), want: violation(quoted(v), path, rules[i])})
		}
	case "integer", "long":
		if s.Max != nil {
			w.add(probe{name: path + "/max", body: embed(*s.Max + 1), want: violation(quoted(strconv.FormatInt(*s.Max+1, 10)), path, ruleValueMax(*s.Max))})
		}
		if s.Min != nil {
			w.add(probe{name: path + "/min", body: embed(*s.Min - 1), want: violation(quoted(strconv.FormatInt(*s.Min-1, 10)), path, ruleValueMin(*s.Min))})
		}
	case "list":
		es := w.sp.Shapes[s.Member]
		items := func(n int64) []any {
			out := []any{}
			for range n {
				out = append(out, w.minimal(s.Member))
			}
			return out
		}
		if s.Max != nil {
			w.add(probe{name: path + "/count-max", body: embed(items(*s.Max + 1)), want: "' at '" + path + "' failed to satisfy constraint: " + ruleMax(*s.Max)})
		}
		if s.Min != nil && *s.Min > 0 {
			w.add(probe{name: path + "/count-min", body: embed(items(*s.Min - 1)), want: "' at '" + path + "' failed to satisfy constraint: " + ruleMin(*s.Min)})
		}
		one := func(v any) any { return embed(append(items(max(1, ptrOr(s.Min, 0))-1), v)) }
		if es.Type == "structure" {
			n := strconv.FormatInt(max(1, ptrOr(s.Min, 0)), 10)
			w.add(probe{name: path + "/null-element", body: one(nil), want: violation("null", path+"."+n+".member", notNull())})
			w.typeProbes(s.Member, path+"[]", one)
			w.walkStruct(s.Member, path+"."+n+".member", one)
			return
		}
		w.typeProbes(s.Member, path+"[]", one)
		vals, rules := w.stringBreakers(s.Member)
		for i, v := range vals {
			w.add(probe{name: path + "[]/" + rules[i], body: one(v),
				want: "' at '" + path + "' failed to satisfy constraint: Member must satisfy constraint: " + allRules(es)})
		}
	case "map":
		ks, vs := w.sp.Shapes[s.Key], w.sp.Shapes[s.Value]
		key := w.validString(s.Key)
		if s.Max != nil {
			entries := map[string]any{}
			for i := range *s.Max + 1 {
				entries[key+strconv.FormatInt(i, 10)] = w.minimal(s.Value)
			}
			w.add(probe{name: path + "/count-max", body: embed(entries), want: "' at '" + path + "' failed to satisfy constraint: " + ruleMax(*s.Max)})
		}
		vals, rules := w.stringBreakers(s.Key)
		for i, k := range vals {
			w.add(probe{name: path + "{key}/" + rules[i], body: embed(map[string]any{k: w.minimal(s.Value)}),
				want: "' at '" + path + "' failed to satisfy constraint: Map keys must satisfy constraint: " + allRules(ks)})
		}
		one := func(v any) any { return embed(map[string]any{key: v}) }
		w.typeProbes(s.Value, path+"{}", one)
		if vs.Type == "structure" {
			w.add(probe{name: path + "/null-value", body: one(nil), want: violation("null", path+"."+key+".member", notNull())})
			w.walkStruct(s.Value, path+"."+key+".member", one)
			return
		}
		vals, rules = w.stringBreakers(s.Value)
		for i, v := range vals {
			w.add(probe{name: path + "{value}/" + rules[i], body: one(v),
				want: violation(quoted("{"+key+"="+v+"}"), path, "Map value must satisfy constraint: "+allRules(vs))})
		}
	case "structure":
		w.walkStruct(shape, path, embed)
	}
}

func ptrOr(p *int64, def int64) int64 {
	if p == nil {
		return def
	}
	return *p
}

// TestCheckEveryConstraintOfTheModel is the generated test.
func TestCheckEveryConstraintOfTheModel(t *testing.T) {
	m := mustLoad(t)
	sp := readSpec(t)
	total := 0
	for _, opName := range sortedKeys(sp.Operations) {
		t.Run(opName, func(t *testing.T) {
			op := m.Operations[opName]
			w := &walker{t: t, sp: sp}
			input := *sp.Operations[opName].Input
			w.add(probe{name: "minimal valid request", body: w.minimal(input)})
			w.walkStruct(input, "", func(v any) any { return v })
			total += len(w.probes)
			names := map[string]int{}
			for _, p := range w.probes {
				body, err := json.Marshal(p.body)
				if err != nil {
					t.Fatal(err)
				}
				names[p.name]++
				name := p.name
				if n := names[p.name]; n > 1 {
					name = fmt.Sprintf("%s#%d", name, n)
				}
				got := op.Check(body)
				code, msg, _ := sp.expect(opName, body)
				switch {
				case p.want == "":
					if got != nil {
						t.Errorf("%s: %s\n  Check = %v, want success", name, body, got)
					}
				case p.ser:
					if got == nil || got.Code != apierr.Serialization || got.Message != p.want {
						t.Errorf("%s: %s\n  Check = %v\n  want    SerializationException: %s", name, trim(body), got, p.want)
					}
				default:
					if got == nil || got.Code != apierr.Validation || !strings.Contains(got.Message, p.want) {
						t.Errorf("%s: %s\n  Check = %v\n  want a ValidationException containing %q", name, trim(body), got, p.want)
						continue
					}
				}
				// The whole answer agrees with the reference.
				gotCode, gotMsg := "", ""
				if got != nil {
					gotCode, gotMsg = string(got.Code), got.Message
				}
				if gotCode != code || gotMsg != msg {
					t.Errorf("%s: %s\n  Check     = %s: %s\n  reference = %s: %s", name, trim(body), gotCode, trim([]byte(gotMsg)), code, trim([]byte(msg)))
				}
			}
		})
	}
	t.Logf("%d generated requests", total)
	if total < 1000 {
		t.Errorf("only %d requests generated; the walk is broken", total)
	}
}

func trim(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + fmt.Sprintf("... (%d bytes)", len(b))
	}
	return string(b)
}
