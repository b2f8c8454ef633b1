package trust

import (
	"encoding/json"
	"strings"
	"testing"
)

// okStatement is a valid first statement, so that the bad one is second
// and the error must name it by index and Sid.
const okStatement = `{"Sid":"Ok","Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},
	"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":"` + pool + `"}}}`

// second is a 2012-10-17 document whose second statement, Sid "Bad", has
// the given members after its Sid.
func second(members string) string {
	return `{"Version":"2012-10-17","Statement":[` + okStatement + `,{"Sid":"Bad",` + members + `}]}`
}

// badStatement names the statement every second(...) document breaks.
const badStatement = `statement 2 (Sid "Bad")`

// Parts of statements for second(...).
const (
	allowCognito = `"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity"`
	audCondition = `"StringEquals":{"cognito-identity.amazonaws.com:aud":"` + pool + `"}`
)

// badPolicy is a document ParsePolicy must refuse, and what the error must
// say.
type badPolicy struct {
	name string
	doc  string
	want []string
}

func badPolicies() []badPolicy {
	return []badPolicy{
		{"unknown operator", second(allowCognito + `,"Condition":{` + audCondition + `,"NumericEquals":{"cognito-identity.amazonaws.com:sub":"1"}}`),
			[]string{badStatement, `"NumericEquals"`, "not supported"}},
		{"Bool operator", second(allowCognito + `,"Condition":{` + audCondition + `,"Bool":{"cognito-identity.amazonaws.com:sub":"true"}}`),
			[]string{badStatement, `"Bool"`}},
		{"operator in the wrong case", second(allowCognito + `,"Condition":{"stringEquals":{"cognito-identity.amazonaws.com:aud":"x"}}`),
			[]string{badStatement, `"stringEquals"`}},
		{"IfExists in the wrong case", second(allowCognito + `,"Condition":{` + audCondition + `,"StringLikeifexists":{"cognito-identity.amazonaws.com:sub":"x"}}`),
			[]string{badStatement, `"StringLikeifexists"`}},
		{"qualified Null", second(allowCognito + `,"Condition":{` + audCondition + `,"ForAnyValue:Null":{"cognito-identity.amazonaws.com:sub":"true"}}`),
			[]string{badStatement, `"ForAnyValue:Null"`}},
		{"NullIfExists", second(allowCognito + `,"Condition":{` + audCondition + `,"NullIfExists":{"cognito-identity.amazonaws.com:sub":"true"}}`),
			[]string{badStatement, `"NullIfExists"`}},
		{"double qualifier", second(allowCognito + `,"Condition":{` + audCondition + `,"ForAnyValue:ForAllValues:StringLike":{"cognito-identity.amazonaws.com:amr":"x"}}`),
			[]string{badStatement, `"ForAnyValue:ForAllValues:StringLike"`}},
		{"Null value", second(allowCognito + `,"Condition":{` + audCondition + `,"Null":{"cognito-identity.amazonaws.com:sub":"maybe"}}`),
			[]string{badStatement, `"maybe"`}},
		{"unknown key", second(allowCognito + `,"Condition":{` + audCondition + `,"StringLike":{"aws:SourceIp":"10.0.0.0/8"}}`),
			[]string{badStatement, `"aws:SourceIp"`, "not supported"}},
		{"unknown cognito key", second(allowCognito + `,"Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":"x","cognito-identity.amazonaws.com:iss":"y"}}`),
			[]string{badStatement, `"cognito-identity.amazonaws.com:iss"`}},
		{"operator without keys", second(allowCognito + `,"Condition":{` + audCondition + `,"StringLike":{}}`),
			[]string{badStatement, "StringLike has no condition keys"}},
		{"operator not an object", second(allowCognito + `,"Condition":{` + audCondition + `,"StringLike":"x"}`),
			[]string{badStatement, "StringLike"}},
		{"Condition not an object", second(allowCognito + `,"Condition":[]`),
			[]string{badStatement, "Condition"}},
		{"null value", second(allowCognito + `,"Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":null}}`),
			[]string{badStatement, "null"}},
		{"empty value list", second(allowCognito + `,"Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":[]}}`),
			[]string{badStatement, "empty list"}},
		{"object value", second(allowCognito + `,"Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":[{"a":1}]}}`),
			[]string{badStatement, `{"a":1}`}},
		{"Resource", second(allowCognito + `,"Resource":"*","Condition":{` + audCondition + `}`),
			[]string{badStatement, "prohibited element Resource"}},
		{"NotResource", second(allowCognito + `,"NotResource":"*","Condition":{` + audCondition + `}`),
			[]string{badStatement, "prohibited element NotResource"}},
		{"NotPrincipal", second(`"Effect":"Deny","NotPrincipal":{"Federated":"accounts.google.com"},"Action":"sts:*"`),
			[]string{badStatement, "NotPrincipal"}},
		{"unknown element", second(allowCognito + `,"Conditions":{` + audCondition + `}`),
			[]string{badStatement, `"Conditions"`}},
		{"Effect in lower case", second(`"Effect":"allow","Principal":"*","Action":"sts:*","Condition":{` + audCondition + `}`),
			[]string{badStatement, `Effect "allow"`}},
		{"Effect not a string", second(`"Effect":true,"Principal":"*","Action":"sts:*"`),
			[]string{badStatement, "Effect true"}},
		{"missing Effect", second(`"Principal":"*","Action":"sts:*"`),
			[]string{badStatement, "no Effect"}},
		{"missing Principal", second(`"Effect":"Deny","Action":"sts:*"`),
			[]string{badStatement, "no Principal"}},
		{"Principal a name", second(`"Effect":"Deny","Principal":"cognito-identity.amazonaws.com","Action":"sts:*"`),
			[]string{badStatement, "Principal", `"cognito-identity.amazonaws.com"`}},
		{"Principal of unknown type", second(`"Effect":"Deny","Principal":{"Federatd":"x"},"Action":"sts:*"`),
			[]string{badStatement, `"Federatd"`}},
		{"Principal empty", second(`"Effect":"Deny","Principal":{},"Action":"sts:*"`),
			[]string{badStatement, "names no principal"}},
		{"Principal empty list", second(`"Effect":"Deny","Principal":{"Federated":[]},"Action":"sts:*"`),
			[]string{badStatement, "Federated", "empty list"}},
		{"Principal empty string", second(`"Effect":"Deny","Principal":{"AWS":""},"Action":"sts:*"`),
			[]string{badStatement, "AWS", "empty principal"}},
		{"missing Action", second(`"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Condition":{` + audCondition + `}`),
			[]string{badStatement, "no Action or NotAction"}},
		{"Action and NotAction", second(allowCognito + `,"NotAction":"sts:TagSession","Condition":{` + audCondition + `}`),
			[]string{badStatement, "both Action and NotAction"}},
		{"Action without service", second(`"Effect":"Deny","Principal":"*","Action":"AssumeRoleWithWebIdentity"`),
			[]string{badStatement, `"AssumeRoleWithWebIdentity"`, "not an action"}},
		{"Action with empty name", second(`"Effect":"Deny","Principal":"*","NotAction":["sts:"]`),
			[]string{badStatement, "NotAction", `"sts:"`}},
		{"Action with a bad character", second(`"Effect":"Deny","Principal":"*","Action":"sts:Assume Role"`),
			[]string{badStatement, `"sts:Assume Role"`}},
		{"Action a number", second(`"Effect":"Deny","Principal":"*","Action":7`),
			[]string{badStatement, "Action", "7"}},
		{"unknown policy variable", second(allowCognito + `,"Condition":{"StringLike":{"cognito-identity.amazonaws.com:aud":"${aws:username}"}}`),
			[]string{badStatement, `"${aws:username}"`}},
		{"amr as a policy variable", second(allowCognito + `,"Condition":{` + audCondition + `,"StringLike":{"cognito-identity.amazonaws.com:sub":"${cognito-identity.amazonaws.com:amr}"}}`),
			[]string{badStatement, `"${cognito-identity.amazonaws.com:amr}"`}},
		{"policy variable with a default", second(allowCognito + `,"Condition":{` + audCondition + `,"StringLike":{"cognito-identity.amazonaws.com:sub":"${cognito-identity.amazonaws.com:sub, 'x'}"}}`),
			[]string{badStatement, "policy variable"}},
		{"unterminated policy variable", second(allowCognito + `,"Condition":{` + audCondition + `,"StringLike":{"cognito-identity.amazonaws.com:sub":"a${b"}}`),
			[]string{badStatement, "unterminated"}},
		{"cognito allowed without aud", second(allowCognito + `,"Condition":{"ForAnyValue:StringLike":{"cognito-identity.amazonaws.com:amr":"authenticated"}}`),
			[]string{badStatement, "must restrict cognito-identity.amazonaws.com:aud"}},
		{"cognito allowed with no condition", second(allowCognito),
			[]string{badStatement, "must restrict cognito-identity.amazonaws.com:aud"}},
		{"cognito in another case allowed without aud", second(`"Effect":"Allow","Principal":{"Federated":["accounts.google.com","COGNITO-IDENTITY.amazonaws.com"]},"Action":"sts:*"`),
			[]string{badStatement, "must restrict"}},
		{`Principal "*" allowed without aud`, second(`"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"`),
			[]string{badStatement, "must restrict"}},
		{`Principal AWS "*" allowed without aud`, second(`"Effect":"Allow","Principal":{"AWS":["*"]},"Action":"sts:AssumeRoleWithWebIdentity"`),
			[]string{badStatement, "must restrict"}},
		{"aud matched by a bare wildcard", second(allowCognito + `,"Condition":{"StringLike":{"cognito-identity.amazonaws.com:aud":"*"}}`),
			[]string{badStatement, "must restrict"}},
		{"aud matched by wildcards among names", second(allowCognito + `,"Condition":{"StringLike":{"cognito-identity.amazonaws.com:aud":["us-east-1:x","*?"]}}`),
			[]string{badStatement, "must restrict"}},
		{"aud matched by its own variable", second(allowCognito + `,"Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":"${cognito-identity.amazonaws.com:aud}"}}`),
			[]string{badStatement, "must restrict"}},
		{"aud restricted only by a negated operator", second(allowCognito + `,"Condition":{"StringNotEquals":{"cognito-identity.amazonaws.com:aud":"x"}}`),
			[]string{badStatement, "must restrict"}},
		{"aud restricted only with IfExists", second(allowCognito + `,"Condition":{"StringEqualsIfExists":{"cognito-identity.amazonaws.com:aud":"x"}}`),
			[]string{badStatement, "must restrict"}},
		{"aud restricted only with ForAllValues", second(allowCognito + `,"Condition":{"ForAllValues:StringEquals":{"cognito-identity.amazonaws.com:aud":"x"}}`),
			[]string{badStatement, "must restrict"}},
		{"aud restricted only by Null", second(allowCognito + `,"Condition":{"Null":{"cognito-identity.amazonaws.com:aud":"false"}}`),
			[]string{badStatement, "must restrict"}},
		{"Sid repeated", second(`"Effect":"Deny","Principal":"*","Action":"sts:*"}` + `,{"Sid":"Bad","Effect":"Deny","Principal":"*","Action":"sts:*"`),
			[]string{`statement 3 (Sid "Bad")`, "not unique", "statement 2"}},
		{"Sid not a string", `{"Statement":[` + okStatement + `,{"Sid":3,"Effect":"Deny","Principal":"*","Action":"sts:*"}]}`,
			[]string{"statement 2:", "Sid 3"}},
		{"statement not an object", `{"Statement":[` + okStatement + `,"x"]}`,
			[]string{"statement 2:", "object"}},
		{"empty Statement", `{"Version":"2012-10-17","Statement":[]}`,
			[]string{"Statement list is empty"}},
		{"missing Statement", `{"Version":"2012-10-17"}`,
			[]string{"no Statement"}},
		{"null Statement", `{"Version":"2012-10-17","Statement":null}`,
			[]string{"Statement null"}},
		{"bad Version", `{"Version":"2012-10-18","Statement":[` + okStatement + `]}`,
			[]string{`Version "2012-10-18"`}},
		{"Version not a string", `{"Version":2012,"Statement":[` + okStatement + `]}`,
			[]string{"Version 2012"}},
		{"Id not a string", `{"Id":{},"Statement":[` + okStatement + `]}`,
			[]string{"Id {}"}},
		{"unknown top-level element", `{"Version":"2012-10-17","Statment":[]}`,
			[]string{`"Statment"`}},
		{"not JSON", `{"Version":`,
			[]string{"not valid JSON"}},
		{"a list", `[` + okStatement + `]`,
			[]string{"must be a JSON object"}},
		{"null", `null`,
			[]string{"must be a JSON object"}},
		{"empty", ``,
			[]string{"must be a JSON object"}},
		{"string form holding a list", `"[]"`,
			[]string{"must be a JSON object"}},
		{"string form holding bad JSON", `"{\"Version\":"`,
			[]string{"not valid JSON"}},
		{"bad URL encoding", `"%7B%zz"`,
			[]string{"URL encoding"}},
	}
}

func TestParsePolicyRefuses(t *testing.T) {
	for _, tc := range badPolicies() {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePolicy([]byte(tc.doc))
			if err == nil {
				t.Fatalf("ParsePolicy accepted %s as %+v", tc.doc, p)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if msg := err.Error(); msg != "" && strings.ToLower(msg[:1]) != msg[:1] {
				t.Errorf("error %q does not start in lower case", msg)
			}

			// The same document in a roles file: the error names the role too.
			const arn = "arn:aws:iam::123456789012:role/Bad"
			var docValue json.RawMessage = []byte(tc.doc)
			if !json.Valid(docValue) {
				// A document that is not JSON cannot sit in a roles file
				// as itself; its string form can.
				docValue = stringForm(t, tc.doc)
			}
			file := `{"Roles":[{"Arn":"` + arn + `","AssumeRolePolicyDocument":` + string(docValue) + `}]}`
			_, err = ParseRoles([]byte(file))
			if err == nil {
				t.Fatalf("ParseRoles accepted %s", file)
			}
			want := append([]string{`role "` + arn + `": `}, tc.want...)
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("roles file error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestParsePolicyAccepts covers documents at the edges of the grammar.
func TestParsePolicyAccepts(t *testing.T) {
	cases := []struct {
		name string
		doc  string
	}{
		{"no Version", `{"Statement":` + okStatement + `}`},
		{"2008-10-17", `{"Version":"2008-10-17","Statement":[` + okStatement + `]}`},
		{"Id", `{"Version":"2012-10-17","Id":"trust","Statement":[` + okStatement + `]}`},
		{"empty Condition on a Deny", second(`"Effect":"Deny","Principal":"*","Action":"sts:*","Condition":{}`)},
		{"Allow for another provider needs no aud", `{"Statement":{"Effect":"Allow","Principal":{"Federated":"accounts.google.com"},"Action":"sts:AssumeRoleWithWebIdentity"}}`},
		{"Allow for an AWS account needs no aud", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}}`},
		{"aud by ForAnyValue:StringLike", second(allowCognito + `,"Condition":{"ForAnyValue:StringLike":{"Cognito-Identity.amazonaws.com:AUD":"us-east-1:*"}}`)},
		{"aud by StringEqualsIgnoreCase", second(allowCognito + `,"Condition":{"StringEqualsIgnoreCase":{"cognito-identity.amazonaws.com:aud":"x"}}`)},
		{"whitespace around the string form", " \n" + string(stringForm(t, ` {"Statement":`+okStatement+`} `)) + "\n"},
		{"empty Sid", `{"Statement":[{"Sid":"","Effect":"Deny","Principal":"*","Action":"*"},{"Sid":"","Effect":"Deny","Principal":"*","Action":"*"}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParsePolicy([]byte(tc.doc)); err != nil {
				t.Errorf("ParsePolicy(%s): %v", tc.doc, err)
			}
		})
	}
}
