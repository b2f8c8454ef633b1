package seed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/cognito"
	"github.com/idpool/idpool/internal/model"
)

// Seed is a parsed seed file whose every member passed the model's and
// the service's checks. The zero of *Seed (nil) is a seed of no pools.
type Seed struct {
	name  string
	pools []*pool
}

// pool is one pool of the file: what it says, and where it says it.
type pool struct {
	index  int // 0-based; messages count from 1
	line   int
	id     string                // IdentityPoolId as written, for messages
	values map[string]*yaml.Node // member -> value (null values left out)
	keys   map[string]int        // member -> line of its key
	in     cognito.SeededPool
}

// Members of a pool entry that are not CreateIdentityPool's.
const (
	mID             = "IdentityPoolId"
	mAccount        = "AccountId"
	mRoles          = "Roles"
	mRoleMappings   = "RoleMappings"
	mPrincipalTags  = "PrincipalTags"
	mDeveloperUsers = "DeveloperUsers"
)

// fillerID is the pool id of the bodies that check a member which is not
// the pool id itself (the pool id is checked on its own).
const fillerID = `"us-east-1:00000000-0000-4000-8000-000000000000"`

// Load reads and checks the seed file at path.
func Load(path string) (*Seed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seed file: %w", err)
	}
	return Parse(path, data)
}

// Parse reads and checks a seed; name is how messages call it (its file
// name). The error lists every problem found, one per line, each naming
// the pool, the member and the line; problems only the service's rules
// find (cognito.CheckSeed) are reported once the model's are fixed.
func Parse(name string, data []byte) (*Seed, error) {
	m, err := model.Load()
	if err != nil {
		return nil, err
	}
	c := &checker{m: m, name: name}
	pools, err := c.parse(data)
	if err != nil {
		return nil, err
	}
	for _, p := range pools {
		c.check(p)
	}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	s := &Seed{name: name, pools: pools}
	in := make([]cognito.SeededPool, len(pools))
	for i, p := range pools {
		if err := c.decode(p); err != nil {
			return nil, err
		}
		in[i] = p.in
	}
	if err := cognito.CheckSeed(in); err != nil {
		return nil, s.explain(err)
	}
	return s, nil
}

// Name is the seed's file name, as given to Load or Parse.
func (s *Seed) Name() string {
	if s == nil {
		return ""
	}
	return s.name
}

// Len is the number of pools the seed lists.
func (s *Seed) Len() int {
	if s == nil {
		return 0
	}
	return len(s.pools)
}

// label names a pool in messages: its number and its id.
func (p *pool) label() string {
	id := p.id
	if id == "" {
		id = "no IdentityPoolId"
	}
	return fmt.Sprintf("pool %d (%s)", p.index+1, id)
}

// explain turns an error of the service about the seed into a message
// that names the file, the pool, the member and its line.
func (s *Seed) explain(err error) error {
	var se *cognito.SeedError
	if !errors.As(err, &se) || se.Pool < 0 || se.Pool >= len(s.pools) {
		return fmt.Errorf("seed file %s: %w", s.name, err)
	}
	p := s.pools[se.Pool]
	line := p.line
	if l, ok := p.keys[se.Member]; ok {
		line = l
	}
	if v := p.values[se.Member]; v != nil {
		switch {
		case se.Item >= 0 && v.Kind == yaml.SequenceNode && se.Item < len(v.Content):
			line = resolve(v.Content[se.Item]).Line
		case se.Key != "" && v.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(v.Content); i += 2 {
				if resolve(v.Content[i]).Value == se.Key {
					line = v.Content[i].Line
				}
			}
		}
	}
	return &Error{File: s.name, Pool: se.Pool, PoolID: p.id, Member: se.Where(), Line: line, Message: message(se.Err), err: se.Err}
}

// Error is a problem of a seed: it names the file, the pool (by number,
// from 1, and id), the member and the line.
type Error struct {
	File    string
	Pool    int // 0-based index
	PoolID  string
	Member  string
	Line    int
	Message string
	err     error
}

func (e *Error) Error() string {
	id := e.PoolID
	if id == "" {
		id = "no IdentityPoolId"
	}
	return fmt.Sprintf("seed file %s: pool %d (%s): %s: %s (line %d)", e.File, e.Pool+1, id, e.Member, e.Message, e.Line)
}

// Unwrap returns the rule's error, if a rule of the API or the service
// refused the member.
func (e *Error) Unwrap() error { return e.err }

// message is the text of a refusal: an API error's message without its
// code, as the API's clients show it.
func message(err error) string {
	var ae *apierr.Error
	if errors.As(err, &ae) {
		return ae.Message
	}
	return err.Error()
}

// checker collects the problems of one seed.
type checker struct {
	m    *model.Model
	name string
	errs []error
}

func (c *checker) fileError(line int, format string, a ...any) error {
	return fmt.Errorf("seed file %s, line %d: %s", c.name, line, fmt.Sprintf(format, a...))
}

// fail records a problem of member of p at line.
func (c *checker) fail(p *pool, member string, line int, err error) {
	var le *lineError
	if errors.As(err, &le) {
		line, err = le.line, errors.New(le.msg)
	}
	c.errs = append(c.errs, &Error{File: c.name, Pool: p.index, PoolID: p.id, Member: member, Line: line, Message: message(err), err: err})
}

// parse reads the file's structure: one mapping with the key pools, a
// list of mappings.
func (c *checker) parse(data []byte) ([]*pool, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // empty, or only comments: no pools
		}
		return nil, fmt.Errorf("seed file %s: %w", c.name, err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, fmt.Errorf("seed file %s: %w", c.name, err)
		}
		return nil, c.fileError(next.Line, "more than one YAML document; want one mapping with the key pools")
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	top := resolve(doc.Content[0])
	if top.Kind == yaml.ScalarNode && top.ShortTag() == "!!null" {
		return nil, nil
	}
	if top.Kind != yaml.MappingNode {
		return nil, c.fileError(top.Line, "want a mapping with the key pools, a list of identity pools")
	}
	var list *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		k := resolve(top.Content[i])
		switch {
		case k.Value != "pools":
			hint := ""
			if strings.EqualFold(k.Value, "pools") {
				hint = ` (did you mean "pools"?)`
			}
			return nil, c.fileError(k.Line, "unknown key %q%s; a seed file has one key, pools", k.Value, hint)
		case list != nil:
			return nil, c.fileError(k.Line, "key pools repeated")
		}
		list = resolve(top.Content[i+1])
	}
	if list == nil || (list.Kind == yaml.ScalarNode && list.ShortTag() == "!!null") {
		return nil, nil
	}
	if list.Kind != yaml.SequenceNode {
		return nil, c.fileError(list.Line, "pools must be a list of identity pools")
	}
	var pools []*pool
	for i, item := range list.Content {
		item = resolve(item)
		p := &pool{index: i, line: item.Line, values: map[string]*yaml.Node{}, keys: map[string]int{}}
		pools = append(pools, p)
		if item.Kind != yaml.MappingNode {
			c.fail(p, "pool", item.Line, errors.New("want a mapping of the pool's members (IdentityPoolId, IdentityPoolName, ...)"))
			continue
		}
		for j := 0; j+1 < len(item.Content); j += 2 {
			k, v := resolve(item.Content[j]), resolve(item.Content[j+1])
			if k.Kind != yaml.ScalarNode {
				c.fail(p, "pool", k.Line, errors.New("a key must be a member name"))
				continue
			}
			if first, dup := p.keys[k.Value]; dup {
				c.fail(p, k.Value, k.Line, fmt.Errorf("repeated (first on line %d)", first))
				continue
			}
			p.keys[k.Value] = k.Line
			if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
				continue // null is absent, as in a request
			}
			p.values[k.Value] = v
			if k.Value == mID && v.Kind == yaml.ScalarNode {
				p.id = v.Value
			}
		}
	}
	return pools, nil
}

// members are a pool's members in the order they are checked and listed.
func (c *checker) members() []string {
	out := []string{mID, mAccount}
	for _, m := range c.m.Operations["CreateIdentityPool"].Input.Members {
		out = append(out, m.Name)
	}
	return append(out, mRoles, mRoleMappings, mPrincipalTags, mDeveloperUsers)
}

// check runs every member of p through the model, as the requests that
// carry them: one problem per member at most.
func (c *checker) check(p *pool) {
	known := c.members()
	for _, name := range sortedKeys(p.keys) {
		if !slices.Contains(known, name) {
			c.fail(p, name, p.keys[name], fmt.Errorf("unknown member%s; a pool's members are %s", suggest(name, known), strings.Join(known, ", ")))
		}
	}
	bad := func(member string, line int, err error) { c.fail(p, member, line, err) }
	// IdentityPoolId, as DescribeIdentityPool takes it.
	if v := p.values[mID]; v == nil {
		bad(mID, p.line, errors.New("required: a seeded pool names its id"))
	} else if err := c.checkBody("DescribeIdentityPool", field{name: mID, node: v}); err != nil {
		bad(mID, v.Line, err)
	}
	// AccountId, as GetId takes it.
	if v := p.values[mAccount]; v != nil {
		if err := c.checkBody("GetId", raw(mID, fillerID), field{name: mAccount, node: v}); err != nil {
			bad(mAccount, v.Line, err)
		}
	}
	// CreateIdentityPool's members, one at a time with valid values for
	// the required others, then together for what is missing.
	create := c.m.Operations["CreateIdentityPool"].Input
	var all []field
	createFailed := false
	for _, mem := range create.Members {
		v := p.values[mem.Name]
		if v == nil {
			continue
		}
		all = append(all, field{name: mem.Name, node: v})
		fields := []field{raw("IdentityPoolName", `"seed"`), raw("AllowUnauthenticatedIdentities", "false"), {name: mem.Name, node: v}}
		if err := c.checkBody("CreateIdentityPool", fields...); err != nil {
			createFailed = true
			bad(mem.Name, v.Line, err)
		}
	}
	if !createFailed {
		if err := c.checkBody("CreateIdentityPool", all...); err != nil {
			member := "CreateIdentityPool"
			for _, mem := range create.Members {
				if mem.Required && p.values[mem.Name] == nil {
					member = mem.Name
					break
				}
			}
			bad(member, p.line, err)
		}
	}
	// Roles and RoleMappings, as SetIdentityPoolRoles takes them.
	if v := p.values[mRoles]; v != nil {
		if err := c.checkBody("SetIdentityPoolRoles", raw(mID, fillerID), field{name: mRoles, node: v}); err != nil {
			bad(mRoles, v.Line, err)
		}
	}
	if v := p.values[mRoleMappings]; v != nil {
		if err := c.checkBody("SetIdentityPoolRoles", raw(mID, fillerID), raw(mRoles, "{}"), field{name: mRoleMappings, node: v}); err != nil {
			bad(mRoleMappings, v.Line, err)
		}
	}
	// Each provider's principal tags, as SetPrincipalTagAttributeMap
	// takes them.
	if v := p.values[mPrincipalTags]; v != nil {
		c.eachPrincipalTags(p, v, func(provider, entry *yaml.Node) {
			fields := []field{raw(mID, fillerID), raw("IdentityProviderName", string(appendString(nil, provider.Value)))}
			fields = append(fields, entryFields(entry)...)
			if err := c.checkBody("SetPrincipalTagAttributeMap", fields...); err != nil {
				bad(mPrincipalTags, provider.Line, prefixed(provider.Value, err))
			}
		})
	}
	// Developer users, as LookupDeveloperIdentity takes them.
	if v := p.values[mDeveloperUsers]; v != nil {
		c.eachDeveloperUser(p, v, func(k int, item *yaml.Node) {
			fields := append([]field{raw(mID, fillerID)}, entryFields(item)...)
			if err := c.checkBody("LookupDeveloperIdentity", fields...); err != nil {
				bad(mDeveloperUsers, item.Line, prefixed(fmt.Sprintf("item %d", k+1), err))
			}
		})
	}
}

// eachPrincipalTags checks the shape of PrincipalTags (a mapping of
// provider names to {UseDefaults, PrincipalTags}) and calls fn for each
// entry that has it.
func (c *checker) eachPrincipalTags(p *pool, v *yaml.Node, fn func(provider, entry *yaml.Node)) {
	if v.Kind != yaml.MappingNode {
		c.fail(p, mPrincipalTags, v.Line, errors.New("want a mapping of provider names to {UseDefaults, PrincipalTags}"))
		return
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, e := resolve(v.Content[i]), resolve(v.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			c.fail(p, mPrincipalTags, k.Line, errors.New("a key must be a provider name"))
			continue
		}
		if e.Kind == yaml.ScalarNode && e.ShortTag() == "!!null" {
			fn(k, &yaml.Node{Kind: yaml.MappingNode, Line: e.Line})
			continue
		}
		if e.Kind != yaml.MappingNode {
			c.fail(p, mPrincipalTags, e.Line, fmt.Errorf("%s: want a mapping with UseDefaults and PrincipalTags", k.Value))
			continue
		}
		if err := onlyKeys(e, "UseDefaults", "PrincipalTags"); err != nil {
			c.fail(p, mPrincipalTags, e.Line, prefixed(k.Value, err))
			continue
		}
		fn(k, e)
	}
}

// eachDeveloperUser checks the shape of DeveloperUsers (a list of
// {IdentityId, DeveloperUserIdentifier}) and calls fn for each item that
// has it.
func (c *checker) eachDeveloperUser(p *pool, v *yaml.Node, fn func(k int, item *yaml.Node)) {
	if v.Kind != yaml.SequenceNode {
		c.fail(p, mDeveloperUsers, v.Line, errors.New("want a list of {IdentityId, DeveloperUserIdentifier}"))
		return
	}
	for k, item := range v.Content {
		item = resolve(item)
		if item.Kind != yaml.MappingNode {
			c.fail(p, mDeveloperUsers, item.Line, fmt.Errorf("item %d: want a mapping with IdentityId and DeveloperUserIdentifier", k+1))
			continue
		}
		err := onlyKeys(item, "IdentityId", "DeveloperUserIdentifier")
		for _, required := range []string{"IdentityId", "DeveloperUserIdentifier"} {
			if err == nil && lookup(item, required) == nil {
				err = fmt.Errorf("%s is required", required)
			}
		}
		if err != nil {
			c.fail(p, mDeveloperUsers, item.Line, prefixed(fmt.Sprintf("item %d", k+1), err))
			continue
		}
		fn(k, item)
	}
}

// onlyKeys checks that a mapping has no key but the names given.
func onlyKeys(n *yaml.Node, names ...string) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolve(n.Content[i])
		if !slices.Contains(names, k.Value) {
			return atLine(k.Line, "unknown member %s%s; the members are %s", k.Value, suggest(k.Value, names), strings.Join(names, ", "))
		}
	}
	return nil
}

// lookup is the value of a mapping's key, nil when absent or null.
func lookup(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if resolve(n.Content[i]).Value == key {
			v := resolve(n.Content[i+1])
			if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
				return nil
			}
			return v
		}
	}
	return nil
}

// entryFields are the members of a mapping as body fields.
func entryFields(n *yaml.Node) []field {
	var out []field
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, field{name: resolve(n.Content[i]).Value, node: n.Content[i+1]})
	}
	return out
}

// suggest is a hint for a member name written in the wrong case.
func suggest(name string, known []string) string {
	for _, k := range known {
		if strings.EqualFold(k, name) {
			return fmt.Sprintf(" (did you mean %s?)", k)
		}
	}
	return ""
}

// field is one member of a body to check: a value of the file, or JSON
// text (text, when node is nil).
type field struct {
	name string
	node *yaml.Node
	text string
}

// raw is a field whose value is JSON text.
func raw(name, jsonText string) field { return field{name: name, text: jsonText} }

// body writes the fields as a JSON object.
func body(fields ...field) ([]byte, error) {
	b := []byte{'{'}
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f.name)
		b = append(b, ':')
		if f.node == nil {
			b = append(b, f.text...)
			continue
		}
		v, err := toJSON(f.node)
		if err != nil {
			return nil, err
		}
		b = append(b, v...)
	}
	return append(b, '}'), nil
}

// prefixed puts text before the message of err, keeping its line.
func prefixed(text string, err error) error {
	var le *lineError
	if errors.As(err, &le) {
		return &lineError{line: le.line, msg: text + ": " + le.msg}
	}
	return fmt.Errorf("%s: %s", text, message(err))
}

// checkBody checks the fields as a request body of the operation: members
// the model does not know anywhere inside them first (the API would
// ignore them; a seed refuses them, since they are typos), then the
// model's rules.
func (c *checker) checkBody(opName string, fields ...field) error {
	op := c.m.Operations[opName]
	for _, f := range fields {
		if f.node == nil {
			continue
		}
		for _, mem := range op.Input.Members {
			if mem.Name == f.name {
				if err := unknownMembers(mem.Shape, f.node); err != nil {
					return err
				}
			}
		}
	}
	b, err := body(fields...)
	if err != nil {
		return err
	}
	if aerr := op.Check(b); aerr != nil {
		return aerr
	}
	return nil
}

// unknownMembers finds a member the model does not define in a value of
// the shape: in structures, and in the lists and maps that hold them.
func unknownMembers(s *model.Shape, n *yaml.Node) error {
	n = resolve(n)
	switch {
	case s.Kind == model.Structure && n.Kind == yaml.MappingNode:
		names := make([]string, len(s.Members))
		for i, m := range s.Members {
			names[i] = m.Name
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolve(n.Content[i])
			j := slices.Index(names, k.Value)
			if j < 0 {
				return atLine(k.Line, "unknown member %s%s; the members are %s", k.Value, suggest(k.Value, names), strings.Join(names, ", "))
			}
			if err := unknownMembers(s.Members[j].Shape, n.Content[i+1]); err != nil {
				return err
			}
		}
	case s.Kind == model.List && n.Kind == yaml.SequenceNode:
		for _, item := range n.Content {
			if err := unknownMembers(s.Member, item); err != nil {
				return err
			}
		}
	case s.Kind == model.Map && n.Kind == yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			if err := unknownMembers(s.Value, n.Content[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// decode reads p's members into the service's shapes through the model's
// canonical bodies: the values checked are the values used.
func (c *checker) decode(p *pool) error {
	prepare := func(opName string, dst any, fields ...field) error {
		b, err := body(fields...)
		if err != nil {
			return err
		}
		canon, aerr := c.m.Operations[opName].Prepare(b)
		if aerr != nil {
			return aerr // checked already: not expected
		}
		return json.Unmarshal(canon, dst)
	}
	in := &p.in
	var ids cognito.GetIdInput
	fields := []field{{name: mID, node: p.values[mID]}}
	if v := p.values[mAccount]; v != nil {
		fields = append(fields, field{name: mAccount, node: v})
	}
	if err := prepare("GetId", &ids, fields...); err != nil {
		return err
	}
	in.IdentityPoolId, in.AccountId = ids.IdentityPoolId, ids.AccountId

	var create cognito.CreateIdentityPoolInput
	fields = nil
	for _, mem := range c.m.Operations["CreateIdentityPool"].Input.Members {
		if v := p.values[mem.Name]; v != nil {
			fields = append(fields, field{name: mem.Name, node: v})
		}
	}
	if err := prepare("CreateIdentityPool", &create, fields...); err != nil {
		return err
	}
	in.PoolSettings = create.PoolSettings

	var roles cognito.SetIdentityPoolRolesInput
	fields = []field{raw(mID, fillerID), raw(mRoles, "{}")}
	if v := p.values[mRoles]; v != nil {
		fields[1] = field{name: mRoles, node: v}
	}
	if v := p.values[mRoleMappings]; v != nil {
		fields = append(fields, field{name: mRoleMappings, node: v})
	}
	if err := prepare("SetIdentityPoolRoles", &roles, fields...); err != nil {
		return err
	}
	in.Roles, in.RoleMappings = roles.Roles, roles.RoleMappings

	if v := p.values[mPrincipalTags]; v != nil {
		in.PrincipalTags = map[string]cognito.PrincipalTagSetting{}
		for i := 0; i+1 < len(v.Content); i += 2 {
			k, e := resolve(v.Content[i]), resolve(v.Content[i+1])
			var t cognito.SetPrincipalTagAttributeMapInput
			fields := []field{raw(mID, fillerID), raw("IdentityProviderName", string(appendString(nil, k.Value)))}
			if e.Kind == yaml.MappingNode {
				fields = append(fields, entryFields(e)...)
			}
			if err := prepare("SetPrincipalTagAttributeMap", &t, fields...); err != nil {
				return err
			}
			in.PrincipalTags[k.Value] = cognito.PrincipalTagSetting{UseDefaults: t.UseDefaults, PrincipalTags: t.PrincipalTags}
		}
	}
	if v := p.values[mDeveloperUsers]; v != nil {
		for _, item := range v.Content {
			var u cognito.LookupDeveloperIdentityInput
			if err := prepare("LookupDeveloperIdentity", &u, append([]field{raw(mID, fillerID)}, entryFields(resolve(item))...)...); err != nil {
				return err
			}
			in.DeveloperUsers = append(in.DeveloperUsers, cognito.SeededDeveloperUser{IdentityId: u.IdentityId, DeveloperUserIdentifier: u.DeveloperUserIdentifier})
		}
	}
	return nil
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b string) int { return m[a] - m[b] })
	return out
}
