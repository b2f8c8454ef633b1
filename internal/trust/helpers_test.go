package trust

import (
	"encoding/json"
	"testing"
)

// Identifiers shared by the tests: a pool, a second pool whose tokens a
// role must refuse, and an identity of the first pool.
const (
	pool      = "us-east-1:11111111-2222-3333-4444-555555555555"
	otherPool = "us-east-1:99999999-8888-7777-6666-555555555555"
	identity  = "us-east-1:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	google    = "accounts.google.com"
)

// cond is one key's values under one condition operator.
type cond struct {
	op, key string
	values  any
}

// stmt describes a statement for doc to marshal.
type stmt struct {
	sid        string
	effect     string // "" means Allow
	principal  any    // nil means {"Federated": CognitoPrincipal}
	action     any    // nil means ActionAssumeRoleWithWebIdentity
	notAction  bool
	conditions []cond
}

// doc marshals a policy document. Conditions that share an operator are
// merged under it, as a hand-written document would have them.
func doc(t testing.TB, version string, stmts ...stmt) []byte {
	t.Helper()
	var list []any
	for _, s := range stmts {
		m := map[string]any{"Effect": "Allow"}
		if s.effect != "" {
			m["Effect"] = s.effect
		}
		if s.sid != "" {
			m["Sid"] = s.sid
		}
		m["Principal"] = map[string]any{"Federated": CognitoPrincipal}
		if s.principal != nil {
			m["Principal"] = s.principal
		}
		var action any = ActionAssumeRoleWithWebIdentity
		if s.action != nil {
			action = s.action
		}
		if s.notAction {
			m["NotAction"] = action
		} else {
			m["Action"] = action
		}
		if len(s.conditions) > 0 {
			c := map[string]map[string]any{}
			for _, x := range s.conditions {
				if c[x.op] == nil {
					c[x.op] = map[string]any{}
				}
				c[x.op][x.key] = x.values
			}
			m["Condition"] = c
		}
		list = append(list, m)
	}
	d := map[string]any{"Statement": list}
	if version != "" {
		d["Version"] = version
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ctx builds an evaluation context; an empty aud or sub is left out, and
// so is amr when none is given.
func ctx(aud, sub string, amr ...string) map[string][]string {
	c := map[string][]string{}
	if aud != "" {
		c[KeyAud] = []string{aud}
	}
	if sub != "" {
		c[KeySub] = []string{sub}
	}
	if len(amr) > 0 {
		c[KeyAMR] = amr
	}
	return c
}

// mustParse parses a policy the test expects to be valid.
func mustParse(t testing.TB, raw []byte) *Policy {
	t.Helper()
	p, err := ParsePolicy(raw)
	if err != nil {
		t.Fatalf("ParsePolicy(%s): %v", raw, err)
	}
	return p
}

// guestAMR, facebookAMR and googleAMR are the amr claims of a guest and of
// users signed in with Facebook and Google.
func guestAMR() []string { return []string{"unauthenticated"} }

func facebookAMR() []string {
	return []string{"authenticated", "graph.facebook.com", "graph.facebook.com:" + pool + ":1234"}
}

func googleAMR() []string {
	return []string{"authenticated", google, google + ":" + pool + ":abcd"}
}
