package trust

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// evalCheck is one request against a policy.
type evalCheck struct {
	name      string
	principal string // "" means CognitoPrincipal
	action    string // "" means ActionAssumeRoleWithWebIdentity
	context   map[string][]string
	want      Decision
}

// evalCase is a policy and the requests it is checked with.
type evalCase struct {
	name   string
	policy []byte
	checks []evalCheck
}

// rolePolicy is AWS's documented trust policy for an identity pool's role,
// admitting tokens of pool whose amr has an entry like amrPattern.
func rolePolicy(actions, amrPattern string) []byte {
	return []byte(`{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {"Federated": "cognito-identity.amazonaws.com"},
      "Action": ` + actions + `,
      "Condition": {
        "StringEquals": {"cognito-identity.amazonaws.com:aud": "` + pool + `"},
        "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "` + amrPattern + `"}
      }
    }
  ]
}`)
}

func evalCases(t testing.TB) []evalCase {
	audOnly := cond{"StringEquals", KeyAud, pool}
	authenticated := rolePolicy(`"sts:AssumeRoleWithWebIdentity"`, "authenticated")
	return []evalCase{
		{
			name:   "AWS authenticated role",
			policy: authenticated,
			checks: []evalCheck{
				{name: "facebook user", context: ctx(pool, identity, facebookAMR()...), want: Allow},
				{name: "google user", context: ctx(pool, identity, googleAMR()...), want: Allow},
				{name: "guest", context: ctx(pool, identity, guestAMR()...), want: ImplicitDeny},
				{name: "other pool's user", context: ctx(otherPool, identity, facebookAMR()...), want: ImplicitDeny},
				{name: "no aud", context: ctx("", identity, facebookAMR()...), want: ImplicitDeny},
				{name: "no amr", context: ctx(pool, identity), want: ImplicitDeny},
				{name: "TagSession not allowed", action: ActionTagSession, context: ctx(pool, identity, facebookAMR()...), want: ImplicitDeny},
				{name: "other principal", principal: google, context: ctx(pool, identity, facebookAMR()...), want: ImplicitDeny},
				{name: "principal case-insensitive", principal: "Cognito-Identity.AmazonAWS.com", context: ctx(pool, identity, facebookAMR()...), want: Allow},
				{name: "context keys case-insensitive", context: map[string][]string{
					"Cognito-Identity.amazonaws.com:AUD": {pool},
					"COGNITO-IDENTITY.AMAZONAWS.COM:amr": {"authenticated"},
				}, want: Allow},
				{name: "aud value case-sensitive", context: ctx(strings.ToUpper(pool), identity, facebookAMR()...), want: ImplicitDeny},
			},
		},
		{
			name:   "AWS unauthenticated role",
			policy: rolePolicy(`"sts:AssumeRoleWithWebIdentity"`, "unauthenticated"),
			checks: []evalCheck{
				{name: "guest", context: ctx(pool, identity, guestAMR()...), want: Allow},
				{name: "authenticated user", context: ctx(pool, identity, facebookAMR()...), want: ImplicitDeny},
				{name: "other pool's guest", context: ctx(otherPool, identity, guestAMR()...), want: ImplicitDeny},
			},
		},
		{
			name:   "AWS role with session tags",
			policy: rolePolicy(`["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]`, "authenticated"),
			checks: []evalCheck{
				{name: "assume", context: ctx(pool, identity, googleAMR()...), want: Allow},
				{name: "tag", action: ActionTagSession, context: ctx(pool, identity, googleAMR()...), want: Allow},
				{name: "tag for guest", action: ActionTagSession, context: ctx(pool, identity, guestAMR()...), want: ImplicitDeny},
				{name: "AssumeRole is another action", action: "sts:AssumeRole", context: ctx(pool, identity, googleAMR()...), want: ImplicitDeny},
			},
		},
		{
			name:   "AWS Facebook users only",
			policy: rolePolicy(`"sts:AssumeRoleWithWebIdentity"`, "graph.facebook.com"),
			checks: []evalCheck{
				{name: "facebook user", context: ctx(pool, identity, facebookAMR()...), want: Allow},
				{name: "google user", context: ctx(pool, identity, googleAMR()...), want: ImplicitDeny},
				{name: "guest", context: ctx(pool, identity, guestAMR()...), want: ImplicitDeny},
				{name: "other pool's facebook user", context: ctx(otherPool, identity, facebookAMR()...), want: ImplicitDeny},
			},
		},
		{
			name: "deny beats allow",
			policy: doc(t, version2012,
				stmt{sid: "AllowPool", conditions: []cond{audOnly}},
				stmt{sid: "DenyGuests", effect: "Deny", conditions: []cond{{"ForAnyValue:StringEquals", KeyAMR, "unauthenticated"}}},
			),
			checks: []evalCheck{
				{name: "guest denied", context: ctx(pool, identity, guestAMR()...), want: ExplicitDeny},
				{name: "user allowed", context: ctx(pool, identity, facebookAMR()...), want: Allow},
				{name: "other pool's guest denied", context: ctx(otherPool, identity, guestAMR()...), want: ExplicitDeny},
				{name: "other pool's user not allowed", context: ctx(otherPool, identity, facebookAMR()...), want: ImplicitDeny},
			},
		},
		{
			name:   "no allow statement",
			policy: doc(t, version2012, stmt{effect: "Deny", conditions: []cond{{"StringEquals", KeySub, identity}}}),
			checks: []evalCheck{
				{name: "denied identity", context: ctx(pool, identity, guestAMR()...), want: ExplicitDeny},
				{name: "anyone else", context: ctx(pool, "us-east-1:other", guestAMR()...), want: ImplicitDeny},
			},
		},
		{
			name:   "values ORed",
			policy: doc(t, version2012, stmt{conditions: []cond{{"StringEquals", KeyAud, []string{pool, otherPool}}}}),
			checks: []evalCheck{
				{name: "first", context: ctx(pool, identity), want: Allow},
				{name: "second", context: ctx(otherPool, identity), want: Allow},
				{name: "neither", context: ctx("us-east-1:third", identity), want: ImplicitDeny},
			},
		},
		{
			name:   "keys ANDed",
			policy: doc(t, version2012, stmt{conditions: []cond{audOnly, {"StringEquals", KeySub, identity}}}),
			checks: []evalCheck{
				{name: "both", context: ctx(pool, identity), want: Allow},
				{name: "aud only", context: ctx(pool, "us-east-1:other"), want: ImplicitDeny},
				{name: "sub only", context: ctx(otherPool, identity), want: ImplicitDeny},
			},
		},
		{
			name: "operators ANDed",
			policy: doc(t, version2012, stmt{conditions: []cond{
				audOnly,
				{"StringLike", KeySub, "us-east-1:*"},
				{"ForAnyValue:StringEquals", KeyAMR, "authenticated"},
			}}),
			checks: []evalCheck{
				{name: "all hold", context: ctx(pool, identity, googleAMR()...), want: Allow},
				{name: "sub in another region", context: ctx(pool, "eu-west-1:x", googleAMR()...), want: ImplicitDeny},
				{name: "guest", context: ctx(pool, identity, guestAMR()...), want: ImplicitDeny},
			},
		},
		{
			name:   "NotAction",
			policy: doc(t, version2012, stmt{notAction: true, action: ActionTagSession, conditions: []cond{audOnly}}),
			checks: []evalCheck{
				{name: "assume allowed", context: ctx(pool, identity), want: Allow},
				{name: "other action allowed", action: "sts:AssumeRole", context: ctx(pool, identity), want: Allow},
				{name: "excluded action", action: ActionTagSession, context: ctx(pool, identity), want: ImplicitDeny},
				{name: "excluded action any case", action: "STS:tagsession", context: ctx(pool, identity), want: ImplicitDeny},
			},
		},
		{
			name: "deny with NotAction",
			policy: doc(t, version2012,
				stmt{action: []string{ActionAssumeRoleWithWebIdentity, ActionTagSession}, conditions: []cond{audOnly}},
				stmt{effect: "Deny", notAction: true, action: ActionAssumeRoleWithWebIdentity},
			),
			checks: []evalCheck{
				{name: "assume", context: ctx(pool, identity), want: Allow},
				{name: "tag denied", action: ActionTagSession, context: ctx(pool, identity), want: ExplicitDeny},
			},
		},
		{
			name:   `Principal "*"`,
			policy: doc(t, version2012, stmt{principal: "*", conditions: []cond{audOnly}}),
			checks: []evalCheck{
				{name: "cognito", context: ctx(pool, identity), want: Allow},
				{name: "any principal", principal: google, context: ctx(pool, identity), want: Allow},
				{name: "other pool", context: ctx(otherPool, identity), want: ImplicitDeny},
			},
		},
		{
			name:   `Principal AWS "*"`,
			policy: doc(t, version2012, stmt{principal: map[string]any{"AWS": "*"}, conditions: []cond{audOnly}}),
			checks: []evalCheck{
				{name: "cognito", context: ctx(pool, identity), want: Allow},
			},
		},
		{
			name: "Principal list",
			policy: doc(t, version2012, stmt{
				principal:  map[string]any{"Federated": []string{google, "Cognito-Identity.amazonaws.com"}, "AWS": "arn:aws:iam::123456789012:root"},
				conditions: []cond{audOnly},
			}),
			checks: []evalCheck{
				{name: "cognito by another case", context: ctx(pool, identity), want: Allow},
				{name: "google", principal: google, context: ctx(pool, identity), want: Allow},
				{name: "facebook", principal: "graph.facebook.com", context: ctx(pool, identity), want: ImplicitDeny},
				{name: "AWS account is not federated", principal: "arn:aws:iam::123456789012:root", context: ctx(pool, identity), want: ImplicitDeny},
			},
		},
		{
			name: "non-federated principals never apply",
			policy: doc(t, version2012, stmt{principal: map[string]any{
				"AWS": "arn:aws:iam::123456789012:root", "Service": "ec2.amazonaws.com", "CanonicalUser": "abc123",
			}}),
			checks: []evalCheck{
				{name: "cognito", context: ctx(pool, identity), want: ImplicitDeny},
				{name: "service name as principal", principal: "ec2.amazonaws.com", context: ctx(pool, identity), want: ImplicitDeny},
			},
		},
		{
			name: "action wildcards",
			policy: doc(t, version2012,
				stmt{sid: "A", action: "sts:AssumeRole*", conditions: []cond{audOnly}},
				stmt{sid: "B", action: "sts:Tag?ession", conditions: []cond{audOnly}},
			),
			checks: []evalCheck{
				{name: "star", context: ctx(pool, identity), want: Allow},
				{name: "star matches empty", action: "sts:AssumeRole", context: ctx(pool, identity), want: Allow},
				{name: "question mark", action: ActionTagSession, context: ctx(pool, identity), want: Allow},
				{name: "question mark is one character", action: "sts:TagSSession", context: ctx(pool, identity), want: ImplicitDeny},
				{name: "action case-insensitive", action: "STS:ASSUMEROLEWITHWEBIDENTITY", context: ctx(pool, identity), want: Allow},
				{name: "other service", action: "iam:AssumeRole", context: ctx(pool, identity), want: ImplicitDeny},
			},
		},
		{
			name:   "action sts:*",
			policy: doc(t, version2012, stmt{action: "sts:*", conditions: []cond{audOnly}}),
			checks: []evalCheck{
				{name: "assume", context: ctx(pool, identity), want: Allow},
				{name: "tag", action: ActionTagSession, context: ctx(pool, identity), want: Allow},
				{name: "iam", action: "iam:GetRole", context: ctx(pool, identity), want: ImplicitDeny},
			},
		},
		{
			name:   `action "*" in mixed case policy`,
			policy: doc(t, version2012, stmt{action: []string{"*", "StS:aSSUMEroleWITHwebIDENTITY"}, conditions: []cond{audOnly}}),
			checks: []evalCheck{
				{name: "anything", action: "s3:GetObject", context: ctx(pool, identity), want: Allow},
			},
		},
		{
			name:   "action without wildcard is exact",
			policy: doc(t, version2012, stmt{action: "sts:AssumeRole", conditions: []cond{audOnly}}),
			checks: []evalCheck{
				{name: "web identity", context: ctx(pool, identity), want: ImplicitDeny},
			},
		},
		{
			name: "IgnoreCase",
			policy: doc(t, version2012, stmt{conditions: []cond{
				{"StringEqualsIgnoreCase", KeyAud, strings.ToUpper(pool)},
				{"StringNotEqualsIgnoreCase", KeySub, "US-EAST-1:BANNED"},
			}}),
			checks: []evalCheck{
				{name: "upper-case policy value", context: ctx(pool, identity), want: Allow},
				{name: "mixed-case request", context: ctx("US-East-1:11111111-2222-3333-4444-555555555555", identity), want: Allow},
				{name: "banned in any case", context: ctx(pool, "us-east-1:banned"), want: ImplicitDeny},
			},
		},
		{
			name: "StringLike ? and *",
			policy: doc(t, version2012, stmt{conditions: []cond{
				audOnly,
				{"StringLike", KeySub, "us-east-1:????????-*"},
			}}),
			checks: []evalCheck{
				{name: "matches", context: ctx(pool, identity), want: Allow},
				{name: "too short before hyphen", context: ctx(pool, "us-east-1:aaaaaaa-b"), want: ImplicitDeny},
				{name: "star matches empty", context: ctx(pool, "us-east-1:aaaaaaaa-"), want: Allow},
				{name: "case-sensitive", context: ctx(pool, "US-EAST-1:aaaaaaaa-b"), want: ImplicitDeny},
				{name: "? is one character, not one byte", context: ctx(pool, "us-east-1:ééééééé€-x"), want: Allow},
			},
		},
		{
			name: "StringNotLike",
			policy: doc(t, version2012, stmt{conditions: []cond{
				audOnly,
				{"StringNotLike", KeySub, []string{"*:banned-*", "*:test"}},
			}}),
			checks: []evalCheck{
				{name: "ordinary", context: ctx(pool, identity), want: Allow},
				{name: "first pattern", context: ctx(pool, "us-east-1:banned-1"), want: ImplicitDeny},
				{name: "second pattern", context: ctx(pool, "eu-west-1:test"), want: ImplicitDeny},
			},
		},
		{
			name: "policy variables",
			policy: doc(t, version2012, stmt{principal: map[string]any{"Federated": google}, conditions: []cond{
				{"StringEquals", KeySub, []string{"${Cognito-Identity.amazonaws.com:AUD}/id", "=${cognito-identity.amazonaws.com:sub}"}},
			}}),
			checks: []evalCheck{
				{name: "substituted", principal: google, context: ctx("a", "a/id"), want: Allow},
				{name: "other", principal: google, context: ctx("a", "b/id"), want: ImplicitDeny},
				{name: "a value is never equal to itself with a prefix", principal: google, context: ctx("a", "=x"), want: ImplicitDeny},
				{name: "variable key missing matches nothing", principal: google, context: ctx("", "/id"), want: ImplicitDeny},
				{name: "two values for the variable match nothing", principal: google, context: map[string][]string{
					KeyAud: {"a", "a"}, KeySub: {"a/id"},
				}, want: ImplicitDeny},
			},
		},
		{
			name: "policy variable values are literal under StringLike",
			policy: doc(t, version2012, stmt{principal: map[string]any{"Federated": google}, conditions: []cond{
				{"StringLike", KeySub, "${cognito-identity.amazonaws.com:aud}:*"},
			}}),
			checks: []evalCheck{
				{name: "prefix from aud", principal: google, context: ctx("p", "p:x"), want: Allow},
				{name: "wildcard in the request's aud is literal", principal: google, context: ctx("*", "q:x"), want: ImplicitDeny},
				{name: "literal star in aud", principal: google, context: ctx("*", "*:x"), want: Allow},
			},
		},
		{
			name: "escape variables",
			policy: doc(t, version2012, stmt{principal: map[string]any{"Federated": google}, conditions: []cond{
				{"StringLike", KeySub, "a${*}b${?}c${$}{d}*"},
			}}),
			checks: []evalCheck{
				{name: "literal characters", principal: google, context: ctx("", "a*b?c${d}tail"), want: Allow},
				{name: "${*} is not a wildcard", principal: google, context: ctx("", "axxb?c${d}"), want: ImplicitDeny},
				{name: "${?} is not a wildcard", principal: google, context: ctx("", "a*bxc${d}"), want: ImplicitDeny},
			},
		},
		{
			name: "StringNotEquals with a missing variable",
			policy: doc(t, version2012, stmt{principal: map[string]any{"Federated": google}, conditions: []cond{
				{"StringNotEquals", KeySub, "${cognito-identity.amazonaws.com:aud}"},
			}}),
			checks: []evalCheck{
				{name: "equal to aud", principal: google, context: ctx("x", "x"), want: ImplicitDeny},
				{name: "differs from aud", principal: google, context: ctx("x", "y"), want: Allow},
				{name: "no aud: the value matches nothing", principal: google, context: ctx("", "y"), want: Allow},
			},
		},
		{
			name: "no variables under 2008-10-17",
			policy: doc(t, version2008, stmt{principal: map[string]any{"Federated": google}, conditions: []cond{
				{"StringEquals", KeySub, "${cognito-identity.amazonaws.com:aud}"},
			}}),
			checks: []evalCheck{
				{name: "literal text", principal: google, context: ctx("x", "${cognito-identity.amazonaws.com:aud}"), want: Allow},
				{name: "not substituted", principal: google, context: ctx("x", "x"), want: ImplicitDeny},
			},
		},
		{
			name: "no variables without Version",
			policy: doc(t, "", stmt{principal: map[string]any{"Federated": google}, conditions: []cond{
				{"StringEquals", KeySub, "${oops}"},
			}}),
			checks: []evalCheck{
				{name: "literal text", principal: google, context: ctx("", "${oops}"), want: Allow},
			},
		},
		{
			name: "numbers and booleans are their JSON text",
			policy: []byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"accounts.google.com"},
				"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"cognito-identity.amazonaws.com:sub":[12, 1.50, true]}}}}`),
			checks: []evalCheck{
				{name: "integer", principal: google, context: ctx("", "12"), want: Allow},
				{name: "number as written", principal: google, context: ctx("", "1.50"), want: Allow},
				{name: "number not normalised", principal: google, context: ctx("", "1.5"), want: ImplicitDeny},
				{name: "boolean", principal: google, context: ctx("", "true"), want: Allow},
			},
		},
		{
			name: "statement as a single object",
			policy: []byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},
				"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":"` + pool + `"}}}}`),
			checks: []evalCheck{
				{name: "pool", context: ctx(pool, identity), want: Allow},
				{name: "other pool", context: ctx(otherPool, identity), want: ImplicitDeny},
			},
		},
		{
			name:   "JSON string form",
			policy: stringForm(t, string(authenticated)),
			checks: []evalCheck{
				{name: "user", context: ctx(pool, identity, facebookAMR()...), want: Allow},
				{name: "guest", context: ctx(pool, identity, guestAMR()...), want: ImplicitDeny},
			},
		},
		{
			name:   "URL-encoded string form",
			policy: stringForm(t, url.PathEscape(string(authenticated))),
			checks: []evalCheck{
				{name: "user", context: ctx(pool, identity, facebookAMR()...), want: Allow},
				{name: "guest", context: ctx(pool, identity, guestAMR()...), want: ImplicitDeny},
			},
		},
		{
			name:   "URL-encoded string form in lower-case hex with a plus sign",
			policy: stringForm(t, lowerHex(url.PathEscape(strings.ReplaceAll(string(authenticated), "authenticated", "a+b")))),
			checks: []evalCheck{
				{name: "plus is not a space", context: ctx(pool, identity, "a+b"), want: Allow},
				{name: "space", context: ctx(pool, identity, "a b"), want: ImplicitDeny},
			},
		},
	}
}

// lowerHex writes the hex digits of percent-escapes in lower case.
func lowerHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1] = strings.ToLower(string(b[i+1]))[0]
			b[i+2] = strings.ToLower(string(b[i+2]))[0]
		}
	}
	return string(b)
}

// stringForm is IAM's string form of a document.
func stringForm(t testing.TB, s string) []byte {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEvaluate(t *testing.T) {
	for _, tc := range evalCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, tc.policy)
			for _, c := range tc.checks {
				t.Run(c.name, func(t *testing.T) {
					principal, action := c.principal, c.action
					if principal == "" {
						principal = CognitoPrincipal
					}
					if action == "" {
						action = ActionAssumeRoleWithWebIdentity
					}
					if got := p.Evaluate(principal, action, c.context); got != c.want {
						t.Errorf("Evaluate(%q, %q, %v) = %v, want %v", principal, action, c.context, got, c.want)
					}
				})
			}
		})
	}
}
