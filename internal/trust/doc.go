// Package trust parses and evaluates IAM role trust policies: the part of
// IAM's policy grammar that web-identity federation uses, with IAM's
// semantics, so that idpool hands out a role's credentials only to the
// tokens that role's AssumeRolePolicyDocument admits.
//
// The package knows nothing of HTTP or the store. ParsePolicy turns a
// document into a Policy; Policy.Evaluate decides one action for one
// federated principal; Policy.AllowsWebIdentity asks the question STS asks
// when an idpool token is exchanged for credentials. ParseRoles and
// LoadRoles read a roles file, the trust policies of the roles idpool
// knows, by role ARN.
//
// # Strictness
//
// A trust policy is a security boundary, so the parser refuses anything it
// does not fully understand rather than ignore it: an unknown element, an
// unsupported condition operator (NumericEquals, Bool, ArnLike, ...), a
// condition key other than the three idpool's tokens carry
// (cognito-identity.amazonaws.com:aud, :amr and :sub), or an unknown policy
// variable. Ignoring a condition would widen what the role trusts. Every
// error names the statement (1-based index, and Sid when there is one).
//
// IAM's own rules that the parser enforces as IAM does: Resource,
// NotResource and NotPrincipal are refused in a trust policy; Effect is
// exactly "Allow" or "Deny"; Sids are unique within a document; and an
// Allow statement that trusts cognito-identity.amazonaws.com (by name, or
// through Principal "*" or {"AWS": "*"}) must restrict
// cognito-identity.amazonaws.com:aud with a positive string operator
// (StringEquals, StringEqualsIgnoreCase or StringLike, optionally with
// ForAnyValue:, never IfExists), so that no identity pool but the role
// owner's can assume the role.
//
// A JSON object that repeats a member name keeps the last one, as
// encoding/json decodes it; the parser does not look for repeats.
//
// # Evaluation
//
// A statement applies when its principal matches, its action matches (for
// NotAction: none of its entries match), and every condition holds. An
// applying Deny wins over everything; otherwise an applying Allow allows;
// otherwise the decision is an implicit deny.
//
// Condition operators are ANDed, keys under one operator are ANDed, and the
// values of one key are ORed. A missing key (absent, or present with no
// values) makes a positive operator false and a negated one (StringNot...)
// true; an IfExists operator is true; a ForAnyValue: operator is false and
// a ForAllValues: operator is true, negated or not; Null "true" holds when
// the key is missing and Null "false" when it is present.
//
// For a multivalued key such as amr, ForAnyValue: holds when at least one
// request value satisfies the operator and ForAllValues: when every one
// does, where a negated operator is satisfied by a request value that
// matches none of the policy's values. Choice: without a qualifier, a
// positive operator holds when any request value matches any policy value,
// and a negated operator is the exact complement of its positive
// counterpart: it holds only when no request value matches any policy
// value. So StringNotEquals amr "unauthenticated" refuses a guest whatever
// else the guest's amr says.
//
// # Policy variables
//
// Under Version 2012-10-17, a condition value may contain
// ${cognito-identity.amazonaws.com:aud} or ${cognito-identity.amazonaws.com:sub}
// (key case-insensitive), replaced at evaluation by the request's value of
// that key, and ${*}, ${?} and ${$}, the literal characters. A substituted
// value is always literal text, never a wildcard pattern, even under
// StringLike. Choice: when the request has no value for the variable's key,
// or more than one, the policy value matches nothing. Any other ${...},
// including the multivalued amr key and IAM's default-value form, is a
// parse error. Under 2008-10-17 (and when Version is absent) "${" is plain
// text, as in IAM.
package trust
