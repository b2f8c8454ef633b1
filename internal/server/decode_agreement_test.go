package server_test

// These tests keep the decoder in agreement with the model checks: member
// names are case-sensitive and a repeated member's last value wins, so a
// lenient decoder can never slip an unchecked value (a lower-cased
// "maxResults", an earlier copy of a map) past the checks into an
// operation. The pipeline decodes the canonical body that model.Prepare
// builds from what it checked.

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

func newBugServer(t *testing.T) http.Handler {
	t.Helper()
	return newTestServer(t, func() time.Time { return wireClock }, 3, nil).Handler()
}

func mustCall(t *testing.T, h http.Handler, op, body string) (int, map[string]any) {
	t.Helper()
	rec := serve(h, op, []byte(body))
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", op, body, rec.Body, err)
	}
	return rec.Code, out
}

// TestKnownBugCaseFoldedMemberCrashesListIdentityPools: a member the model
// does not know is ignored (as AWS ignores it), so adding "maxResults" to a
// valid request must not change its answer. Today "maxResults":-1 or 0
// reaches ListIdentityPools as MaxResults and slices out of range (panic,
// 500); "maxResults":"x" fails json.Unmarshal after the checks (500).
func TestCaseFoldedMemberCrashesListIdentityPools(t *testing.T) {
	h := newBugServer(t)
	if code, _ := mustCall(t, h, "CreateIdentityPool", `{"IdentityPoolName":"p","AllowUnauthenticatedIdentities":false}`); code != 200 {
		t.Fatalf("setup: %d", code)
	}
	wantCode, want := mustCall(t, h, "ListIdentityPools", `{"MaxResults":1}`)
	for _, body := range []string{
		`{"MaxResults":1,"maxResults":-1}`,
		`{"MaxResults":1,"maxResults":0}`,
		`{"MaxResults":1,"maxresults":"x"}`,
		`{"MaxResults":1,"MAXRESULTS":{"a":1}}`,
	} {
		code, got := mustCall(t, h, "ListIdentityPools", body)
		if code != wantCode || !equalJSON(got, want) {
			t.Errorf("ListIdentityPools %s = %d %v; the unknown member must be ignored: want %d %v", body, code, got, wantCode, want)
		}
	}
}

// TestKnownBugCaseFoldedMemberBypassesValidation: the value checked is the
// value used. Today a second, differently-cased member overrides the
// checked one after the checks, so a pool is created with a name the model
// forbids, and a role mapping is stored with a Type outside its enum.
func TestCaseFoldedMemberBypassesValidation(t *testing.T) {
	h := newBugServer(t)
	code, pool := mustCall(t, h, "CreateIdentityPool", `{"IdentityPoolName":"good name","identityPoolName":"bad/name!","AllowUnauthenticatedIdentities":false,"SupportedLoginProviders":{"graph.facebook.com":"123"}}`)
	if code != 200 {
		t.Fatalf("CreateIdentityPool: %d %v", code, pool)
	}
	if pool["IdentityPoolName"] != "good name" {
		t.Errorf("IdentityPoolName = %q; want the checked value %q (\"identityPoolName\" is not a member)", pool["IdentityPoolName"], "good name")
	}
	id, _ := pool["IdentityPoolId"].(string)
	code, out := mustCall(t, h, "SetIdentityPoolRoles", `{"IdentityPoolId":"`+id+`","Roles":{},"RoleMappings":{"graph.facebook.com":{"Type":"Token","type":"Bogus","AmbiguousRoleResolution":"Deny"}}}`)
	if code != 200 {
		t.Fatalf("SetIdentityPoolRoles: %d %v", code, out)
	}
	_, roles := mustCall(t, h, "GetIdentityPoolRoles", `{"IdentityPoolId":"`+id+`"}`)
	mapping, _ := roles["RoleMappings"].(map[string]any)["graph.facebook.com"].(map[string]any)
	if mapping["Type"] != "Token" {
		t.Errorf("stored role mapping Type = %v; want the checked value Token (the enum allows only Token and Rules)", mapping["Type"])
	}
}

// TestKnownBugRepeatedMapMemberBypassesValidation: when a member appears
// twice its last value is the one checked, so it must be the one used.
// Today encoding/json merges both maps: the unchecked first copy's entries
// are stored — an empty tag key, a Roles key "admin" and a Roles value too
// short to be an ARN, all of which the model forbids.
func TestRepeatedMapMemberBypassesValidation(t *testing.T) {
	h := newBugServer(t)
	code, pool := mustCall(t, h, "CreateIdentityPool", `{"IdentityPoolName":"p","AllowUnauthenticatedIdentities":false,"IdentityPoolTags":{"":"x"},"IdentityPoolTags":{}}`)
	if code != 200 {
		t.Fatalf("CreateIdentityPool: %d %v", code, pool)
	}
	if tags, _ := pool["IdentityPoolTags"].(map[string]any); len(tags) != 0 {
		t.Errorf("IdentityPoolTags = %v; want {} (the last, checked value)", tags)
	}
	id, _ := pool["IdentityPoolId"].(string)
	code, out := mustCall(t, h, "SetIdentityPoolRoles", `{"IdentityPoolId":"`+id+`","Roles":{"admin":"short"},"Roles":{"authenticated":"arn:aws:iam::000000000000:role/Auth"}}`)
	if code != 200 {
		t.Fatalf("SetIdentityPoolRoles: %d %v", code, out)
	}
	_, roles := mustCall(t, h, "GetIdentityPoolRoles", `{"IdentityPoolId":"`+id+`"}`)
	want := map[string]any{"authenticated": "arn:aws:iam::000000000000:role/Auth"}
	if got := roles["Roles"]; !equalJSON(got, want) {
		t.Errorf("Roles = %v; want %v (the last, checked value)", got, want)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
