package cognito

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/federation"
	"github.com/idpool/idpool/internal/store"
)

const msgInvalidPoolConfig = "Invalid identity pool configuration. Check assigned IAM roles for this pool."

func invalidPoolConfig() error {
	return apierr.New(apierr.InvalidIdentityPoolConfiguration, msgInvalidPoolConfig)
}

// samlRoleAttribute carries the roles a SAML assertion offers, as
// "<role arn>,<provider arn>" pairs.
const samlRoleAttribute = "https://aws.amazon.com/SAML/Attributes/Role"

// defaultRole returns the pool's role of the given kind.
func defaultRole(p *store.Pool, kind string) (string, error) {
	if arn := p.Roles[kind]; arn != "" {
		return arn, nil
	}
	return "", invalidPoolConfig()
}

// mappingKey is the RoleMappings key of a login: the provider, and for a
// user pool the provider and the app client of the token.
func mappingKey(l *federation.Login) string {
	if l.Kind == federation.UserPool {
		return l.Provider + ":" + l.ClientID
	}
	return l.Provider
}

// chooseRole resolves the role of an authenticated request
// (docs/behaviour.md §7). logins are the request's verified logins, sorted by
// provider. Choice (order of several mapped providers is undocumented):
// the first login, in provider order, whose provider has a role mapping
// decides; without any mapping, a SAML login's role attribute, else the
// default authenticated role.
//
// why says, in a sentence, what chose the role (the console shows it).
func chooseRole(p *store.Pool, logins []*federation.Login, customRoleARN string) (roleARN, why string, err error) {
	for _, l := range logins {
		key := mappingKey(l)
		m, ok := p.RoleMappings[key]
		if !ok {
			continue
		}
		var role, rule string
		var ambiguous bool
		if m.Type == "Token" {
			role, rule, ambiguous, err = tokenRole(l, customRoleARN)
		} else {
			role, rule, ambiguous, err = rulesRole(m, l, customRoleARN)
		}
		if err != nil {
			return "", "", err
		}
		if !ambiguous {
			return role, "role mapping of " + key + " (" + m.Type + "): " + rule, nil
		}
		if m.AmbiguousRoleResolution == "Deny" {
			return "", "", apierr.Errorf(apierr.NotAuthorized, "The ambiguous role mapping rules for: %s denied this request.", key)
		}
		role, err := defaultRole(p, "authenticated")
		return role, "role mapping of " + key + " (" + m.Type + ") was ambiguous (" + rule + "): AmbiguousRoleResolution AuthenticatedRole gives the default authenticated role", err
	}
	for _, l := range logins {
		if l.Kind != federation.SAML {
			continue
		}
		roles := samlRoles(l)
		switch {
		case customRoleARN != "" && slices.Contains(roles, customRoleARN):
			return customRoleARN, "the CustomRoleArn is one of the roles the SAML assertion of " + l.Provider + " offers", nil
		case customRoleARN != "":
			return "", "", roleNotOffered(customRoleARN)
		case len(roles) == 1:
			return roles[0], "the only role the SAML assertion of " + l.Provider + " offers", nil
		}
	}
	role, err := defaultRole(p, "authenticated")
	return role, "the pool's default authenticated role: no role mapping applies to these logins", err
}

func roleNotOffered(arn string) error {
	// Choice: AWS's text for a CustomRoleArn the token does not grant is
	// not known.
	return apierr.Errorf(apierr.NotAuthorized, "CustomRoleArn '%s' is not one of the roles granted to this user by the identity provider.", arn)
}

// tokenRole applies a Token role mapping: CustomRoleArn must be among the
// token's cognito:roles; else cognito:preferred_role decides; else the
// choice is ambiguous.
func tokenRole(l *federation.Login, customRoleARN string) (role, why string, ambiguous bool, err error) {
	roles := claimStrings(l.Claims["cognito:roles"])
	if customRoleARN != "" {
		if slices.Contains(roles, customRoleARN) {
			return customRoleARN, "the CustomRoleArn is among the token's cognito:roles", false, nil
		}
		return "", "", false, roleNotOffered(customRoleARN)
	}
	if preferred, ok := l.Claims["cognito:preferred_role"].(string); ok && preferred != "" {
		return preferred, "the token's cognito:preferred_role", false, nil
	}
	return "", "the token has no cognito:preferred_role", true, nil
}

// rulesRole applies a Rules role mapping: the first rule that matches the
// token's claims decides. A CustomRoleArn must be the role of one of the
// matching rules.
func rulesRole(m store.RoleMapping, l *federation.Login, customRoleARN string) (role, why string, ambiguous bool, err error) {
	if m.RulesConfiguration == nil {
		return "", "no rules", true, nil
	}
	var matched []int
	rules := m.RulesConfiguration.Rules
	for i, r := range rules {
		if ruleMatches(r, l.Claims) {
			matched = append(matched, i)
		}
	}
	if len(matched) == 0 {
		return "", "no rule matched", true, nil
	}
	for _, i := range matched {
		if customRoleARN == "" || rules[i].RoleARN == customRoleARN {
			return rules[i].RoleARN, describeRule(i, rules[i]), false, nil
		}
	}
	return "", "", false, roleNotOffered(customRoleARN)
}

// describeRule names a rule for people: its position, from 1, and its test.
func describeRule(i int, r store.MappingRule) string {
	return fmt.Sprintf("rule %d (%s %s %q) matched", i+1, r.Claim, r.MatchType, r.Value)
}

// ruleMatches evaluates one rule against the claims. A NotEqual rule on an
// absent claim is skipped, not matched. Choice (not documented by AWS): an
// array claim, such as cognito:groups, matches when any element does (for
// NotEqual: when no element equals the value).
func ruleMatches(r store.MappingRule, claims map[string]any) bool {
	v, ok := claims[r.Claim]
	if !ok || v == nil {
		return false
	}
	values := claimStrings(v)
	if r.MatchType == "NotEqual" {
		return !slices.Contains(values, r.Value)
	}
	for _, s := range values {
		switch r.MatchType {
		case "Equals":
			if s == r.Value {
				return true
			}
		case "Contains":
			if strings.Contains(s, r.Value) {
				return true
			}
		case "StartsWith":
			if strings.HasPrefix(s, r.Value) {
				return true
			}
		}
	}
	return false
}

// claimStrings reads a claim as strings: a string, the elements of an
// array, a number or boolean in its JSON form. cognito:roles may also come
// as one comma-separated string.
func claimStrings(v any) []string {
	switch x := v.(type) {
	case string:
		if strings.Contains(x, ",") && strings.HasPrefix(x, "arn:") {
			return strings.Split(x, ",")
		}
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, claimStrings(e)...)
		}
		return out
	case float64:
		return []string{strconv.FormatFloat(x, 'f', -1, 64)}
	case bool:
		return []string{strconv.FormatBool(x)}
	case nil:
		return nil
	}
	return []string{fmt.Sprint(v)}
}

// samlRoles are the role ARNs a SAML assertion offers.
func samlRoles(l *federation.Login) []string {
	var roles []string
	for _, pair := range claimStrings(l.Claims[samlRoleAttribute]) {
		for _, part := range strings.Split(pair, ",") {
			if strings.Contains(part, ":role/") {
				roles = append(roles, strings.TrimSpace(part))
			}
		}
	}
	return roles
}

// principalTags computes the session tags of a login from the pool's
// attributes-for-access-control setting of its provider: the defaults
// (username from sub, client from aud; docs/behaviour.md §9, key names a
// choice), and/or the custom tag -> claim map.
func principalTags(p *store.Pool, l *federation.Login) map[string]string {
	if l == nil {
		return nil
	}
	m, ok := p.PrincipalTags[l.Provider]
	if !ok {
		return nil
	}
	tags := map[string]string{}
	if m.UseDefaults != nil && *m.UseDefaults {
		if sub := first(claimStrings(l.Claims["sub"])); sub != "" {
			tags["username"] = sub
		}
		client := l.ClientID
		if client == "" {
			client = first(claimStrings(l.Claims["aud"]))
		}
		if client != "" {
			tags["client"] = client
		}
	}
	for tag, claim := range m.PrincipalTags {
		if v := first(claimStrings(l.Claims[claim])); v != "" {
			tags[tag] = v
		}
	}
	if len(tags) == 0 {
		return nil
	}
	return tags
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
