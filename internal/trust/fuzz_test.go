package trust

import (
	"strings"
	"testing"
)

// FuzzParsePolicy checks that no document makes the parser panic, and that
// a document it accepts evaluates, without panicking and the same way
// twice, for small contexts built from the other inputs.
func FuzzParsePolicy(f *testing.F) {
	for _, tc := range evalCases(f) {
		f.Add(tc.policy, pool, identity, "authenticated,graph.facebook.com", "")
	}
	for _, tc := range badPolicies() {
		f.Add([]byte(tc.doc), otherPool, "", "unauthenticated", "sts:TagSession")
	}
	f.Add([]byte(roles(role("arn:aws:iam::123456789012:role/A"))), "", "x", "", "*")

	f.Fuzz(func(t *testing.T, doc []byte, aud, sub, amr, action string) {
		p, err := ParsePolicy(doc)
		if err != nil {
			if p != nil {
				t.Fatalf("ParsePolicy returned a policy and the error %v", err)
			}
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}

		// Contexts: the values as given, with the key spellings varied
		// and amr split into several values; plus an empty context.
		c := map[string][]string{
			strings.ToUpper(KeyAud): {aud},
			KeySub:                  {sub},
			KeyAMR:                  strings.Split(amr, ","),
		}
		if sub == "" {
			delete(c, KeySub)
		}
		contexts := []map[string][]string{c, {}, nil, {KeyAud: {aud, sub}}}
		principals := []string{CognitoPrincipal, "COGNITO-IDENTITY.AMAZONAWS.COM", google, ""}
		actions := []string{ActionAssumeRoleWithWebIdentity, ActionTagSession, action}

		for _, ctx := range contexts {
			for _, pr := range principals {
				for _, a := range actions {
					d := p.Evaluate(pr, a, ctx)
					if d != ImplicitDeny && d != Allow && d != ExplicitDeny {
						t.Fatalf("Evaluate returned %v", d)
					}
					if again := p.Evaluate(pr, a, ctx); again != d {
						t.Fatalf("Evaluate(%q, %q, %v) = %v, then %v", pr, a, ctx, d, again)
					}
				}
			}
		}

		w := WebIdentity{Audience: aud, Subject: sub, AMR: strings.Split(amr, ","), Tagged: action != ""}
		ok, why := p.AllowsWebIdentity(w)
		if ok != (why == "") {
			t.Fatalf("AllowsWebIdentity = %v, %q: ok must come with no reason and a refusal with one", ok, why)
		}
		if ok2, why2 := p.AllowsWebIdentity(w); ok2 != ok || why2 != why {
			t.Fatalf("AllowsWebIdentity = %v, %q, then %v, %q", ok, why, ok2, why2)
		}
		// AllowsWebIdentity asks Evaluate's question.
		want := p.Evaluate(CognitoPrincipal, ActionAssumeRoleWithWebIdentity, webContext(w)) == Allow &&
			(!w.Tagged || p.Evaluate(CognitoPrincipal, ActionTagSession, webContext(w)) == Allow)
		if ok != want {
			t.Fatalf("AllowsWebIdentity(%+v) = %v, but Evaluate says %v", w, ok, want)
		}
	})
}

// webContext is the context AllowsWebIdentity evaluates w with, built the
// way a caller of Evaluate would.
func webContext(w WebIdentity) map[string][]string {
	c := map[string][]string{KeyAMR: w.AMR}
	if w.Audience != "" {
		c[KeyAud] = []string{w.Audience}
	}
	if w.Subject != "" {
		c[KeySub] = []string{w.Subject}
	}
	return c
}
