package trust

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// Roles are the trust policies of a roles file, by role ARN. They are
// immutable once parsed and safe for concurrent use.
type Roles struct {
	byARN map[string]*Policy
}

// ParseRoles parses a roles file, in the shapes IAM itself prints:
//
//	{"Roles": [{"Arn": "arn:aws:iam::123456789012:role/Name", "AssumeRolePolicyDocument": {...}}]}
//
// so that the output of `aws iam list-roles` (or, for one role, the
// {"Role": {...}} of `aws iam get-role`) is a roles file as it is. The
// other members IAM prints for a role (RoleName, RoleId, Path, CreateDate,
// ...) and for a listing (IsTruncated, Marker) are allowed and ignored.
// The policy document may be an object or IAM's string form (see
// ParsePolicy). Unknown members, a missing or malformed Arn, a repeated
// Arn and a bad policy are errors that name the role, by Arn or, when the
// Arn is unusable, by 1-based index. An empty Roles list is allowed.
func ParseRoles(data []byte) (*Roles, error) {
	if jsonKind(data) != '{' {
		return nil, errors.New("must be a JSON object with a Roles list")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	for _, name := range slices.Sorted(maps.Keys(top)) {
		switch name {
		case "Roles", "Role", "IsTruncated", "Marker":
		default:
			return nil, fmt.Errorf("unknown member %q (want Roles)", name)
		}
	}
	var list []json.RawMessage
	rawList, hasList := top["Roles"]
	one, hasOne := top["Role"]
	switch {
	case hasList && hasOne:
		return nil, errors.New("has both Roles and Role: give one")
	case hasOne:
		list = []json.RawMessage{one}
	case !hasList:
		return nil, errors.New("has no Roles list")
	case jsonKind(rawList) != '[':
		return nil, fmt.Errorf("member Roles %s must be a list", compact(rawList))
	default:
		if err := json.Unmarshal(rawList, &list); err != nil {
			return nil, fmt.Errorf("member Roles: %w", err)
		}
	}

	r := &Roles{byARN: make(map[string]*Policy, len(list))}
	seen := make(map[string]int, len(list))
	for i, raw := range list {
		arn, p, err := parseRole(i+1, raw)
		if err != nil {
			return nil, err
		}
		k := roleKey(arn)
		if first, dup := seen[k]; dup {
			return nil, fmt.Errorf("role %q: listed twice (roles %d and %d; role names are unique in an account, whatever their case and path)", arn, first, i+1)
		}
		seen[k] = i + 1
		r.byARN[k] = p
	}
	return r, nil
}

// parseRole parses the index-th (1-based) entry of a roles file.
func parseRole(index int, raw json.RawMessage) (string, *Policy, error) {
	label := fmt.Sprintf("role %d", index)
	if jsonKind(raw) != '{' {
		return "", nil, fmt.Errorf("%s: must be a JSON object", label)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return "", nil, fmt.Errorf("%s: %w", label, err)
	}
	rawARN, ok := members["Arn"]
	if !ok {
		return "", nil, fmt.Errorf("%s: has no Arn", label)
	}
	arn, ok := jsonString(rawARN)
	if !ok {
		return "", nil, fmt.Errorf("%s: Arn %s must be a string", label, compact(rawARN))
	}
	if err := checkRoleARN(arn); err != nil {
		return "", nil, fmt.Errorf("%s: Arn %q is not a role ARN: %v", label, arn, err)
	}
	// From here on the Arn is the better name for the role.
	label = fmt.Sprintf("role %q", arn)

	for _, name := range slices.Sorted(maps.Keys(members)) {
		switch name {
		case "Arn", "AssumeRolePolicyDocument":
		case "Path", "RoleName", "RoleId", "CreateDate", "Description", "MaxSessionDuration",
			"PermissionsBoundary", "Tags", "RoleLastUsed":
			// What IAM prints beside the two that matter here.
		default:
			return "", nil, fmt.Errorf("%s: unknown member %q (want Arn, AssumeRolePolicyDocument)", label, name)
		}
	}
	doc, ok := members["AssumeRolePolicyDocument"]
	if !ok {
		return "", nil, fmt.Errorf("%s: has no AssumeRolePolicyDocument", label)
	}
	p, err := ParsePolicy(doc)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", label, err)
	}
	return arn, p, nil
}

// LoadRoles reads and parses a roles file. Its errors start with
// "roles file <path>: ".
func LoadRoles(path string) (*Roles, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		// The *PathError already names the path; say it once.
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("roles file %s: %w", path, err)
	}
	r, err := ParseRoles(data)
	if err != nil {
		return nil, fmt.Errorf("roles file %s: %w", path, err)
	}
	return r, nil
}

// Policy returns the trust policy of a role, and false when the roles file
// does not list it. A role is found by its account and name, whatever the
// case of the name and whatever path the ARN spells: IAM keeps role names
// unique in an account regardless of case and path, so an ARN spelled
// differently must not get past the policy of the role it names.
func (r *Roles) Policy(roleARN string) (*Policy, bool) {
	if r == nil {
		return nil, false
	}
	p, ok := r.byARN[roleKey(roleARN)]
	return p, ok
}

// roleKey is what identifies a role: "<account>/<lower-case name>".
func roleKey(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 {
		return arn
	}
	name := parts[5]
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return parts[4] + "/" + strings.ToLower(name)
}

// ValidRoleARN reports whether arn is a well-formed IAM role ARN:
// arn:<partition>:iam::<12 digits>:role/<path/>name.
func ValidRoleARN(arn string) bool { return checkRoleARN(arn) == nil }

// Len is the number of roles.
func (r *Roles) Len() int {
	if r == nil {
		return 0
	}
	return len(r.byARN)
}

// checkRoleARN accepts arn:<partition>:iam::<12 digits>:role/<path/>name
// with IAM's character sets: a name of 1 to 64 of [A-Za-z0-9+=,.@_-] and
// path segments of printable ASCII.
func checkRoleARN(arn string) error {
	rest, ok := strings.CutPrefix(arn, "arn:")
	if !ok {
		return errors.New(`does not start with "arn:"`)
	}
	partition, rest, _ := strings.Cut(rest, ":")
	if !validPartition(partition) {
		return fmt.Errorf("partition %q is not aws or aws-<name>", partition)
	}
	rest, ok = strings.CutPrefix(rest, "iam::")
	if !ok {
		return errors.New(`service is not "iam" with an empty region`)
	}
	account, resource, _ := strings.Cut(rest, ":")
	if len(account) != 12 || strings.Trim(account, "0123456789") != "" {
		return fmt.Errorf("account %q is not 12 digits", account)
	}
	resource, ok = strings.CutPrefix(resource, "role/")
	if !ok {
		return errors.New(`resource does not start with "role/"`)
	}
	slash := strings.LastIndexByte(resource, '/')
	path, name := resource[:slash+1], resource[slash+1:]
	if len(path) > 511 { // IAM's 512 counts the leading slash
		return errors.New("path is longer than 512 characters")
	}
	if path != "" {
		for seg := range strings.SplitSeq(strings.TrimSuffix(path, "/"), "/") {
			if seg == "" {
				return errors.New("path has an empty segment")
			}
			for _, c := range seg {
				if c < '!' || c > '~' {
					return fmt.Errorf("path segment %q has a character IAM does not allow", seg)
				}
			}
		}
	}
	if name == "" || len(name) > 64 {
		return fmt.Errorf("role name %q is not 1 to 64 characters", name)
	}
	for _, c := range name {
		if !isAlnum(c) && !strings.ContainsRune("+=,.@_-", c) {
			return fmt.Errorf("role name %q has a character IAM does not allow", name)
		}
	}
	return nil
}

// validPartition accepts "aws" and "aws-" followed by lower-case words
// joined by hyphens (aws-cn, aws-us-gov, aws-iso-b, ...).
func validPartition(p string) bool {
	rest, ok := strings.CutPrefix(p, "aws")
	if !ok {
		return false
	}
	if rest == "" {
		return true
	}
	rest, ok = strings.CutPrefix(rest, "-")
	if !ok {
		return false
	}
	for word := range strings.SplitSeq(rest, "-") {
		if word == "" || strings.Trim(word, "abcdefghijklmnopqrstuvwxyz") != "" {
			return false
		}
	}
	return true
}
