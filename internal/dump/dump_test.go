package dump_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/dump"
	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/tokens"
)

var (
	base      = time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)
	secretA   = [][]byte{bytes.Repeat([]byte{'a'}, 32)}
	secretB   = [][]byte{bytes.Repeat([]byte{'b'}, 32)}
	exportAt  = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	developer = "login.example.dev"
)

func ptr[T any](v T) *T { return &v }

// fullPool sets every field of a pool.
func fullPool(n int, account, region string) *store.Pool {
	at := base.Add(time.Duration(n) * time.Second)
	return &store.Pool{
		ID:                        fmt.Sprintf("%s:00000000-0000-4000-8000-%012d", region, n),
		Account:                   account,
		Region:                    region,
		Name:                      fmt.Sprintf("pool_%d", n),
		AllowUnauthenticated:      n%2 == 0,
		AllowClassicFlow:          ptr(n%3 == 0),
		SupportedLoginProviders:   map[string]string{"graph.facebook.com": "fb-app", "accounts.google.com": "g-client"},
		DeveloperProviderName:     developer,
		OpenIDConnectProviderARNs: []string{"arn:aws:iam::123456789012:oidc-provider/issuer.example.com"},
		CognitoIdentityProviders: []store.CognitoProvider{
			{ProviderName: "cognito-idp.us-east-1.amazonaws.com/us-east-1_abc", ClientID: "client1", ServerSideTokenCheck: ptr(true)},
			{ProviderName: "cognito-idp.us-east-1.amazonaws.com/us-east-1_def", ClientID: "client2"},
		},
		SAMLProviderARNs: []string{"arn:aws:iam::123456789012:saml-provider/corp"},
		Tags:             map[string]string{"team": "a", "empty": "", "ünïcode": "<&>"},
		Roles:            map[string]string{"authenticated": "arn:aws:iam::123456789012:role/auth", "unauthenticated": "arn:aws:iam::123456789012:role/unauth"},
		RoleMappings: map[string]store.RoleMapping{
			"graph.facebook.com": {Type: "Token", AmbiguousRoleResolution: "Deny"},
			"cognito-idp.us-east-1.amazonaws.com/us-east-1_abc:client1": {Type: "Rules", AmbiguousRoleResolution: "AuthenticatedRole",
				RulesConfiguration: &store.RulesConfiguration{Rules: []store.MappingRule{
					{Claim: "group", MatchType: "Equals", Value: "admin", RoleARN: "arn:aws:iam::123456789012:role/admin"},
					{Claim: "email", MatchType: "Contains", Value: "@example.com", RoleARN: "arn:aws:iam::123456789012:role/staff"},
				}}},
		},
		PrincipalTags: map[string]store.PrincipalTagMap{
			"graph.facebook.com":  {UseDefaults: ptr(false), PrincipalTags: map[string]string{"user": "sub"}},
			"accounts.google.com": {UseDefaults: ptr(true)},
		},
		CreatedAt: at,
		UpdatedAt: at.Add(time.Hour),
	}
}

// contents is what seed put in a store, to compare against.
type contents struct {
	pools      []*store.Pool
	identities int
	logins     int
}

// seed fills s: two signing keys made by the token signer (one rotated
// out), pools of two accounts and regions with every setting, and in the
// first pool more identities than one page of the export, of every kind:
// guests, linked to providers, developer users, several logins, disabled.
func seed(t *testing.T, s store.Store, pools, identities int) contents {
	t.Helper()
	ctx := context.Background()
	ring, err := tokens.NewKeyRing(tokens.KeyRingOptions{Store: s, Secrets: secretA, Clock: func() time.Time { return base }, KIDPrefix: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ring.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ring.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	var c contents
	for i := range pools {
		account, region := "111111111111", "us-east-1"
		if i%2 == 1 {
			account, region = "222222222222", "eu-west-1"
		}
		p := fullPool(i, account, region)
		if i == 1 {
			// A pool with nothing set but what the API requires.
			p = &store.Pool{ID: p.ID, Account: account, Region: region, Name: "bare", CreatedAt: p.CreatedAt, UpdatedAt: p.CreatedAt}
		}
		if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertPool(ctx, p) }); err != nil {
			t.Fatal(err)
		}
		c.pools = append(c.pools, p)
	}
	p := c.pools[0]
	var batch []*store.Identity
	for i := range identities {
		at := base.Add(time.Duration(i) * time.Millisecond)
		id := &store.Identity{ID: fmt.Sprintf("us-east-1:10000000-0000-4000-8000-%012d", i), PoolID: p.ID, CreatedAt: at, UpdatedAt: at.Add(time.Duration(i%7) * time.Minute)}
		login := func(provider, subject string) {
			id.Logins = append(id.Logins, store.Login{PoolID: p.ID, Provider: provider, Subject: subject, IdentityID: id.ID})
		}
		switch i % 5 {
		case 1:
			login("graph.facebook.com", fmt.Sprintf("fb-%d", i))
		case 2:
			login(developer, fmt.Sprintf("dev user %d ✓", i))
		case 3:
			login("accounts.google.com", fmt.Sprintf("g-%d", i))
			login(developer, fmt.Sprintf("dev-%d", i))
			login("graph.facebook.com", fmt.Sprintf("fb-%d", i))
		case 4:
			if i%10 == 4 {
				id.Disabled = true // merged away: no logins left
			}
		}
		c.identities++
		c.logins += len(id.Logins)
		batch = append(batch, id)
		if len(batch) == 500 || i == identities-1 {
			err := s.Update(ctx, func(tx store.Tx) error {
				for _, id := range batch {
					if err := tx.InsertIdentity(ctx, id); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	// One identity in another pool.
	other := &store.Identity{ID: "eu-west-1:20000000-0000-4000-8000-000000000001", PoolID: c.pools[1].ID, CreatedAt: base, UpdatedAt: base,
		Logins: []store.Login{{PoolID: c.pools[1].ID, Provider: "graph.facebook.com", Subject: "fb-1", IdentityID: "eu-west-1:20000000-0000-4000-8000-000000000001"}}}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertIdentity(ctx, other) }); err != nil {
		t.Fatal(err)
	}
	c.identities++
	c.logins++
	return c
}

func export(t *testing.T, s store.Reader) (string, dump.Counts) {
	t.Helper()
	var buf bytes.Buffer
	n, err := dump.Export(context.Background(), s, &buf, exportAt)
	if err != nil {
		t.Fatal(err)
	}
	return buf.String(), n
}

func importString(t *testing.T, s store.Store, stream string, o dump.Options) (dump.Result, error) {
	t.Helper()
	r, err := dump.NewReader(strings.NewReader(stream))
	if err != nil {
		return dump.Result{}, err
	}
	return dump.Import(context.Background(), s, r, o)
}

// TestDumpRoundTrip exports every backend, imports the stream into every
// backend, in small transactions, and exports again: the second stream is
// the first, byte for byte, and the target holds every record as it was.
func TestDumpRoundTrip(t *testing.T) {
	all := backends(t)
	for _, src := range all {
		for _, dst := range all {
			t.Run(src.name+"_to_"+dst.name, func(t *testing.T) {
				from, to := src.open(t), dst.open(t)
				want := seed(t, from, 105, 1100) // more than a page of pools and of identities
				first, n := export(t, from)
				if n.Pools != 105 || n.Identities != want.identities || n.Logins != want.logins || n.Keys != 2 {
					t.Errorf("export counted %v, want 2 keys, 105 pools, %d identities (%d logins)", n, want.identities, want.logins)
				}
				res, err := importString(t, to, first, dump.Options{BatchSize: 100, Secrets: secretA})
				if err != nil {
					t.Fatal(err)
				}
				if res.Imported != n || res.Skipped != (dump.Counts{}) || len(res.ReplacedKeys) != 0 {
					t.Errorf("import: %+v, want %v imported", res, n)
				}
				if lines := strings.Count(first, "\n"); res.Line != lines {
					t.Errorf("import reports line %d, the stream has %d", res.Line, lines)
				}
				second, _ := export(t, to)
				if second != first {
					t.Errorf("second export differs from the first:\n%s", firstDifference(first, second))
				}
				checkSame(t, from, to, want)
			})
		}
	}
}

// checkSame compares two stores record by record, through the store API.
func checkSame(t *testing.T, a, b store.Store, c contents) {
	t.Helper()
	ctx := context.Background()
	ka, err := a.ListSigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := b.ListSigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ka, kb) {
		t.Errorf("signing keys differ:\n%+v\n%+v", ka, kb)
	}
	for _, p := range c.pools {
		pa, err := a.GetPool(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		pb, err := b.GetPool(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		pa.Version, pb.Version = 0, 0
		if !reflect.DeepEqual(pa, pb) {
			t.Errorf("pool %s differs:\n%+v\n%+v", p.ID, pa, pb)
		}
		ia, err := a.ListIdentities(ctx, p.ID, nil, 10000, false)
		if err != nil {
			t.Fatal(err)
		}
		ib, err := b.ListIdentities(ctx, p.ID, nil, 10000, false)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ia, ib) {
			t.Errorf("identities of pool %s differ", p.ID)
		}
	}
}

func firstDifference(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d:\n  %s\n  %s", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("%d lines, then %d", len(la), len(lb))
}

// TestExportFormat pins version 1 of the format: one line of each type, every
// field named as the format names it.
func TestExportFormat(t *testing.T) {
	s := openSQLite(t)
	ctx := context.Background()
	p := fullPool(0, "111111111111", "us-east-1")
	p.RoleMappings = map[string]store.RoleMapping{"graph.facebook.com": {Type: "Token", AmbiguousRoleResolution: "Deny"}}
	p.CognitoIdentityProviders = p.CognitoIdentityProviders[:1]
	p.PrincipalTags = map[string]store.PrincipalTagMap{"graph.facebook.com": {UseDefaults: ptr(false), PrincipalTags: map[string]string{"user": "sub"}}}
	retires := base.Add(time.Minute)
	err := s.Update(ctx, func(tx store.Tx) error {
		for _, k := range []*store.SigningKey{
			{ID: "us-east-11", Sealed: []byte("sealed one"), CreatedAt: base, RetiresAt: &retires},
			{ID: "us-east-12", Sealed: []byte("sealed two"), CreatedAt: base.Add(time.Second)},
		} {
			if err := tx.InsertSigningKey(ctx, k); err != nil {
				return err
			}
		}
		if err := tx.InsertPool(ctx, p); err != nil {
			return err
		}
		for _, id := range []*store.Identity{
			{ID: "us-east-1:a", PoolID: p.ID, CreatedAt: base, UpdatedAt: base},
			{ID: "us-east-1:b", PoolID: p.ID, CreatedAt: base.Add(1), UpdatedAt: base.Add(2), Logins: []store.Login{
				{PoolID: p.ID, Provider: developer, Subject: "alice", IdentityID: "us-east-1:b"},
				{PoolID: p.ID, Provider: "graph.facebook.com", Subject: "123", IdentityID: "us-east-1:b"},
			}},
			{ID: "us-east-1:c", PoolID: p.ID, CreatedAt: base.Add(3), UpdatedAt: base.Add(4), Disabled: true},
		} {
			if err := tx.InsertIdentity(ctx, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := export(t, s)
	want := `{"format":"idpool-export","version":1,"exported":"2026-05-06T07:08:09Z"}
{"type":"key","id":"us-east-11","sealed":"c2VhbGVkIG9uZQ==","created":"2026-03-04T05:06:07.123456789Z","retires":"2026-03-04T05:07:07.123456789Z"}
{"type":"key","id":"us-east-12","sealed":"c2VhbGVkIHR3bw==","created":"2026-03-04T05:06:08.123456789Z"}
{"type":"pool","id":"us-east-1:00000000-0000-4000-8000-000000000000","account":"111111111111","region":"us-east-1","name":"pool_0","allowUnauthenticated":true,"allowClassicFlow":true,"supportedLoginProviders":{"accounts.google.com":"g-client","graph.facebook.com":"fb-app"},"developerProviderName":"login.example.dev","openIdConnectProviderArns":["arn:aws:iam::123456789012:oidc-provider/issuer.example.com"],"cognitoIdentityProviders":[{"ProviderName":"cognito-idp.us-east-1.amazonaws.com/us-east-1_abc","ClientId":"client1","ServerSideTokenCheck":true}],"samlProviderArns":["arn:aws:iam::123456789012:saml-provider/corp"],"tags":{"empty":"","team":"a","ünïcode":"<&>"},"roles":{"authenticated":"arn:aws:iam::123456789012:role/auth","unauthenticated":"arn:aws:iam::123456789012:role/unauth"},"roleMappings":{"graph.facebook.com":{"Type":"Token","AmbiguousRoleResolution":"Deny"}},"principalTags":{"graph.facebook.com":{"UseDefaults":false,"PrincipalTags":{"user":"sub"}}},"created":"2026-03-04T05:06:07.123456789Z","updated":"2026-03-04T06:06:07.123456789Z"}
{"type":"identity","id":"us-east-1:a","pool":"us-east-1:00000000-0000-4000-8000-000000000000","created":"2026-03-04T05:06:07.123456789Z","updated":"2026-03-04T05:06:07.123456789Z"}
{"type":"identity","id":"us-east-1:b","pool":"us-east-1:00000000-0000-4000-8000-000000000000","created":"2026-03-04T05:06:07.12345679Z","updated":"2026-03-04T05:06:07.123456791Z","logins":[{"provider":"graph.facebook.com","subject":"123"},{"provider":"login.example.dev","subject":"alice"}]}
{"type":"identity","id":"us-east-1:c","pool":"us-east-1:00000000-0000-4000-8000-000000000000","created":"2026-03-04T05:06:07.123456792Z","updated":"2026-03-04T05:06:07.123456793Z","disabled":true}
{"type":"end","keys":2,"pools":1,"identities":3,"logins":2}
`
	if got != want {
		t.Errorf("export:\n%s\nwant:\n%s\n%s", got, want, firstDifference(got, want))
	}
}

// TestImportRefusesMalformed feeds streams that are wrong in one place: each is
// refused naming the line, and nothing reaches the store.
func TestImportRefusesMalformed(t *testing.T) {
	source := openSQLite(t)
	seed(t, source, 2, 3)
	good, _ := export(t, source)
	lines := strings.Split(strings.TrimSuffix(good, "\n"), "\n")
	// lines: 0 header, 1-2 keys, 3 pool 0, 4-6 its identities, 7 pool 1, 8 its identity, 9 end.
	if len(lines) != 10 {
		t.Fatalf("the seeded export has %d lines:\n%s", len(lines), good)
	}
	with := func(i int, line string) string {
		c := append([]string(nil), lines...)
		c[i] = line
		return strings.Join(c, "\n") + "\n"
	}
	without := func(i int) string {
		c := append(append([]string(nil), lines[:i]...), lines[i+1:]...)
		return strings.Join(c, "\n") + "\n"
	}
	swap := func(i, j int) string {
		c := append([]string(nil), lines...)
		c[i], c[j] = c[j], c[i]
		return strings.Join(c, "\n") + "\n"
	}
	tests := []struct {
		name   string
		stream string
		line   int    // 0: not a line's error
		want   string // in the message
	}{
		{"empty input", "", 0, "empty input: not an idpool export"},
		{"not JSON", "hello\n", 1, "line 1: not an idpool export"},
		{"another format", `{"format":"other","version":1}` + "\n", 1, "not an idpool export"},
		{"a newer version", with(0, `{"format":"idpool-export","version":2,"exported":"2026-01-01T00:00:00Z","more":1}`), 1, "line 1: export format version 2; this idpool reads version 1 only"},
		{"header with an unknown field", with(0, `{"format":"idpool-export","version":1,"exported":"2026-01-01T00:00:00Z","x":1}`), 1, `header: json: unknown field "x"`},
		{"header without a time", with(0, `{"format":"idpool-export","version":1}`), 1, "no export time"},
		{"a broken line", with(4, `{"type":"identity","id":`), 5, "line 5: not a JSON object"},
		{"an unknown type", with(5, `{"type":"user","id":"x"}`), 6, `line 6: unknown record type "user"`},
		{"no type", with(5, `{"id":"x"}`), 6, "line 6: no record type"},
		{"an unknown field", with(4, strings.Replace(lines[4], `"type":"identity"`, `"type":"identity","colour":"red"`, 1)), 5, `line 5: identity: json: unknown field "colour"`},
		{"an empty line", with(6, ""), 7, "line 7: empty line"},
		{"a key after a pool", swap(2, 3), 4, "line 4: a signing key after the first pool"},
		{"an identity before its pool", swap(7, 8), 8, "does not follow its pool's line"},
		{"a disabled identity with logins", with(5, strings.Replace(lines[5], `"updated"`, `"disabled":true,"updated"`, 1)), 6, "disabled, yet it holds logins"},
		{"a key without material", with(1, `{"type":"key","id":"k","sealed":"","created":"2026-01-01T00:00:00Z"}`), 2, "line 2: key k: no sealed key material"},
		{"a key twice", with(2, lines[1]), 3, "line 3: key us-east-11: a second time"},
		{"a cut stream", strings.Join(lines[:7], "\n") + "\n", 8, "line 8: the input ends without the end line: the export was cut short"},
		{"a line missing", without(5), 9, "line 9: the end line counts 2 signing keys, 2 pools, 4 identities"},
		{"a line after the end", good + lines[5] + "\n", 11, "line 11: a line after the end line"},
		{"a line too long", with(5, `{"type":"identity","id":"`+strings.Repeat("x", 17<<20)+`"}`), 6, "line 6: longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := openSQLite(t)
			res, err := importString(t, target, tt.stream, dump.Options{Secrets: secretA})
			if err == nil {
				t.Fatal("imported")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
			var le *dump.LineError
			if errors.As(err, &le) != (tt.line > 0) || (le != nil && le.Line != tt.line) {
				t.Errorf("error %v: line %v, want %d", err, le, tt.line)
			}
			if !reflect.DeepEqual(res, dump.Result{}) {
				t.Errorf("result %+v, want nothing imported", res)
			}
			if got, _ := export(t, target); strings.Count(got, "\n") != 2 {
				t.Errorf("the target was written to:\n%s", got)
			}
		})
	}
}
