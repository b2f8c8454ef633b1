package model

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/apierr"
)

// hangLimit is how long one fuzz input may take before it counts as a hang
// (generous: fuzzing shares the machine with other work).
const hangLimit = 30 * time.Second

// FuzzCheck sends arbitrary bodies to Check for every operation of the
// model. Check must never panic, must answer only SerializationException or
// ValidationException, must refuse whatever is not one valid JSON value,
// and, for bodies without duplicate member names, must give exactly the
// answer of the reference (reference_test.go).
//
//	go test -run x -fuzz FuzzCheck -fuzztime 60s -fuzzminimizetime 5s ./internal/model/
func FuzzCheck(f *testing.F) {
	m := mustLoad(f)
	sp := readSpec(f)
	ops := m.OperationNames()

	seeds := []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"a":`, `{}{}`,
		`{"IdentityPoolId":"` + poolID + `"}`,
		`{"IdentityPoolId":"6eaf0258-e8c5-467f-90de-6e212326e6d3"}`,
		`{"IdentityPoolName":"My pool","AllowUnauthenticatedIdentities":false,"AllowClassicFlow":true,"SupportedLoginProviders":{"graph.facebook.com":"7346241598935555"},"DeveloperProviderName":"login.app","OpenIdConnectProviderARNs":["arn:aws:iam::123456789012:oidc-provider/example.com"],"CognitoIdentityProviders":[{"ProviderName":"cognito-idp.us-east-1.amazonaws.com/us-east-1_abc","ClientId":"7lhlkkfbfb4q5kpp90urffao","ServerSideTokenCheck":false}],"SamlProviderARNs":[],"IdentityPoolTags":{"team":"a"}}`,
		`{"IdentityIdsToDelete":["` + identityID + `"]}`,
		`{"IdentityId":"` + identityID + `","Logins":{"graph.facebook.com":"EAAB"},"CustomRoleArn":"` + roleARN + `"}`,
		`{"AccountId":"123456789012","IdentityPoolId":"` + poolID + `","Logins":{"graph.facebook.com":""}}`,
		`{"IdentityPoolId":"` + poolID + `","IdentityId":"` + identityID + `","Logins":{"login.app":"user"},"PrincipalTags":{"dept":"eng"},"TokenDuration":900}`,
		`{"IdentityPoolId":"` + poolID + `","MaxResults":60,"NextToken":"abc","HideDisabled":true}`,
		`{"MaxResults":0,"NextToken":"a b"}`,
		`{"IdentityPoolId":"` + poolID + `","Roles":{"authenticated":"` + roleARN + `"},"RoleMappings":{"graph.facebook.com":{"Type":"Rules","AmbiguousRoleResolution":"Deny","RulesConfiguration":{"Rules":[{"Claim":"custom:dept","MatchType":"Equals","Value":"eng","RoleARN":"` + roleARN + `"}]}}}}`,
		`{"IdentityPoolId":"` + poolID + `","IdentityProviderName":"graph.facebook.com","UseDefaults":false,"PrincipalTags":{"dept":"custom:dept"}}`,
		`{"ResourceArn":"arn:aws:cognito-identity:us-east-1:123456789012:identitypool/` + poolID + `","Tags":{"k":""},"TagKeys":["k"]}`,
		`{"SourceUserIdentifier":"a","DestinationUserIdentifier":"b","DeveloperProviderName":"login.app","IdentityPoolId":"` + poolID + `","IdentityId":"` + identityID + `","DeveloperUserIdentifier":"a"}`,
		`{"IdentityId":"` + identityID + `","Logins":{"a":"b"},"LoginsToRemove":["a",null,1]}`,
		`{"MaxResults":"5","x":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
	}
	for i, s := range seeds {
		for j := range ops {
			if (i+j)%3 == 0 || strings.Contains(s, "IdentityPoolId") {
				f.Add(uint8(j), []byte(s))
			}
		}
	}

	f.Fuzz(func(t *testing.T, opIndex uint8, body []byte) {
		name := ops[int(opIndex)%len(ops)]
		// A hang is a finding too: crash the worker so that the fuzzer
		// keeps the input.
		defer time.AfterFunc(hangLimit, func() { panic(fmt.Sprintf("Check(%s) hangs on %q", name, body)) }).Stop()
		err := m.Operations[name].Check(body)
		if err != nil {
			if err.Code != apierr.Serialization && err.Code != apierr.Validation {
				t.Fatalf("%s: Check answered %s", name, err.Code)
			}
			if err.Message == "" {
				t.Fatalf("%s: %s without a message", name, err.Code)
			}
		}
		if !json.Valid(body) {
			if err == nil || err.Code != apierr.Serialization {
				t.Fatalf("%s: invalid JSON %q accepted: %v", name, body, err)
			}
			return
		}
		code, msg, exact := sp.expect(name, body)
		if root, derr := decodeOrdered(body); derr == nil && root.hasDuplicateKeys() && code != "SerializationException" {
			// AWS's handling of repeated member names is not known; only
			// require an answer of the right family.
			if err != nil && err.Code != apierr.Validation {
				t.Fatalf("%s: %q: %v", name, body, err)
			}
			return
		}
		gotCode, gotMsg := "", ""
		if err != nil {
			gotCode, gotMsg = string(err.Code), err.Message
		}
		if gotCode != code || (exact && gotMsg != msg) {
			t.Fatalf("%s: %q\n  Check     = %s: %s\n  reference = %s: %s", name, body, gotCode, gotMsg, code, msg)
		}
	})
}
