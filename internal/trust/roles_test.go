package trust

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// role is a roles-file entry with a valid policy.
func role(arn string) string {
	return `{"Arn":"` + arn + `","AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":` + okStatement + `}}`
}

func roles(entries ...string) string {
	return `{"Roles":[` + strings.Join(entries, ",") + `]}`
}

func TestParseRoles(t *testing.T) {
	authARN := "arn:aws:iam::123456789012:role/Cognito_PoolAuth_Role"
	pathARN := "arn:aws-us-gov:iam::123456789012:role/service-role/team/Unauth+Role=1,a.b@c_d-e"
	stringARN := "arn:aws-iso-b:iam::000000000000:role/x"
	guestPolicy := string(stringForm(t, string(rolePolicy(`"sts:AssumeRoleWithWebIdentity"`, "unauthenticated"))))
	data := roles(
		role(authARN),
		role(pathARN),
		`{"Arn":"`+stringARN+`","AssumeRolePolicyDocument":`+guestPolicy+`}`,
	)
	r, err := ParseRoles([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if r.Len() != 3 {
		t.Errorf("Len() = %d, want 3", r.Len())
	}
	cases := []struct {
		name string
		arn  string
		ok   bool
	}{
		{"plain", authARN, true},
		{"with path", pathARN, true},
		{"string form policy", stringARN, true},
		{"absent", "arn:aws:iam::123456789012:role/Other", false},
		{"names match whatever their case", strings.Replace(authARN, "Cognito_PoolAuth_Role", "COGNITO_POOLAUTH_ROLE", 1), true},
		{"names match whatever their path", strings.Replace(authARN, "role/", "role/some/path/", 1), true},
		{"another account", strings.Replace(authARN, "123456789012", "123456789013", 1), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := r.Policy(tc.arn)
			if ok != tc.ok || (p != nil) != tc.ok {
				t.Fatalf("Policy(%q) = %v, %v; want ok %v", tc.arn, p, ok, tc.ok)
			}
		})
	}
	p, _ := r.Policy(stringARN)
	if got := p.Evaluate(CognitoPrincipal, ActionAssumeRoleWithWebIdentity, ctx(pool, identity, guestAMR()...)); got != Allow {
		t.Errorf("guest policy for a guest: got %v, want Allow", got)
	}
}

func TestParseRolesEmpty(t *testing.T) {
	r, err := ParseRoles([]byte(`{"Roles": []}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Len() != 0 {
		t.Errorf("Len() = %d, want 0", r.Len())
	}
	if _, ok := r.Policy("arn:aws:iam::123456789012:role/x"); ok {
		t.Error("empty roles file lists a role")
	}
}

func TestNilRoles(t *testing.T) {
	var r *Roles
	if p, ok := r.Policy("arn:aws:iam::123456789012:role/x"); p != nil || ok {
		t.Errorf("nil Roles: Policy = %v, %v", p, ok)
	}
	if r.Len() != 0 {
		t.Errorf("nil Roles: Len = %d", r.Len())
	}
}

func TestParseRolesRefuses(t *testing.T) {
	const arn = "arn:aws:iam::123456789012:role/A"
	cases := []struct {
		name string
		data string
		want []string
	}{
		{"duplicate Arn", roles(role(arn), role("arn:aws:iam::123456789012:role/B"), role(arn)),
			[]string{`role "` + arn + `"`, "listed twice", "roles 1 and 3"}},
		{"account too short", roles(role(arn), role("arn:aws:iam::12345:role/x")),
			[]string{"role 2:", `"arn:aws:iam::12345:role/x"`, "12 digits"}},
		{"account not digits", roles(role("arn:aws:iam::12345678901x:role/x")),
			[]string{"role 1:", "12 digits"}},
		{"a user, not a role", roles(role("arn:aws:iam::123456789012:user/x")),
			[]string{"role 1:", `"role/"`}},
		{"not an ARN", roles(role("Cognito_Auth_Role")),
			[]string{"role 1:", `"Cognito_Auth_Role"`, "not a role ARN"}},
		{"bad partition", roles(role("arn:azure:iam::123456789012:role/x")),
			[]string{"role 1:", `partition "azure"`}},
		{"partition with an empty word", roles(role("arn:aws-:iam::123456789012:role/x")),
			[]string{"role 1:", `partition "aws-"`}},
		{"other service", roles(role("arn:aws:sts::123456789012:role/x")),
			[]string{"role 1:", "iam"}},
		{"region given", roles(role("arn:aws:iam:us-east-1:123456789012:role/x")),
			[]string{"role 1:", "iam"}},
		{"empty name", roles(role("arn:aws:iam::123456789012:role/path/")),
			[]string{"role 1:", "role name"}},
		{"name too long", roles(role("arn:aws:iam::123456789012:role/" + strings.Repeat("n", 65))),
			[]string{"role 1:", "1 to 64"}},
		{"bad name character", roles(role("arn:aws:iam::123456789012:role/a b")),
			[]string{"role 1:", `"a b"`}},
		{"empty path segment", roles(role("arn:aws:iam::123456789012:role/a//b")),
			[]string{"role 1:", "empty segment"}},
		{"missing Arn", roles(`{"AssumeRolePolicyDocument":{}}`),
			[]string{"role 1:", "no Arn"}},
		{"Arn not a string", roles(role(arn), `{"Arn":7,"AssumeRolePolicyDocument":{}}`),
			[]string{"role 2:", "Arn 7"}},
		{"role not an object", roles(`[]`),
			[]string{"role 1:", "object"}},
		{"missing policy", roles(`{"Arn":"` + arn + `"}`),
			[]string{`role "` + arn + `"`, "no AssumeRolePolicyDocument"}},
		{"unknown role member", roles(`{"Arn":"` + arn + `","Policies":[],"AssumeRolePolicyDocument":{}}`),
			[]string{`role "` + arn + `"`, `"Policies"`}},
		{"one name twice, in another case and path", roles(role(arn), role("arn:aws:iam::123456789012:role/p/a")),
			[]string{"listed twice", "roles 1 and 2"}},
		{"both Roles and Role", `{"Roles":[],"Role":{}}`,
			[]string{"both Roles and Role"}},
		{"bad policy names role and statement", roles(role(arn), `{"Arn":"arn:aws:iam::123456789012:role/B","AssumeRolePolicyDocument":`+
			second(allowCognito+`,"Condition":{`+audCondition+`,"NumericEquals":{"cognito-identity.amazonaws.com:sub":"1"}}`)+`}`),
			[]string{`role "arn:aws:iam::123456789012:role/B"`, badStatement, `"NumericEquals"`}},
		{"unknown top-level member", `{"Roles":[],"Version":"1"}`,
			[]string{`unknown member "Version"`}},
		{"missing Roles", `{}`,
			[]string{"no Roles"}},
		{"Roles not a list", `{"Roles":{}}`,
			[]string{"Roles", "must be a list"}},
		{"Roles null", `{"Roles":null}`,
			[]string{"Roles", "must be a list"}},
		{"not an object", `[]`,
			[]string{"JSON object"}},
		{"not JSON", `{"Roles":[`,
			[]string{"not valid JSON"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseRoles([]byte(tc.data))
			if err == nil {
				t.Fatalf("ParseRoles accepted %s (%d roles)", tc.data, r.Len())
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if msg := err.Error(); strings.ToLower(msg[:1]) != msg[:1] {
				t.Errorf("error %q does not start in lower case", msg)
			}
		})
	}
}

func TestLoadRoles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "roles.json")
	if err := os.WriteFile(good, []byte(roles(role("arn:aws:iam::123456789012:role/A"))), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"Roles":[{"Arn":"x"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.json")

	r, err := LoadRoles(good)
	if err != nil {
		t.Fatal(err)
	}
	if r.Len() != 1 {
		t.Errorf("Len() = %d, want 1", r.Len())
	}

	cases := []struct {
		name string
		path string
		want []string
	}{
		{"bad content", bad, []string{"roles file " + bad + ": ", "role 1:"}},
		{"missing file", missing, []string{"roles file " + missing + ": ", "no such file"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadRoles(tc.path)
			if err == nil {
				t.Fatal("LoadRoles succeeded")
			}
			if !strings.HasPrefix(err.Error(), tc.want[0]) {
				t.Errorf("error %q does not start with %q", err, tc.want[0])
			}
			for _, w := range tc.want[1:] {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestParseRolesIAMOutput reads what `aws iam list-roles` and `aws iam
// get-role` print, as they print it.
func TestParseRolesIAMOutput(t *testing.T) {
	const arn = "arn:aws:iam::123456789012:role/Cognito_PoolAuth_Role"
	entry := `{"Path": "/", "RoleName": "Cognito_PoolAuth_Role", "RoleId": "AROAEXAMPLE0000000001", "Arn": "` + arn + `",
		"CreateDate": "2026-01-02T03:04:05+00:00", "Description": "", "MaxSessionDuration": 3600,
		"Tags": [{"Key": "team", "Value": "id"}], "RoleLastUsed": {},
		"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": ` + okStatement + `}}`
	for name, data := range map[string]string{
		"list-roles": `{"Roles": [` + entry + `], "IsTruncated": false}`,
		"get-role":   `{"Role": ` + entry + `}`,
	} {
		t.Run(name, func(t *testing.T) {
			r, err := ParseRoles([]byte(data))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := r.Policy(arn); !ok || r.Len() != 1 {
				t.Errorf("%d roles, %s listed: %v", r.Len(), arn, ok)
			}
		})
	}
}
