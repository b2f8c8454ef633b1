package trust

import (
	"fmt"
	"strings"
)

// Decision is the outcome of evaluating a policy for one request.
type Decision int

const (
	// ImplicitDeny: no statement allowed the request.
	ImplicitDeny Decision = iota
	// Allow: a statement allowed the request and none denied it.
	Allow
	// ExplicitDeny: a Deny statement applied; it wins over any Allow.
	ExplicitDeny
)

// String returns the decision's name.
func (d Decision) String() string {
	switch d {
	case ImplicitDeny:
		return "ImplicitDeny"
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return fmt.Sprintf("Decision(%d)", int(d))
}

// WebIdentity is what an idpool OpenID token says about its holder.
type WebIdentity struct {
	Audience string   // the identity pool id (aud); "" is a missing key
	Subject  string   // the identity id (sub); "" is a missing key
	AMR      []string // the amr claim; empty is a missing key
	Tagged   bool     // the session carries principal tags: sts:TagSession must be allowed too
}

// request holds a request's condition values by key. Keys the policy
// grammar does not know cannot be referenced, so they are not kept.
type request [numKeys][]string

// newRequest folds a context's keys case-insensitively, as IAM treats
// condition keys. Two spellings of one key pool their values.
func newRequest(context map[string][]string) *request {
	var r request
	for name, values := range context {
		if k, ok := lookupKey(name); ok {
			r[k] = append(r[k], values...)
		}
	}
	return &r
}

// Evaluate decides one action for one federated principal with the given
// condition context. Context keys match case-insensitively; values are
// compared as given. A key absent from the map, or with no values, is a
// missing key. A nil policy allows nothing.
func (p *Policy) Evaluate(principal, action string, context map[string][]string) Decision {
	d, _ := p.decide(principal, action, newRequest(context))
	return d
}

// AllowsWebIdentity reports whether the policy lets the holder of an
// idpool token become the role: sts:AssumeRoleWithWebIdentity for
// CognitoPrincipal with aud, amr and sub taken from w and, when w.Tagged,
// sts:TagSession too; both must be allowed. why explains a refusal in one
// sentence for logs, and is empty when ok.
func (p *Policy) AllowsWebIdentity(w WebIdentity) (ok bool, why string) {
	if p == nil {
		return false, "the role has no trust policy"
	}
	var r request
	if w.Audience != "" {
		r[keyAud] = []string{w.Audience}
	}
	if w.Subject != "" {
		r[keySub] = []string{w.Subject}
	}
	if len(w.AMR) > 0 {
		r[keyAMR] = w.AMR
	}
	actions := []string{ActionAssumeRoleWithWebIdentity}
	if w.Tagged {
		actions = append(actions, ActionTagSession)
	}
	for _, a := range actions {
		switch d, by := p.decide(CognitoPrincipal, a, &r); d {
		case Allow:
		case ExplicitDeny:
			return false, fmt.Sprintf("%s denies %s explicitly", by.label(), a)
		default:
			return false, fmt.Sprintf("no statement allows %s", a)
		}
	}
	return true, ""
}

// decide evaluates the policy and, for an explicit deny, returns the first
// statement that denied.
func (p *Policy) decide(principal, action string, r *request) (Decision, *statement) {
	if p == nil {
		return ImplicitDeny, nil
	}
	lowered := []rune(strings.ToLower(action))
	allowed := false
	for i := range p.statements {
		s := &p.statements[i]
		if !s.applies(principal, lowered, r) {
			continue
		}
		if s.deny {
			return ExplicitDeny, s
		}
		allowed = true
	}
	if allowed {
		return Allow, nil
	}
	return ImplicitDeny, nil
}

// applies reports whether the statement covers the request; action is
// already lower-cased.
func (s *statement) applies(principal string, action []rune, r *request) bool {
	if !s.matchesPrincipal(principal) {
		return false
	}
	matched := false
	for _, pattern := range s.actions {
		if globMatch(pattern, action) {
			matched = true
			break
		}
	}
	if matched == s.notAction {
		return false
	}
	for i := range s.conditions {
		if !s.conditions[i].holds(r) {
			return false
		}
	}
	return true
}

// matchesPrincipal compares Federated principals case-insensitively; "*"
// matches everyone.
func (s *statement) matchesPrincipal(principal string) bool {
	if s.anyPrincipal {
		return true
	}
	for _, f := range s.federated {
		if strings.EqualFold(f, principal) {
			return true
		}
	}
	return false
}

// holds evaluates one condition against the request.
func (c *condition) holds(r *request) bool {
	got := r[c.key]
	if c.op == opNull {
		if len(got) == 0 {
			return c.nullMissing
		}
		return c.nullPresent
	}
	if len(got) == 0 {
		switch {
		case c.ifExists:
			return true
		case c.qual == qualAnyValue:
			return false
		case c.qual == qualAllValues:
			return true
		}
		return c.negated
	}

	m := c.matcher(r)
	switch c.qual {
	case qualAnyValue:
		// Some request value satisfies the operator: for a negated one,
		// some request value matches none of the policy's values.
		for _, g := range got {
			if m.any(g) != c.negated {
				return true
			}
		}
		return false
	case qualAllValues:
		for _, g := range got {
			if m.any(g) == c.negated {
				return false
			}
		}
		return true
	}
	// Unqualified: any request value against any policy value; a negated
	// operator is the complement of its positive counterpart.
	for _, g := range got {
		if m.any(g) {
			return !c.negated
		}
	}
	return c.negated
}

// matcher holds a condition's policy values with variables substituted
// for one request. A value whose variable has no single request value is
// left out: it matches nothing.
type matcher struct {
	op       op
	strs     []string    // for opEquals and opEqualsFold
	patterns [][]globTok // for opLike
}

func (c *condition) matcher(r *request) matcher {
	m := matcher{op: c.op}
	for _, v := range c.values {
		if c.op == opLike {
			if pat, ok := v.pattern(r); ok {
				m.patterns = append(m.patterns, pat)
			}
		} else if s, ok := v.text(r); ok {
			m.strs = append(m.strs, s)
		}
	}
	return m
}

// any reports whether the request value g matches any policy value.
func (m *matcher) any(g string) bool {
	switch m.op {
	case opEquals:
		for _, s := range m.strs {
			if s == g {
				return true
			}
		}
	case opEqualsFold:
		for _, s := range m.strs {
			if strings.EqualFold(s, g) {
				return true
			}
		}
	case opLike:
		runes := []rune(g)
		for _, p := range m.patterns {
			if globMatch(p, runes) {
				return true
			}
		}
	}
	return false
}

// variable returns the request's single value for a policy variable.
func (r *request) variable(k key) (string, bool) {
	if len(r[k]) != 1 {
		return "", false
	}
	return r[k][0], true
}

// text renders the value as a plain string, as the equality operators
// compare it.
func (v value) text(r *request) (string, bool) {
	if len(v) == 1 && v[0].kind != partVariable {
		return v[0].text, true
	}
	var b strings.Builder
	for _, p := range v {
		if p.kind == partVariable {
			s, ok := r.variable(p.key)
			if !ok {
				return "", false
			}
			b.WriteString(s)
			continue
		}
		b.WriteString(p.text)
	}
	return b.String(), true
}

// pattern renders the value as a StringLike pattern: only written text
// has wildcards; escapes and substituted values are literal.
func (v value) pattern(r *request) ([]globTok, bool) {
	var out []globTok
	for _, p := range v {
		switch p.kind {
		case partText:
			out = append(out, globPattern(p.text)...)
		case partLiteral:
			out = appendLiteral(out, p.text)
		case partVariable:
			s, ok := r.variable(p.key)
			if !ok {
				return nil, false
			}
			out = appendLiteral(out, s)
		}
	}
	return out, true
}

// globTok is one element of a pattern: a literal rune, or a wildcard.
type globTok struct {
	r    rune
	wild byte // 0 for a literal; '*' for any run of characters; '?' for exactly one
}

// globPattern reads * and ? in s as wildcards.
func globPattern(s string) []globTok {
	out := make([]globTok, 0, len(s))
	for _, r := range s {
		switch r {
		case '*', '?':
			out = append(out, globTok{wild: byte(r)})
		default:
			out = append(out, globTok{r: r})
		}
	}
	return out
}

func appendLiteral(out []globTok, s string) []globTok {
	for _, r := range s {
		out = append(out, globTok{r: r})
	}
	return out
}

// globMatch matches s against the whole pattern, character by character
// (a character is a rune). It backtracks only to the latest *, which is
// enough for * and ? and keeps the worst case at len(p)*len(s) steps.
func globMatch(p []globTok, s []rune) bool {
	pi, si := 0, 0
	star, resume := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch t := p[pi]; {
			case t.wild == '*':
				star, resume = pi, si
				pi++
				continue
			case t.wild == '?' || (t.wild == 0 && t.r == s[si]):
				pi++
				si++
				continue
			}
		}
		if star < 0 {
			return false
		}
		// Let the latest * swallow one more character and retry.
		resume++
		pi, si = star+1, resume
	}
	for pi < len(p) && p[pi].wild == '*' {
		pi++
	}
	return pi == len(p)
}
