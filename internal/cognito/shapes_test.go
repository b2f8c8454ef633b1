package cognito

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/model"
)

// wireTypes maps every operation of the model to the Go types its input is
// decoded into and its output is encoded from. A nil output means the
// operation has no output shape (the handler answers {}).
var wireTypes = map[string]struct{ in, out reflect.Type }{
	"CreateIdentityPool":                 {typeOf[CreateIdentityPoolInput](), typeOf[IdentityPool]()},
	"DeleteIdentities":                   {typeOf[DeleteIdentitiesInput](), typeOf[DeleteIdentitiesResponse]()},
	"DeleteIdentityPool":                 {typeOf[DeleteIdentityPoolInput](), nil},
	"DescribeIdentity":                   {typeOf[DescribeIdentityInput](), typeOf[IdentityDescription]()},
	"DescribeIdentityPool":               {typeOf[DescribeIdentityPoolInput](), typeOf[IdentityPool]()},
	"GetCredentialsForIdentity":          {typeOf[GetCredentialsForIdentityInput](), typeOf[GetCredentialsForIdentityResponse]()},
	"GetId":                              {typeOf[GetIdInput](), typeOf[GetIdResponse]()},
	"GetIdentityPoolRoles":               {typeOf[GetIdentityPoolRolesInput](), typeOf[GetIdentityPoolRolesResponse]()},
	"GetOpenIdToken":                     {typeOf[GetOpenIdTokenInput](), typeOf[GetOpenIdTokenResponse]()},
	"GetOpenIdTokenForDeveloperIdentity": {typeOf[GetOpenIdTokenForDeveloperIdentityInput](), typeOf[GetOpenIdTokenForDeveloperIdentityResponse]()},
	"GetPrincipalTagAttributeMap":        {typeOf[GetPrincipalTagAttributeMapInput](), typeOf[GetPrincipalTagAttributeMapResponse]()},
	"ListIdentities":                     {typeOf[ListIdentitiesInput](), typeOf[ListIdentitiesResponse]()},
	"ListIdentityPools":                  {typeOf[ListIdentityPoolsInput](), typeOf[ListIdentityPoolsResponse]()},
	"ListTagsForResource":                {typeOf[ListTagsForResourceInput](), typeOf[ListTagsForResourceResponse]()},
	"LookupDeveloperIdentity":            {typeOf[LookupDeveloperIdentityInput](), typeOf[LookupDeveloperIdentityResponse]()},
	"MergeDeveloperIdentities":           {typeOf[MergeDeveloperIdentitiesInput](), typeOf[MergeDeveloperIdentitiesResponse]()},
	"SetIdentityPoolRoles":               {typeOf[SetIdentityPoolRolesInput](), nil},
	"SetPrincipalTagAttributeMap":        {typeOf[SetPrincipalTagAttributeMapInput](), typeOf[SetPrincipalTagAttributeMapResponse]()},
	"TagResource":                        {typeOf[TagResourceInput](), typeOf[Empty]()},
	"UnlinkDeveloperIdentity":            {typeOf[UnlinkDeveloperIdentityInput](), nil},
	"UnlinkIdentity":                     {typeOf[UnlinkIdentityInput](), nil},
	"UntagResource":                      {typeOf[UntagResourceInput](), typeOf[Empty]()},
	"UpdateIdentityPool":                 {typeOf[IdentityPool](), typeOf[IdentityPool]()},
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

func loadModel(t *testing.T) *model.Model {
	t.Helper()
	m, err := model.Load()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// memberDefaults reads which structure members model-facts.json gives a
// default ("default": false or null), keyed "Structure.Member".
func memberDefaults(t *testing.T) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "model", "model-facts.json"))
	if err != nil {
		t.Fatal(err)
	}
	var facts struct {
		Shapes map[string]struct {
			Members map[string]map[string]json.RawMessage `json:"members"`
		} `json:"shapes"`
	}
	if err := json.Unmarshal(raw, &facts); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for sn, s := range facts.Shapes {
		for mn, m := range s.Members {
			if d, ok := m["default"]; ok && !bytes.Equal(d, []byte("null")) {
				out[sn+"."+mn] = true
			}
		}
	}
	return out
}

// jsonFields returns a struct type's JSON members by wire name, the
// members of embedded structs included (encoding/json promotes them).
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct && f.Tag.Get("json") == "" {
			for name, inner := range jsonFields(f.Type) {
				out[name] = inner
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f
	}
	return out
}

type shapeChecker struct {
	t        *testing.T
	defaults map[string]bool
	input    bool // decoding requests (stricter about pointers)
	seen     map[string]bool
}

// structure checks that typ can carry every member of the structure shape
// s, with a compatible Go kind, and has no JSON member the model lacks.
func (c *shapeChecker) structure(where string, s *model.Shape, typ reflect.Type) {
	if typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct {
		c.t.Errorf("%s: %s is not a struct (shape %s)", where, typ, s.Name)
		return
	}
	key := s.Name + "/" + typ.String()
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	fields := jsonFields(typ)
	for _, m := range s.Members {
		f, ok := fields[m.Name]
		if !ok {
			c.t.Errorf("%s: %s has no JSON member %q (shape %s)", where, typ, m.Name, s.Name)
			continue
		}
		path := where + "." + m.Name
		if f.Tag.Get("json") == "" || !strings.HasPrefix(f.Tag.Get("json"), m.Name) {
			c.t.Errorf("%s: field %s lacks an explicit json:%q tag", path, f.Name, m.Name)
		}
		if f.Name != m.Name {
			// STYLE.md: wire shapes mirror AWS verbatim.
			c.t.Errorf("%s: Go field %s should be named %s like the wire member", path, f.Name, m.Name)
		}
		// An optional scalar without a default must be able to say "not
		// sent", or a decoded request cannot tell false/0 from absent.
		if c.input && !m.Required && !c.defaults[s.Name+"."+m.Name] {
			switch m.Shape.Kind {
			case model.Boolean, model.Integer, model.Long:
				if f.Type.Kind() != reflect.Pointer {
					c.t.Errorf("%s: optional %v member without a default is %s; use a pointer", path, m.Shape.Name, f.Type)
				}
			}
		}
		c.value(path, m.Shape, f.Type)
	}
	for name := range fields {
		if !slices.ContainsFunc(s.Members, func(m model.Member) bool { return m.Name == name }) {
			c.t.Errorf("%s: %s has JSON member %q, which shape %s does not define", where, typ, name, s.Name)
		}
	}
}

func (c *shapeChecker) value(path string, s *model.Shape, typ reflect.Type) {
	if typ.Kind() == reflect.Pointer && s.Kind != model.Structure {
		typ = typ.Elem()
	}
	ok := true
	switch s.Kind {
	case model.String:
		ok = typ.Kind() == reflect.String
	case model.Boolean:
		ok = typ.Kind() == reflect.Bool
	case model.Integer:
		// The model's integers are 32-bit; a wider Go type would accept
		// what AWS refuses only if the checks were skipped, but the type
		// should say what the wire carries.
		ok = typ.Kind() == reflect.Int32
	case model.Long:
		ok = typ.Kind() == reflect.Int64
	case model.Timestamp:
		ok = typ == reflect.TypeFor[Timestamp]()
	case model.List:
		ok = typ.Kind() == reflect.Slice
		if ok {
			c.value(path+"[]", s.Member, typ.Elem())
		}
	case model.Map:
		ok = typ.Kind() == reflect.Map && typ.Key().Kind() == reflect.String
		if ok {
			c.value(path+"{}", s.Value, typ.Elem())
		}
	case model.Structure:
		c.structure(path, s, typ)
		return
	}
	if !ok {
		c.t.Errorf("%s: Go type %s cannot carry model %s %v", path, typ, s.Name, kindName(s.Kind))
	}
}

func kindName(k model.Kind) string {
	return [...]string{"string", "boolean", "integer", "long", "timestamp", "list", "map", "structure"}[k]
}

// TestInputTypesCoverTheModel: every member of every operation's input, at
// every depth, has a JSON field of the same name and a compatible kind in
// the Go type the request is decoded into.
func TestInputTypesCoverTheModel(t *testing.T) {
	m := loadModel(t)
	for _, name := range m.OperationNames() {
		if _, ok := wireTypes[name]; !ok {
			t.Errorf("operation %s has no entry in wireTypes", name)
		}
	}
	c := &shapeChecker{t: t, defaults: memberDefaults(t), input: true, seen: map[string]bool{}}
	for name, types := range wireTypes {
		op := m.Operations[name]
		if op == nil {
			t.Errorf("wireTypes names %s, which the model does not have", name)
			continue
		}
		c.structure(name+"Input", op.Input, types.in)
	}
	// The nested structures were all reached.
	for _, s := range []string{"CognitoIdentityProvider", "RoleMapping", "RulesConfigurationType", "MappingRule"} {
		found := false
		for k := range c.seen {
			found = found || strings.HasPrefix(k, s+"/")
		}
		if !found {
			t.Errorf("nested input structure %s was never checked", s)
		}
	}
}

// TestOutputTypesCoverTheModel: every output member AWS defines exists in
// the Go output type, with a compatible kind.
func TestOutputTypesCoverTheModel(t *testing.T) {
	m := loadModel(t)
	c := &shapeChecker{t: t, seen: map[string]bool{}}
	for name, types := range wireTypes {
		op := m.Operations[name]
		if op == nil {
			continue
		}
		if op.Output == "" {
			if types.out != nil {
				t.Errorf("%s: the model has no output, but wireTypes gives %s", name, types.out)
			}
			continue
		}
		if types.out == nil {
			t.Errorf("%s: output %s has no Go type in wireTypes", name, op.Output)
			continue
		}
		c.structure(op.Output, m.Shapes[op.Output], types.out)
	}
	for _, s := range []string{"Credentials", "IdentityDescription", "UnprocessedIdentityId", "IdentityPoolShortDescription", "RoleMapping", "MappingRule"} {
		found := false
		for k := range c.seen {
			found = found || strings.HasPrefix(k, s+"/")
		}
		if !found {
			t.Errorf("nested output structure %s was never checked", s)
		}
	}
}

// TestEmptyOutputIsAnObject: outputless operations answer {}.
func TestEmptyOutputIsAnObject(t *testing.T) {
	b, err := json.Marshal(&Empty{})
	if err != nil || string(b) != "{}" {
		t.Fatalf("Empty encodes as %s, %v; want {}", b, err)
	}
}

// TestTimestampIsANumber: timestamps are JSON numbers of epoch seconds
// (epoch seconds), integral when they can be, never strings.
func TestTimestampIsANumber(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC), "1795343400"},
		{time.Date(2026, 11, 22, 10, 30, 0, 250_000_000, time.UTC), "1795343400.25"},
		{time.Date(2026, 11, 22, 10, 30, 0, 1_999_999, time.UTC), "1795343400.001"},
		{time.Date(2018, 1, 5, 1, 26, 42, 0, time.UTC), "1515115602"},
		{time.Unix(0, 0), "0"},
	} {
		b, err := json.Marshal(Timestamp(tc.t))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("Timestamp(%v) = %s, want %s", tc.t, b, tc.want)
		}
		var f float64
		if err := json.Unmarshal(b, &f); err != nil {
			t.Errorf("%s is not a JSON number: %v", b, err)
		}
	}
	// Inside a structure, an unset timestamp is left out.
	b, _ := json.Marshal(IdentityDescription{IdentityId: "us-east-1:1"})
	if string(b) != `{"IdentityId":"us-east-1:1"}` {
		t.Errorf("IdentityDescription without dates = %s", b)
	}
	ts := Timestamp(time.Unix(1515115602, 0))
	b, _ = json.Marshal(Credentials{AccessKeyId: "ASIA", Expiration: &ts})
	if string(b) != `{"AccessKeyId":"ASIA","Expiration":1515115602}` {
		t.Errorf("Credentials = %s", b)
	}
}
