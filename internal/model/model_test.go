package model

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/idpool/idpool/internal/apierr"
)

// factsSHA256 pins the embedded model-facts.json: the model's
// machine-readable copy, taken once from the API model and changed only on
// purpose (then update this sum, and the docs and tests the change
// touches).
const factsSHA256 = "13bc20951e551a0c68dfd0d5aa20bda58168ee9df5923874a6e2af9b3a094e05"

// TestEmbeddedFactsArePinned keeps the model from changing by accident,
// and checks what every operation needs.
func TestEmbeddedFactsArePinned(t *testing.T) {
	if got := fmt.Sprintf("%x", sha256.Sum256(factsJSON)); got != factsSHA256 {
		t.Fatalf("internal/model/model-facts.json changed: SHA-256 %s, pinned %s", got, factsSHA256)
	}
	m := mustLoad(t)
	if n := len(m.Operations); n != 23 {
		t.Errorf("the model has %d operations, want Cognito Identity's 23", n)
	}
}

func mustLoad(t testing.TB) *Model {
	t.Helper()
	m, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestLoadMatchesFacts compares the loaded model with the tests' own
// reading of model-facts.json, shape by shape and member by member.
func TestLoadMatchesFacts(t *testing.T) {
	m := mustLoad(t)
	sp := readSpec(t)

	if m.TargetPrefix != "AWSCognitoIdentityService" || m.TargetPrefix != sp.Service.TargetPrefix {
		t.Errorf("TargetPrefix = %q", m.TargetPrefix)
	}
	if len(m.Operations) != 23 || len(sp.Operations) != 23 {
		t.Errorf("got %d operations, facts have %d; the API has 23", len(m.Operations), len(sp.Operations))
	}
	names := m.OperationNames()
	if !slices.IsSorted(names) || len(names) != len(m.Operations) {
		t.Errorf("OperationNames() = %v, want the sorted names", names)
	}
	for name, fo := range sp.Operations {
		op := m.Operations[name]
		if op == nil {
			t.Errorf("operation %s missing", name)
			continue
		}
		if fo.Target != m.TargetPrefix+"."+name {
			t.Errorf("%s: facts target %q", name, fo.Target)
		}
		if fo.Input == nil || op.Input == nil || op.Input.Name != *fo.Input || op.Input.Kind != Structure {
			t.Errorf("%s: input shape %v, facts %v", name, op.Input, fo.Input)
		}
		wantOut := ""
		if fo.Output != nil {
			wantOut = *fo.Output
		}
		if op.Output != wantOut {
			t.Errorf("%s: output %q, want %q", name, op.Output, wantOut)
		}
		if !slices.Equal(op.Errors, fo.Errors) {
			t.Errorf("%s: errors %v, want %v", name, op.Errors, fo.Errors)
		}
		wantSigned := !slices.Contains(sp.Service.UnsignedOperations, name)
		if op.Signed != wantSigned || op.Signed != (fo.Auth == "sigv4") {
			t.Errorf("%s: Signed = %v, facts auth %q", name, op.Signed, fo.Auth)
		}
	}
	for _, public := range []string{"GetId", "GetCredentialsForIdentity", "GetOpenIdToken", "UnlinkIdentity"} {
		if m.Operations[public].Signed {
			t.Errorf("%s must be public (unsigned)", public)
		}
	}

	kinds := map[string]Kind{"string": String, "boolean": Boolean, "integer": Integer, "long": Long,
		"timestamp": Timestamp, "list": List, "map": Map, "structure": Structure}
	if len(m.Shapes) != len(sp.Shapes) {
		t.Errorf("%d shapes loaded, facts have %d", len(m.Shapes), len(sp.Shapes))
	}
	for name, fs := range sp.Shapes {
		s := m.Shapes[name]
		if s == nil {
			t.Errorf("shape %s missing", name)
			continue
		}
		if s.Name != name || s.Kind != kinds[fs.Type] {
			t.Errorf("shape %s: name %q kind %v, facts type %q", name, s.Name, s.Kind, fs.Type)
		}
		if !eqInt(s.Min, fs.Min) || !eqInt(s.Max, fs.Max) {
			t.Errorf("shape %s: min/max %v/%v, facts %v/%v", name, s.Min, s.Max, fs.Min, fs.Max)
		}
		if s.Pattern != fs.Pattern || (s.Pattern != "") != (s.re != nil) {
			t.Errorf("shape %s: pattern %q (compiled %v), facts %q", name, s.Pattern, s.re != nil, fs.Pattern)
		}
		if !slices.Equal(s.Enum, fs.Enum) || s.Sensitive != fs.Sensitive {
			t.Errorf("shape %s: enum %v sensitive %v, facts %v %v", name, s.Enum, s.Sensitive, fs.Enum, fs.Sensitive)
		}
		switch s.Kind {
		case List:
			if s.Member == nil || s.Member.Name != fs.Member {
				t.Errorf("list %s: member %v, facts %q", name, s.Member, fs.Member)
			}
		case Map:
			if s.Key == nil || s.Key.Name != fs.Key || s.Value == nil || s.Value.Name != fs.Value {
				t.Errorf("map %s: key/value %v/%v, facts %q/%q", name, s.Key, s.Value, fs.Key, fs.Value)
			}
		case Structure:
			if len(s.Members) != len(fs.Members) {
				t.Errorf("structure %s: %d members, facts %d", name, len(s.Members), len(fs.Members))
				continue
			}
			for i, fm := range fs.Members {
				mm := s.Members[i]
				if mm.Name != fm.Name || mm.Shape == nil || mm.Shape.Name != fm.Shape || mm.Required != fs.required(fm.Name) {
					t.Errorf("structure %s member %d: %s/%v/required=%v, facts %s/%s/required=%v",
						name, i, mm.Name, mm.Shape, mm.Required, fm.Name, fm.Shape, fs.required(fm.Name))
				}
			}
			for _, r := range fs.Required {
				if !slices.ContainsFunc(fs.Members, func(m fMember) bool { return m.Name == r }) {
					t.Errorf("structure %s: required member %s is not a member", name, r)
				}
			}
		}
	}
}

func eqInt(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func TestParseFactsRejectsBrokenModels(t *testing.T) {
	for name, facts := range map[string]string{
		"not json":        `{`,
		"unknown type":    `{"shapes":{"A":{"type":"float"}}}`,
		"dangling member": `{"shapes":{"L":{"type":"list","member":"Nope"}}}`,
		"dangling key":    `{"shapes":{"M":{"type":"map","key":"Nope","value":"Nope"}}}`,
		"dangling field":  `{"shapes":{"S":{"type":"structure","members":{"a":{"shape":"Nope"}}}}}`,
		"dangling input":  `{"operations":{"Op":{"input":"Nope"}}}`,
		"bad pattern":     `{"shapes":{"A":{"type":"string","pattern":"[a"}}}`,
		"unsupported \\S": `{"shapes":{"A":{"type":"string","pattern":"[a\\S]+"}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseFacts([]byte(facts)); err == nil {
				t.Fatalf("parseFacts(%s) succeeded", facts)
			}
		})
	}
}

// probeRunes are single characters on which Java and RE2 classes differ or
// might: every ASCII character, Unicode spaces, letters, digits, marks,
// symbols and format characters.
func probeRunes() []string {
	var out []string
	for c := 0; c < 0x80; c++ {
		out = append(out, string(rune(c)))
	}
	return append(out, "é", "ß", "Ж", "中", "\u00a0", "\u2003", "\u2028", "\u0085", "\u3000", "\u0663", "１",
		"\u0301", "€", "©", "😀", "\u200b", "\ufeff", "\ufffd", "ǅ", "\U0001D7D8")
}

// TestPatternsBehaveLikeJava checks each pattern of the model, as compiled
// by the model, against the tests' hand translation with Java semantics, on
// curated values and on every probe character in several positions.
func TestPatternsBehaveLikeJava(t *testing.T) {
	m := mustLoad(t)
	seen := map[string]bool{}
	for _, name := range sortedKeys(m.Shapes) {
		s := m.Shapes[name]
		if s.Pattern == "" {
			continue
		}
		seen[s.Pattern] = true
		jp, ok := javaPatterns[s.Pattern]
		if !ok {
			t.Errorf("shape %s: pattern %q has no entry in javaPatterns; add its Java reading and samples", name, s.Pattern)
			continue
		}
		t.Run(name, func(t *testing.T) {
			for _, v := range jp.valid {
				if !jp.oracle.MatchString(v) {
					t.Errorf("oracle refuses valid sample %q", v)
				}
				if !s.re.MatchString(v) {
					t.Errorf("%s refuses %q, which Java accepts", s.Pattern, v)
				}
				if jp.filler != "" && !s.re.MatchString(v+jp.filler) {
					t.Errorf("%s refuses %q with filler %q", s.Pattern, v, jp.filler)
				}
			}
			for _, v := range jp.invalid {
				if jp.oracle.MatchString(v) {
					t.Errorf("oracle accepts invalid sample %q", v)
				}
				if s.re.MatchString(v) {
					t.Errorf("%s accepts %q, which Java refuses", s.Pattern, v)
				}
			}
			base := jp.valid[0]
			for _, c := range probeRunes() {
				for _, probe := range []string{c, c + c, base + c, c + base, base[:len(base)/2] + c + base[len(base)/2:]} {
					if got, want := s.re.MatchString(probe), jp.oracle.MatchString(probe); got != want {
						t.Errorf("%s on %q: model says %v, Java says %v", s.Pattern, probe, got, want)
					}
				}
			}
			if s.re.MatchString("") {
				t.Errorf("%s matches the empty string", s.Pattern)
			}
		})
	}
	for p := range javaPatterns {
		if !seen[p] {
			t.Errorf("javaPatterns has %q, which no shape uses", p)
		}
	}
}

// TestJavaClassTranslation pins the three differences between Java and RE2
// that compileJavaPattern has to bridge.
func TestJavaClassTranslation(t *testing.T) {
	for _, tc := range []struct {
		pattern, value string
		want           bool
	}{
		{`\s`, "\x0B", true}, // Java's \s has the vertical tab, RE2's does not
		{`[\s]`, "\x0B", true},
		{`[a\s]+`, "a\x0Ba", true},
		{`\s`, "\u00a0", false},
		{`\S`, "\x0B", false},
		{`[\S]+`, "ab\x0B", false},
		{`[\S]+`, "a\u00a0b", true},
		{`\w+`, "é", false}, // \w is ASCII in both
		{`\w+`, "A_z9", true},
		{`\d+`, "\u0663", false},
		{`a|b`, "ab", false}, // whole-value match, alternation inside the group
		{`a`, "a\n", false},  // no Perl-style $ before a final newline
	} {
		re, err := compileJavaPattern(tc.pattern)
		if err != nil {
			t.Errorf("compileJavaPattern(%q): %v", tc.pattern, err)
			continue
		}
		if got := re.MatchString(tc.value); got != tc.want {
			t.Errorf("%q on %q = %v, want %v", tc.pattern, tc.value, got, tc.want)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

const (
	poolID     = "us-east-1:0def4f54-71bd-42f5-b8d9-7e8811807670"
	identityID = "us-east-1:11a86fa8-fc2c-46da-a38b-e46762e447ed"
	roleARN    = "arn:aws:iam::123456789012:role/Cognito_Auth"
)

// TestCheck pins Check's answers, with the exact texts, for hand-picked
// requests. Texts marked "real" were seen from the live service.
func TestCheck(t *testing.T) {
	m := mustLoad(t)
	long := func(n int) string { return strings.Repeat("a", n) }
	ser := string(apierr.Serialization)
	val := string(apierr.Validation)
	rule := func(rest string) string { return "Member must satisfy " + rest }
	idRules := "[Member must have length less than or equal to 55, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [\\w-]+:[0-9a-f-]+]"
	oneRule := func(nested string) string {
		return `{"IdentityPoolId":"` + poolID + `","Roles":{},"RoleMappings":{"graph.facebook.com":` + nested + `}}`
	}
	rulesOf := func(rules string) string {
		return oneRule(`{"Type":"Rules","AmbiguousRoleResolution":"Deny","RulesConfiguration":{"Rules":` + rules + `}}`)
	}
	goodRule := `{"Claim":"custom:dept","MatchType":"Equals","Value":"eng","RoleARN":"` + roleARN + `"}`

	for _, tc := range []struct {
		name, op, body string
		code, msg      string // code "" means success
	}{
		// Success, null and unknown members.
		{"valid", "DescribeIdentityPool", `{"IdentityPoolId":"` + poolID + `"}`, "", ""},
		{"unknown members ignored", "DescribeIdentityPool", `{"IdentityPoolId":"` + poolID + `","Foo":[1,{"a":null}],"identitypoolid":7}`, "", ""},
		{"optional null is absent", "ListIdentityPools", `{"MaxResults":5,"NextToken":null}`, "", ""},
		{"whitespace around the object", "ListIdentityPools", " \n\t{\"MaxResults\":5}\r\n ", "", ""},
		{"duplicate member: last wins", "DescribeIdentityPool", `{"IdentityPoolId":"bad","IdentityPoolId":"` + poolID + `"}`, "", ""},
		{"empty map and list allowed", "UnlinkIdentity", `{"IdentityId":"` + identityID + `","Logins":{},"LoginsToRemove":[]}`, "", ""},
		{"tag value may be empty", "TagResource", `{"ResourceArn":"` + roleARN + `","Tags":{"k":""}}`, "", ""},
		{"full role mapping", "SetIdentityPoolRoles", rulesOf(`[` + goodRule + `]`), "", ""},
		{"integer bounds inclusive", "GetOpenIdTokenForDeveloperIdentity", `{"IdentityPoolId":"` + poolID + `","Logins":{"login.app":"u"},"TokenDuration":86400}`, "", ""},

		// Required members.
		{"missing required", "DescribeIdentityPool", `{}`, val,
			"1 validation error detected: Value null at 'identityPoolId' failed to satisfy constraint: Member must not be null"},
		{"null required", "DescribeIdentityPool", `{"IdentityPoolId":null}`, val,
			"1 validation error detected: Value null at 'identityPoolId' failed to satisfy constraint: Member must not be null"},
		{"two missing, model order", "CreateIdentityPool", `{}`, val,
			"2 validation errors detected: Value null at 'identityPoolName' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'allowUnauthenticatedIdentities' failed to satisfy constraint: Member must not be null"},

		// Strings.
		{"pattern (real text)", "DescribeIdentityPool", `{"IdentityPoolId":"6eaf0258-e8c5-467f-90de-6e212326e6d3"}`, val,
			"1 validation error detected: Value '6eaf0258-e8c5-467f-90de-6e212326e6d3' at 'identityPoolId' failed to satisfy constraint: " +
				rule(`regular expression pattern: [\w-]+:[0-9a-f-]+`)},
		{"too long", "DescribeIdentityPool", `{"IdentityPoolId":"us-east-1:` + strings.Repeat("0", 46) + `"}`, val,
			"1 validation error detected: Value 'us-east-1:" + strings.Repeat("0", 46) + "' at 'identityPoolId' failed to satisfy constraint: Member must have length less than or equal to 55"},
		{"empty string breaks length and pattern", "DescribeIdentityPool", `{"IdentityPoolId":""}`, val,
			"2 validation errors detected: Value '' at 'identityPoolId' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
				"Value '' at 'identityPoolId' failed to satisfy constraint: " + rule(`regular expression pattern: [\w-]+:[0-9a-f-]+`)},
		{"length counts characters", "CreateIdentityPool", `{"IdentityPoolName":"` + strings.Repeat("é", 128) + `","AllowUnauthenticatedIdentities":true}`, val,
			"1 validation error detected: Value '" + strings.Repeat("é", 128) + "' at 'identityPoolName' failed to satisfy constraint: " + rule(`regular expression pattern: [\w\s+=,.@-]+`)},
		{"vertical tab is whitespace", "CreateIdentityPool", `{"IdentityPoolName":"a\u000bb","AllowUnauthenticatedIdentities":true}`, "", ""},
		{"pool name (real shape of message)", "CreateIdentityPool", `{"IdentityPoolName":"test/pool","AllowUnauthenticatedIdentities":false}`, val,
			"1 validation error detected: Value 'test/pool' at 'identityPoolName' failed to satisfy constraint: " + rule(`regular expression pattern: [\w\s+=,.@-]+`)},
		{"ARN too short", "ListTagsForResource", `{"ResourceArn":"arn:aws:x"}`, val,
			"1 validation error detected: Value 'arn:aws:x' at 'resourceArn' failed to satisfy constraint: Member must have length greater than or equal to 20"},
		{"pagination token with a space", "ListIdentityPools", `{"MaxResults":5,"NextToken":"a b"}`, val,
			"1 validation error detected: Value 'a b' at 'nextToken' failed to satisfy constraint: " + rule(`regular expression pattern: [\S]+`)},
		{"account id digits only", "GetId", `{"AccountId":"12345678901a","IdentityPoolId":"` + poolID + `"}`, val,
			"1 validation error detected: Value '12345678901a' at 'accountId' failed to satisfy constraint: " + rule(`regular expression pattern: \d+`)},

		// Numbers.
		{"below range", "ListIdentityPools", `{"MaxResults":0}`, val,
			"1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"negative", "ListIdentityPools", `{"MaxResults":-5}`, val,
			"1 validation error detected: Value '-5' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"above range", "ListIdentities", `{"IdentityPoolId":"` + poolID + `","MaxResults":61}`, val,
			"1 validation error detected: Value '61' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 60"},
		{"long above range", "GetOpenIdTokenForDeveloperIdentity", `{"IdentityPoolId":"` + poolID + `","Logins":{"login.app":"u"},"TokenDuration":86401}`, val,
			"1 validation error detected: Value '86401' at 'tokenDuration' failed to satisfy constraint: Member must have value less than or equal to 86400"},

		// Lists.
		{"list element", "DeleteIdentities", `{"IdentityIdsToDelete":["` + identityID + `","bad"]}`, val,
			"1 validation error detected: Value '[" + identityID + ", bad]' at 'identityIdsToDelete' failed to satisfy constraint: Member must satisfy constraint: " + idRules},
		{"list elements reported once", "DeleteIdentities", `{"IdentityIdsToDelete":["bad","worse"]}`, val,
			"1 validation error detected: Value '[bad, worse]' at 'identityIdsToDelete' failed to satisfy constraint: Member must satisfy constraint: " + idRules},
		{"list too short", "DeleteIdentities", `{"IdentityIdsToDelete":[]}`, val,
			"1 validation error detected: Value '[]' at 'identityIdsToDelete' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"null list element", "UntagResource", `{"ResourceArn":"` + roleARN + `","TagKeys":["a",null]}`, val,
			"1 validation error detected: Value '[a, null]' at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]"},
		{"list of structures: element path", "CreateIdentityPool",
			`{"IdentityPoolName":"p","AllowUnauthenticatedIdentities":true,"CognitoIdentityProviders":[{"ProviderName":"ok","ClientId":"c"},{"ProviderName":"bad name","ClientId":"c-1"}]}`, val,
			"2 validation errors detected: Value 'bad name' at 'cognitoIdentityProviders.2.member.providerName' failed to satisfy constraint: " + rule(`regular expression pattern: [\w._:/-]+`) +
				"; Value 'c-1' at 'cognitoIdentityProviders.2.member.clientId' failed to satisfy constraint: " + rule(`regular expression pattern: [\w_]+`)},
		{"null structure in a list", "CreateIdentityPool", `{"IdentityPoolName":"p","AllowUnauthenticatedIdentities":true,"CognitoIdentityProviders":[null]}`, val,
			"1 validation error detected: Value null at 'cognitoIdentityProviders.1.member' failed to satisfy constraint: Member must not be null"},

		// Maps.
		{"map value (real text)", "GetId", `{"IdentityPoolId":"` + poolID + `","Logins":{"graph.facebook.com":""}}`, val,
			"1 validation error detected: Value '{graph.facebook.com=}' at 'logins' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 50000, Member must have length greater than or equal to 1]"},
		{"map key", "GetId", `{"IdentityPoolId":"` + poolID + `","Logins":{"":"token"}}`, val,
			"1 validation error detected: Value '{=token}' at 'logins' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]"},
		{"map key pattern", "SetIdentityPoolRoles", `{"IdentityPoolId":"` + poolID + `","Roles":{"authenticated":"` + roleARN + `","admin":"` + roleARN + `"}}`, val,
			"1 validation error detected: Value '{authenticated=" + roleARN + ", admin=" + roleARN + "}' at 'roles' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: (un)?authenticated]"},
		{"map key and value both", "SetIdentityPoolRoles", `{"IdentityPoolId":"` + poolID + `","Roles":{"admin":"arn:short"}}`, val,
			"2 validation errors detected: Value '{admin=arn:short}' at 'roles' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: (un)?authenticated]; " +
				"Value '{admin=arn:short}' at 'roles' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 2048, Member must have length greater than or equal to 20]"},
		{"map too many entries", "SetIdentityPoolRoles", `{"IdentityPoolId":"` + poolID + `","Roles":{"authenticated":"` + roleARN + `","unauthenticated":"` + roleARN + `","authenticated ":"` + roleARN + `"}}`, val,
			"2 validation errors detected: Value '{authenticated=" + roleARN + ", unauthenticated=" + roleARN + ", authenticated =" + roleARN + "}' at 'roles' failed to satisfy constraint: Member must have length less than or equal to 2; " +
				"Value '{authenticated=" + roleARN + ", unauthenticated=" + roleARN + ", authenticated =" + roleARN + "}' at 'roles' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: (un)?authenticated]"},
		{"principal tag value min 1", "SetPrincipalTagAttributeMap", `{"IdentityPoolId":"` + poolID + `","IdentityProviderName":"graph.facebook.com","PrincipalTags":{"dept":""}}`, val,
			"1 validation error detected: Value '{dept=}' at 'principalTags' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 1]"},

		// Nested structures inside a map.
		{"nested rule claim", "SetIdentityPoolRoles", rulesOf(`[` + goodRule + `,{"Claim":"a b","MatchType":"Equals","Value":"x","RoleARN":"` + roleARN + `"}]`), val,
			"1 validation error detected: Value 'a b' at 'roleMappings.graph.facebook.com.member.rulesConfiguration.rules.2.member.claim' failed to satisfy constraint: " +
				rule(`regular expression pattern: [\p{L}\p{M}\p{S}\p{N}\p{P}]+`)},
		{"nested rule missing members", "SetIdentityPoolRoles", rulesOf(`[{"Claim":"c"}]`), val,
			"3 validation errors detected: Value null at 'roleMappings.graph.facebook.com.member.rulesConfiguration.rules.1.member.matchType' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'roleMappings.graph.facebook.com.member.rulesConfiguration.rules.1.member.value' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'roleMappings.graph.facebook.com.member.rulesConfiguration.rules.1.member.roleARN' failed to satisfy constraint: Member must not be null"},
		{"nested enum", "SetIdentityPoolRoles", oneRule(`{"Type":"Bogus","AmbiguousRoleResolution":"Maybe"}`), val,
			"2 validation errors detected: Value 'Bogus' at 'roleMappings.graph.facebook.com.member.type' failed to satisfy constraint: Member must satisfy enum value set: [Token, Rules]; " +
				"Value 'Maybe' at 'roleMappings.graph.facebook.com.member.ambiguousRoleResolution' failed to satisfy constraint: Member must satisfy enum value set: [AuthenticatedRole, Deny]"},
		{"nested empty rules", "SetIdentityPoolRoles", rulesOf(`[]`), val,
			"1 validation error detected: Value '[]' at 'roleMappings.graph.facebook.com.member.rulesConfiguration.rules' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"nested missing rules", "SetIdentityPoolRoles", oneRule(`{"Type":"Rules","RulesConfiguration":{}}`), val,
			"1 validation error detected: Value null at 'roleMappings.graph.facebook.com.member.rulesConfiguration.rules' failed to satisfy constraint: Member must not be null"},
		{"null structure in a map", "SetIdentityPoolRoles", oneRule(`null`), val,
			"1 validation error detected: Value null at 'roleMappings.graph.facebook.com.member' failed to satisfy constraint: Member must not be null"},
		{"violations across levels, model order", "SetIdentityPoolRoles", `{"RoleMappings":{"k":{"Type":"Token","RulesConfiguration":{"Rules":[]}}}}`, val,
			"3 validation errors detected: Value null at 'identityPoolId' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'roles' failed to satisfy constraint: Member must not be null; " +
				"Value '[]' at 'roleMappings.k.member.rulesConfiguration.rules' failed to satisfy constraint: Member must have length greater than or equal to 1"},

		// Wrong JSON types: SerializationException, first mismatch in document order.
		{"number for string", "DescribeIdentityPool", `{"IdentityPoolId":5}`, ser, "NUMBER_VALUE can not be converted to a String"},
		{"true for string", "DescribeIdentityPool", `{"IdentityPoolId":true}`, ser, "TRUE_VALUE can not be converted to a String"},
		{"false for string", "DescribeIdentityPool", `{"IdentityPoolId":false}`, ser, "FALSE_VALUE can not be converted to a String"},
		{"list for string (real text)", "DescribeIdentityPool", `{"IdentityPoolId":["x"]}`, ser, "Start of list found where not expected"},
		{"object for string", "DescribeIdentityPool", `{"IdentityPoolId":{"a":"b"}}`, ser, "Start of structure or map found where not expected"},
		{"string for integer", "ListIdentityPools", `{"MaxResults":"5"}`, ser, "STRING_VALUE can not be converted to an Integer"},
		{"fraction for integer", "ListIdentityPools", `{"MaxResults":1.5}`, ser, "NUMBER_VALUE can not be converted to an Integer"},
		{"exponent for integer", "ListIdentityPools", `{"MaxResults":1e1}`, ser, "NUMBER_VALUE can not be converted to an Integer"},
		{"integer overflow", "ListIdentityPools", `{"MaxResults":2147483648}`, ser, "NUMBER_VALUE can not be converted to an Integer"},
		{"bool for integer", "ListIdentityPools", `{"MaxResults":true}`, ser, "TRUE_VALUE can not be converted to an Integer"},
		{"string for long", "GetOpenIdTokenForDeveloperIdentity", `{"TokenDuration":"60"}`, ser, "STRING_VALUE can not be converted to a Long"},
		{"long overflow", "GetOpenIdTokenForDeveloperIdentity", `{"TokenDuration":9223372036854775808}`, ser, "NUMBER_VALUE can not be converted to a Long"},
		{"string for boolean", "CreateIdentityPool", `{"AllowUnauthenticatedIdentities":"true"}`, ser, "STRING_VALUE can not be converted to an Boolean"},
		{"number for boolean", "CreateIdentityPool", `{"AllowUnauthenticatedIdentities":1}`, ser, "NUMBER_VALUE can not be converted to a Boolean"},
		{"string for list", "DeleteIdentities", `{"IdentityIdsToDelete":"` + identityID + `"}`, ser, "Expected list or null"},
		{"object for list", "DeleteIdentities", `{"IdentityIdsToDelete":{}}`, ser, "Start of structure or map found where not expected"},
		{"string for map", "GetId", `{"Logins":"x"}`, ser, "Expected map or null"},
		{"list for map", "GetId", `{"Logins":[]}`, ser, "Start of list found where not expected"},
		{"string for structure", "SetIdentityPoolRoles", oneRule(`"Token"`), ser, "Expected null"},
		{"list for structure", "SetIdentityPoolRoles", oneRule(`[]`), ser, "Start of list found where not expected"},
		{"number in string list", "DeleteIdentities", `{"IdentityIdsToDelete":[1]}`, ser, "NUMBER_VALUE can not be converted to a String"},
		{"number as map value", "GetId", `{"Logins":{"a":1}}`, ser, "NUMBER_VALUE can not be converted to a String"},
		{"deep wrong type", "SetIdentityPoolRoles", rulesOf(`[{"Claim":["c"]}]`), ser, "Start of list found where not expected"},
		{"type error beats validation", "CreateIdentityPool", `{"IdentityPoolName":"bad/name","AllowUnauthenticatedIdentities":"no"}`, ser, "STRING_VALUE can not be converted to an Boolean"},
		{"first mismatch wins", "CreateIdentityPool", `{"AllowUnauthenticatedIdentities":"no","IdentityPoolName":1}`, ser, "STRING_VALUE can not be converted to an Boolean"},
		{"unknown member of any type", "ListIdentityPools", `{"MaxResults":1,"Extra":{"x":[true,1,"s",null]}}`, "", ""},

		// Bodies that are not one JSON object.
		{"empty body", "ListIdentityPools", ``, ser, "Request body is empty; expected a JSON object"},
		{"blank body", "ListIdentityPools", " \r\n\t", ser, "Request body is empty; expected a JSON object"},
		{"truncated", "ListIdentityPools", `{"MaxResults":`, ser, "Unexpected end of input; the request body is not valid JSON"},
		{"unterminated string", "ListIdentityPools", `{"MaxResults`, ser, "Unexpected end of input; the request body is not valid JSON"},
		{"malformed", "ListIdentityPools", `{"MaxResults" 5}`, ser, "Malformed JSON at offset 14"},
		{"single quotes", "ListIdentityPools", `{'MaxResults':5}`, ser, "Malformed JSON at offset 1"},
		{"trailing comma", "ListIdentityPools", `{"MaxResults":5,}`, ser, "Malformed JSON at offset 16"},
		{"bad escape", "DescribeIdentityPool", `{"IdentityPoolId":"\x"}`, ser, "Malformed JSON at offset 20"},
		{"trailing object", "ListIdentityPools", `{"MaxResults":5}{}`, ser, "Unexpected content after the JSON object"},
		{"trailing garbage", "ListIdentityPools", `{"MaxResults":5} x`, ser, "Unexpected content after the JSON object"},
		{"trailing bracket", "ListIdentityPools", `{"MaxResults":5}]`, ser, "Unexpected content after the JSON object"},
		{"array body", "ListIdentityPools", `[{"MaxResults":5}]`, ser, "Start of list found where not expected"},
		{"string body", "ListIdentityPools", `"MaxResults"`, ser, "Expected null"},
		{"number body", "ListIdentityPools", `5`, ser, "Expected null"},
		{"null body", "ListIdentityPools", `null`, ser, "Expected a JSON object as the request body"},
		{"deep nesting", "ListIdentityPools", `{"MaxResults":1,"x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, ser, "The request body nests too deeply"},
		{"very deep nesting", "ListIdentityPools", `{"x":` + strings.Repeat(`{"a":`, 100000) + `1` + strings.Repeat("}", 100000) + `}`, ser, "The request body nests too deeply"},
		{"nesting at the limit", "ListIdentityPools", `{"MaxResults":1,"x":` + strings.Repeat("[", 32) + strings.Repeat("]", 32) + `}`, "", ""},
		{"nesting one past the limit", "ListIdentityPools", `{"MaxResults":1,"x":` + strings.Repeat("[", 33) + strings.Repeat("]", 33) + `}`, ser, "The request body nests too deeply"},
		{"long value still parsed", "ListIdentityPools", `{"MaxResults":1,"x":"` + long(1<<16) + `"}`, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := m.Operations[tc.op]
			if op == nil {
				t.Fatalf("no operation %s", tc.op)
			}
			err := op.Check([]byte(tc.body))
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Check = %v, want success", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check succeeded, want %s: %s", tc.code, tc.msg)
			}
			if string(err.Code) != tc.code || err.Message != tc.msg {
				t.Fatalf("Check =\n  %s: %s\nwant\n  %s: %s", err.Code, err.Message, tc.code, tc.msg)
			}
		})
	}
}
