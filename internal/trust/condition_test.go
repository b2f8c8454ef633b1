package trust

import (
	"fmt"
	"testing"
)

// TestMissingKey checks every supported operator, qualifier and IfExists
// combination against a request without sub (and, for contrast, with a
// sub equal to the policy's value). The policy also restricts aud, which
// the request always satisfies, so the decision is the sub condition's.
func TestMissingKey(t *testing.T) {
	cases := []struct {
		operator    string
		values      any
		wantMissing Decision
		wantPresent Decision // sub is "x"
	}{
		{"StringEquals", "x", ImplicitDeny, Allow},
		{"StringEqualsIfExists", "x", Allow, Allow},
		{"ForAnyValue:StringEquals", "x", ImplicitDeny, Allow},
		{"ForAnyValue:StringEqualsIfExists", "x", Allow, Allow},
		{"ForAllValues:StringEquals", "x", Allow, Allow},
		{"ForAllValues:StringEqualsIfExists", "x", Allow, Allow},

		{"StringNotEquals", "x", Allow, ImplicitDeny},
		{"StringNotEqualsIfExists", "x", Allow, ImplicitDeny},
		{"ForAnyValue:StringNotEquals", "x", ImplicitDeny, ImplicitDeny},
		{"ForAnyValue:StringNotEqualsIfExists", "x", Allow, ImplicitDeny},
		{"ForAllValues:StringNotEquals", "x", Allow, ImplicitDeny},
		{"ForAllValues:StringNotEqualsIfExists", "x", Allow, ImplicitDeny},

		{"StringEqualsIgnoreCase", "X", ImplicitDeny, Allow},
		{"StringEqualsIgnoreCaseIfExists", "X", Allow, Allow},
		{"ForAnyValue:StringEqualsIgnoreCase", "X", ImplicitDeny, Allow},
		{"ForAnyValue:StringEqualsIgnoreCaseIfExists", "X", Allow, Allow},
		{"ForAllValues:StringEqualsIgnoreCase", "X", Allow, Allow},
		{"ForAllValues:StringEqualsIgnoreCaseIfExists", "X", Allow, Allow},

		{"StringNotEqualsIgnoreCase", "X", Allow, ImplicitDeny},
		{"StringNotEqualsIgnoreCaseIfExists", "X", Allow, ImplicitDeny},
		{"ForAnyValue:StringNotEqualsIgnoreCase", "X", ImplicitDeny, ImplicitDeny},
		{"ForAnyValue:StringNotEqualsIgnoreCaseIfExists", "X", Allow, ImplicitDeny},
		{"ForAllValues:StringNotEqualsIgnoreCase", "X", Allow, ImplicitDeny},
		{"ForAllValues:StringNotEqualsIgnoreCaseIfExists", "X", Allow, ImplicitDeny},

		{"StringLike", "?", ImplicitDeny, Allow},
		{"StringLikeIfExists", "?", Allow, Allow},
		{"ForAnyValue:StringLike", "?", ImplicitDeny, Allow},
		{"ForAnyValue:StringLikeIfExists", "?", Allow, Allow},
		{"ForAllValues:StringLike", "?", Allow, Allow},
		{"ForAllValues:StringLikeIfExists", "?", Allow, Allow},

		{"StringNotLike", "*", Allow, ImplicitDeny},
		{"StringNotLikeIfExists", "*", Allow, ImplicitDeny},
		{"ForAnyValue:StringNotLike", "*", ImplicitDeny, ImplicitDeny},
		{"ForAnyValue:StringNotLikeIfExists", "*", Allow, ImplicitDeny},
		{"ForAllValues:StringNotLike", "*", Allow, ImplicitDeny},
		{"ForAllValues:StringNotLikeIfExists", "*", Allow, ImplicitDeny},

		{"Null", "true", Allow, ImplicitDeny},
		{"Null", "false", ImplicitDeny, Allow},
		{"Null", true, Allow, ImplicitDeny},
		{"Null", []string{"true", "false"}, Allow, Allow},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s %v", tc.operator, tc.values), func(t *testing.T) {
			p := mustParse(t, doc(t, version2012, stmt{conditions: []cond{
				{"StringEquals", KeyAud, pool},
				{tc.operator, KeySub, tc.values},
			}}))
			missing := []struct {
				name    string
				context map[string][]string
			}{
				{"absent", ctx(pool, "", guestAMR()...)},
				{"no values", map[string][]string{KeyAud: {pool}, KeySub: {}}},
			}
			for _, m := range missing {
				if got := p.Evaluate(CognitoPrincipal, ActionAssumeRoleWithWebIdentity, m.context); got != tc.wantMissing {
					t.Errorf("sub %s: got %v, want %v", m.name, got, tc.wantMissing)
				}
			}
			if got := p.Evaluate(CognitoPrincipal, ActionAssumeRoleWithWebIdentity, ctx(pool, "x")); got != tc.wantPresent {
				t.Errorf("sub present: got %v, want %v", got, tc.wantPresent)
			}
		})
	}
}

// TestMultivalued checks the set operators and the unqualified ones on
// the multivalued amr key.
func TestMultivalued(t *testing.T) {
	guest := guestAMR()
	user := facebookAMR() // authenticated, graph.facebook.com, graph.facebook.com:<pool>:1234
	mixed := []string{"unauthenticated", "graph.facebook.com"}
	pair := []string{"authenticated", "graph.facebook.com"}
	cases := []struct {
		name     string
		operator string
		values   any
		amr      []string
		want     bool
	}{
		{"StringEquals: one entry matches", "StringEquals", "authenticated", user, true},
		{"StringEquals: none matches", "StringEquals", "authenticated", guest, false},
		{"StringLike: entry by pattern", "StringLike", "graph.*", user, true},
		{"StringNotEquals: no entry matches", "StringNotEquals", "unauthenticated", user, true},
		{"StringNotEquals: the entry matches", "StringNotEquals", "unauthenticated", guest, false},
		{"StringNotEquals: complement of StringEquals", "StringNotEquals", "unauthenticated", mixed, false},
		{"StringNotLike: complement of StringLike", "StringNotLike", "graph.*", mixed, false},
		{"ForAnyValue:StringNotEquals: another entry differs", "ForAnyValue:StringNotEquals", "unauthenticated", mixed, true},
		{"ForAnyValue:StringNotEquals: the only entry matches", "ForAnyValue:StringNotEquals", "unauthenticated", guest, false},
		{"ForAnyValue:StringNotLike: an entry matches no pattern", "ForAnyValue:StringNotLike", []string{"unauth*", "graph.*"}, user, true},
		{"ForAnyValue:StringNotLike: every entry matches a pattern", "ForAnyValue:StringNotLike", []string{"unauth*", "graph.*"}, mixed, false},
		{"ForAnyValue:StringEqualsIgnoreCase", "ForAnyValue:StringEqualsIgnoreCase", "AUTHENTICATED", user, true},
		{"ForAllValues:StringEquals: an entry not listed", "ForAllValues:StringEquals", pair, user, false},
		{"ForAllValues:StringEquals: every entry listed", "ForAllValues:StringEquals", pair, pair, true},
		{"ForAllValues:StringLike: every entry by pattern", "ForAllValues:StringLike", []string{"authenticated", "graph.facebook.com*"}, user, true},
		{"ForAllValues:StringNotLike: no entry matches", "ForAllValues:StringNotLike", "unauth*", user, true},
		{"ForAllValues:StringNotLike: one entry matches", "ForAllValues:StringNotLike", "unauth*", mixed, false},
		{"StringNotEqualsIgnoreCase: guest", "StringNotEqualsIgnoreCase", "UNAUTHENTICATED", guest, false},
		{"ForAllValues:StringNotEqualsIgnoreCase: user", "ForAllValues:StringNotEqualsIgnoreCase", "UNAUTHENTICATED", user, true},
		{"ForAllValues:StringNotEqualsIgnoreCase: guest", "ForAllValues:StringNotEqualsIgnoreCase", "UNAUTHENTICATED", guest, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, doc(t, version2012, stmt{conditions: []cond{
				{"StringEquals", KeyAud, pool},
				{tc.operator, KeyAMR, tc.values},
			}}))
			want := ImplicitDeny
			if tc.want {
				want = Allow
			}
			if got := p.Evaluate(CognitoPrincipal, ActionAssumeRoleWithWebIdentity, ctx(pool, identity, tc.amr...)); got != want {
				t.Errorf("amr %q: got %v, want %v", tc.amr, got, want)
			}
		})
	}
}

func TestAllowsWebIdentity(t *testing.T) {
	user := WebIdentity{Audience: pool, Subject: identity, AMR: facebookAMR()}
	guest := WebIdentity{Audience: pool, Subject: identity, AMR: guestAMR()}
	tagged := func(w WebIdentity) WebIdentity { w.Tagged = true; return w }
	withDeny := doc(t, version2012,
		stmt{sid: "AllowPool", action: []string{ActionAssumeRoleWithWebIdentity, ActionTagSession}, conditions: []cond{{"StringEquals", KeyAud, pool}}},
		stmt{sid: "DenyGuests", effect: "Deny", action: "sts:*", conditions: []cond{{"ForAnyValue:StringEquals", KeyAMR, "unauthenticated"}}},
	)
	denyTags := doc(t, version2012,
		stmt{action: "sts:*", conditions: []cond{{"StringEquals", KeyAud, pool}}},
		stmt{effect: "Deny", action: ActionTagSession},
	)
	cases := []struct {
		name    string
		policy  []byte // nil means no policy at all
		w       WebIdentity
		wantOK  bool
		wantWhy string
	}{
		{"authenticated role admits a user", rolePolicy(`"sts:AssumeRoleWithWebIdentity"`, "authenticated"), user, true, ""},
		{"authenticated role refuses a guest", rolePolicy(`"sts:AssumeRoleWithWebIdentity"`, "authenticated"), guest, false,
			"no statement allows sts:AssumeRoleWithWebIdentity"},
		{"authenticated role refuses another pool", rolePolicy(`"sts:AssumeRoleWithWebIdentity"`, "authenticated"),
			WebIdentity{Audience: otherPool, Subject: identity, AMR: facebookAMR()}, false, "no statement allows sts:AssumeRoleWithWebIdentity"},
		{"tagged session needs TagSession", rolePolicy(`"sts:AssumeRoleWithWebIdentity"`, "authenticated"), tagged(user), false,
			"no statement allows sts:TagSession"},
		{"tagged session with TagSession", rolePolicy(`["sts:AssumeRoleWithWebIdentity","sts:TagSession"]`, "authenticated"), tagged(user), true, ""},
		{"unauthenticated role admits a tagged guest", rolePolicy(`["sts:AssumeRoleWithWebIdentity","sts:TagSession"]`, "unauthenticated"), tagged(guest), true, ""},
		{"explicit deny names the statement", withDeny, guest, false,
			`statement 2 (Sid "DenyGuests") denies sts:AssumeRoleWithWebIdentity explicitly`},
		{"explicit deny of TagSession", denyTags, tagged(user), false, "statement 2 denies sts:TagSession explicitly"},
		{"deny of TagSession without tags", denyTags, user, true, ""},
		{"empty audience is a missing key", rolePolicy(`"sts:AssumeRoleWithWebIdentity"`, "authenticated"),
			WebIdentity{Subject: identity, AMR: facebookAMR()}, false, "no statement allows sts:AssumeRoleWithWebIdentity"},
		{"no policy", nil, user, false, "the role has no trust policy"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p *Policy
			if tc.policy != nil {
				p = mustParse(t, tc.policy)
			}
			ok, why := p.AllowsWebIdentity(tc.w)
			if ok != tc.wantOK || why != tc.wantWhy {
				t.Errorf("AllowsWebIdentity(%+v) = %v, %q; want %v, %q", tc.w, ok, why, tc.wantOK, tc.wantWhy)
			}
		})
	}
}

func TestNilPolicy(t *testing.T) {
	var p *Policy
	if got := p.Evaluate(CognitoPrincipal, ActionAssumeRoleWithWebIdentity, ctx(pool, identity)); got != ImplicitDeny {
		t.Errorf("nil policy: got %v, want ImplicitDeny", got)
	}
}

func TestDecisionString(t *testing.T) {
	cases := []struct {
		d    Decision
		want string
	}{
		{ImplicitDeny, "ImplicitDeny"},
		{Allow, "Allow"},
		{ExplicitDeny, "ExplicitDeny"},
		{Decision(7), "Decision(7)"},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.d.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything", true},
		{"?", "", false},
		{"?", "é", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"*a", "baaa", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"**?", "x", true},
		{"*x*x*x*x*y", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%q~%q", tc.pattern, tc.s), func(t *testing.T) {
			if got := globMatch(globPattern(tc.pattern), []rune(tc.s)); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
