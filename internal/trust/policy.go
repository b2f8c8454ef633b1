package trust

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Names used by idpool's tokens.
const (
	// CognitoPrincipal is the Federated principal of idpool's own tokens.
	CognitoPrincipal = "cognito-identity.amazonaws.com"
	// KeyAud is the condition key holding the identity pool id.
	KeyAud = "cognito-identity.amazonaws.com:aud"
	// KeyAMR is the multivalued condition key holding the token's
	// authentication methods: "unauthenticated", or "authenticated",
	// provider names and "provider:...:user" entries.
	KeyAMR = "cognito-identity.amazonaws.com:amr"
	// KeySub is the condition key holding the identity id.
	KeySub = "cognito-identity.amazonaws.com:sub"

	// ActionAssumeRoleWithWebIdentity is the action STS checks when a web
	// identity token is exchanged for credentials.
	ActionAssumeRoleWithWebIdentity = "sts:AssumeRoleWithWebIdentity"
	// ActionTagSession must also be allowed when the session carries
	// principal tags.
	ActionTagSession = "sts:TagSession"
)

// The policy language versions IAM knows. Only the newer one has policy
// variables.
const (
	version2008 = "2008-10-17"
	version2012 = "2012-10-17"
)

// Policy is a parsed, validated AssumeRolePolicyDocument. It is immutable
// once parsed and safe for concurrent use.
type Policy struct {
	version    string
	statements []statement
}

// statement is one parsed Statement element.
type statement struct {
	index int    // 1-based position in the document, for messages
	sid   string // "" when absent
	deny  bool

	// anyPrincipal is set by Principal "*" or an AWS principal "*"; both
	// match every principal, federated ones included.
	anyPrincipal bool
	// federated are the Federated principal values, compared with the
	// request's principal case-insensitively. AWS, Service and
	// CanonicalUser values are checked for shape and otherwise dropped:
	// they never match a federated principal.
	federated []string

	notAction bool
	actions   [][]globTok // lower-cased patterns with * and ? wildcards

	conditions []condition
}

// label names the statement in messages: its index, and its Sid when it
// has one.
func (s *statement) label() string {
	if s.sid == "" {
		return fmt.Sprintf("statement %d", s.index)
	}
	return fmt.Sprintf("statement %d (Sid %q)", s.index, s.sid)
}

// ParsePolicy parses a trust policy. raw is either a JSON object or a JSON
// string whose content is the policy JSON (IAM's string form); that
// content may also be URL-encoded, as IAM's GetRole returns it (it then
// starts with "%7B"). Anything the package does not understand is an
// error, and an error about a statement names it by 1-based index and Sid.
func ParsePolicy(raw []byte) (*Policy, error) {
	doc, err := policyText(raw)
	if err != nil {
		return nil, err
	}
	if jsonKind(doc) != '{' {
		return nil, errors.New("policy document must be a JSON object")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(doc, &members); err != nil {
		return nil, fmt.Errorf("policy document is not valid JSON: %w", err)
	}
	for _, name := range slices.Sorted(maps.Keys(members)) {
		switch name {
		case "Version", "Id", "Statement":
		default:
			return nil, fmt.Errorf("policy document has unknown element %q (want Version, Id, Statement)", name)
		}
	}

	p := &Policy{version: version2008} // IAM's default when Version is absent
	if raw, ok := members["Version"]; ok {
		v, ok := jsonString(raw)
		if !ok || (v != version2008 && v != version2012) {
			return nil, fmt.Errorf("policy Version %s is not supported (want %q or %q)", compact(raw), version2012, version2008)
		}
		p.version = v
	}
	if raw, ok := members["Id"]; ok {
		if _, ok := jsonString(raw); !ok {
			return nil, fmt.Errorf("policy Id %s must be a string", compact(raw))
		}
	}

	rawStatements, ok := members["Statement"]
	if !ok {
		return nil, errors.New("policy document has no Statement")
	}
	var list []json.RawMessage
	switch jsonKind(rawStatements) {
	case '{':
		list = []json.RawMessage{rawStatements}
	case '[':
		if err := json.Unmarshal(rawStatements, &list); err != nil {
			return nil, fmt.Errorf("policy Statement: %w", err)
		}
	default:
		return nil, fmt.Errorf("policy Statement %s must be an object or a list of objects", compact(rawStatements))
	}
	if len(list) == 0 {
		return nil, errors.New("policy Statement list is empty")
	}

	sids := make(map[string]int)
	for i, rs := range list {
		s, err := parseStatement(i+1, rs, p.version)
		if err != nil {
			return nil, err
		}
		if s.sid != "" {
			// IAM refuses a document whose Sids repeat.
			if first, dup := sids[s.sid]; dup {
				return nil, fmt.Errorf("%s: Sid is not unique (statement %d has it too)", s.label(), first)
			}
			sids[s.sid] = s.index
		}
		p.statements = append(p.statements, s)
	}
	return p, nil
}

// policyText unwraps IAM's string form of a policy document: a JSON string
// holding the document, possibly URL-encoded.
func policyText(raw []byte) ([]byte, error) {
	if jsonKind(raw) != '"' {
		return raw, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("policy document string is not valid JSON: %w", err)
	}
	t := strings.TrimSpace(s)
	if len(t) >= 3 && strings.EqualFold(t[:3], "%7B") {
		// GetRole's encoding is RFC 3986 percent-encoding, which writes a
		// space as %20: a '+' is a plus sign, so path unescaping is right.
		u, err := url.PathUnescape(t)
		if err != nil {
			return nil, fmt.Errorf("policy document string is not valid URL encoding: %w", err)
		}
		t = u
	}
	return []byte(t), nil
}

// parseStatement parses the index-th statement of a document of the
// given version.
func parseStatement(index int, raw json.RawMessage, version string) (statement, error) {
	s := statement{index: index}
	if jsonKind(raw) != '{' {
		return s, fmt.Errorf("%s: must be a JSON object, not %s", s.label(), compact(raw))
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return s, fmt.Errorf("%s: %w", s.label(), err)
	}
	// The Sid comes first so every later message can name it.
	if raw, ok := members["Sid"]; ok {
		sid, ok := jsonString(raw)
		if !ok {
			return s, fmt.Errorf("%s: Sid %s must be a string", s.label(), compact(raw))
		}
		s.sid = sid
	}
	fail := func(format string, args ...any) (statement, error) {
		return s, fmt.Errorf("%s: %s", s.label(), fmt.Sprintf(format, args...))
	}

	for _, name := range slices.Sorted(maps.Keys(members)) {
		switch name {
		case "Sid", "Effect", "Principal", "Action", "NotAction", "Condition":
		case "Resource", "NotResource":
			return fail("has prohibited element %s (a trust policy's resource is always its role)", name)
		case "NotPrincipal":
			return fail("has prohibited element NotPrincipal (a trust policy must name its Principal)")
		default:
			return fail("has unknown element %q (want Sid, Effect, Principal, Action or NotAction, Condition)", name)
		}
	}

	rawEffect, ok := members["Effect"]
	if !ok {
		return fail("has no Effect")
	}
	switch effect, _ := jsonString(rawEffect); effect {
	case "Allow":
	case "Deny":
		s.deny = true
	default:
		// IAM spells these exactly: "allow" is refused.
		return fail("Effect %s must be \"Allow\" or \"Deny\"", compact(rawEffect))
	}

	rawPrincipal, ok := members["Principal"]
	if !ok {
		return fail("has no Principal")
	}
	if err := s.parsePrincipal(rawPrincipal); err != nil {
		return fail("Principal: %v", err)
	}

	rawAction, hasAction := members["Action"]
	rawNotAction, hasNotAction := members["NotAction"]
	switch {
	case hasAction && hasNotAction:
		return fail("has both Action and NotAction")
	case !hasAction && !hasNotAction:
		return fail("has no Action or NotAction")
	}
	element := "Action"
	if hasNotAction {
		element, rawAction, s.notAction = "NotAction", rawNotAction, true
	}
	actions, err := stringList(rawAction)
	if err != nil {
		return fail("%s: %v", element, err)
	}
	for _, a := range actions {
		if err := checkAction(a); err != nil {
			return fail("%s: %v", element, err)
		}
		s.actions = append(s.actions, globPattern(strings.ToLower(a)))
	}

	if rawCondition, ok := members["Condition"]; ok {
		conds, err := parseConditions(rawCondition, version)
		if err != nil {
			return fail("Condition: %v", err)
		}
		s.conditions = conds
	}

	if !s.deny && s.matchesPrincipal(CognitoPrincipal) && !s.restrictsAudience() {
		return fail("a statement that trusts %s must restrict %s with StringEquals, StringEqualsIgnoreCase or StringLike "+
			"(IAM refuses such policies so that no identity pool but yours can assume the role)", CognitoPrincipal, KeyAud)
	}
	return s, nil
}

// parsePrincipal reads a Principal element: "*", or an object whose
// members are among Federated, AWS, Service and CanonicalUser.
func (s *statement) parsePrincipal(raw json.RawMessage) error {
	if str, ok := jsonString(raw); ok {
		if str != "*" {
			return fmt.Errorf("%q must be \"*\" or an object such as {\"Federated\": %q}", str, CognitoPrincipal)
		}
		s.anyPrincipal = true
		return nil
	}
	if jsonKind(raw) != '{' {
		return fmt.Errorf("%s must be \"*\" or an object", compact(raw))
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return err
	}
	if len(members) == 0 {
		return errors.New("names no principal")
	}
	for _, kind := range slices.Sorted(maps.Keys(members)) {
		switch kind {
		case "Federated", "AWS", "Service", "CanonicalUser":
		default:
			return fmt.Errorf("unknown principal type %q (want Federated, AWS, Service or CanonicalUser)", kind)
		}
		values, err := stringList(members[kind])
		if err != nil {
			return fmt.Errorf("%s: %v", kind, err)
		}
		for _, v := range values {
			if v == "" {
				return fmt.Errorf("%s: empty principal", kind)
			}
			switch {
			case kind == "Federated":
				s.federated = append(s.federated, v)
			case kind == "AWS" && v == "*":
				// IAM treats {"AWS": "*"} as "*": everyone.
				s.anyPrincipal = true
			}
		}
	}
	return nil
}

// checkAction accepts "*" and "service:action" where service is letters,
// digits and hyphens and action is letters and digits with * and ?
// wildcards.
func checkAction(a string) error {
	if a == "*" {
		return nil
	}
	service, name, ok := strings.Cut(a, ":")
	if !ok || service == "" || name == "" {
		return fmt.Errorf("%q is not an action (want \"service:Action\" or \"*\")", a)
	}
	for _, r := range service {
		if !isAlnum(r) && r != '-' {
			return fmt.Errorf("%q has a malformed service prefix %q", a, service)
		}
	}
	for _, r := range name {
		if !isAlnum(r) && r != '*' && r != '?' {
			return fmt.Errorf("%q has a malformed action name %q", a, name)
		}
	}
	return nil
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// jsonKind returns the first byte of a JSON value, which tells its type,
// or 0 for an empty one.
func jsonKind(raw []byte) byte {
	t := bytes.TrimLeft(raw, " \t\r\n")
	if len(t) == 0 {
		return 0
	}
	return t[0]
}

// jsonString decodes raw when it is a JSON string.
func jsonString(raw json.RawMessage) (string, bool) {
	if jsonKind(raw) != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// stringList decodes IAM's "string or non-empty list of strings".
func stringList(raw json.RawMessage) ([]string, error) {
	if s, ok := jsonString(raw); ok {
		return []string{s}, nil
	}
	if jsonKind(raw) != '[' {
		return nil, fmt.Errorf("%s must be a string or a list of strings", compact(raw))
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errors.New("empty list")
	}
	out := make([]string, 0, len(items))
	for _, item := range items {
		s, ok := jsonString(item)
		if !ok {
			return nil, fmt.Errorf("%s in a list must be a string", compact(item))
		}
		out = append(out, s)
	}
	return out, nil
}

// compact renders a JSON value for a message, shortened so that a huge
// value cannot flood a log line.
func compact(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		b.Reset()
		b.Write(bytes.TrimSpace(raw))
	}
	const max = 80
	s := b.String()
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
