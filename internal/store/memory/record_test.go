package memory

import (
	"reflect"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/store"
)

// fullPool sets every field of a store.Pool, nested ones included.
func fullPool() *store.Pool {
	no, maybe, check := false, true, true
	return &store.Pool{
		ID: "us-east-1:p", Account: "123456789012", Region: "us-east-1", Name: "n",
		AllowUnauthenticated:      true,
		AllowClassicFlow:          &no,
		SupportedLoginProviders:   map[string]string{"graph.facebook.com": "1"},
		DeveloperProviderName:     "dev",
		OpenIDConnectProviderARNs: []string{"arn:oidc"},
		CognitoIdentityProviders:  []store.CognitoProvider{{ProviderName: "cip", ClientID: "c", ServerSideTokenCheck: &check}},
		SAMLProviderARNs:          []string{"arn:saml"},
		Tags:                      map[string]string{"k": "v"},
		Roles:                     map[string]string{"authenticated": "arn:role"},
		RoleMappings: map[string]store.RoleMapping{"cip": {Type: "Rules", AmbiguousRoleResolution: "Deny",
			RulesConfiguration: &store.RulesConfiguration{Rules: []store.MappingRule{{Claim: "c", MatchType: "Equals", Value: "v", RoleARN: "arn:r"}}}}},
		PrincipalTags: map[string]store.PrincipalTagMap{"cip": {UseDefaults: &maybe, PrincipalTags: map[string]string{"a": "b"}}},
		CreatedAt:     time.Unix(1, 0).UTC(),
		UpdatedAt:     time.Unix(2, 0).UTC(),
		Version:       3,
	}
}

// TestClonePoolCopiesEveryField: the fixture sets every field (so a new one
// fails here until the fixture, and clonePool, know it), the clone is equal
// to it, and no map, slice or pointer of the clone is shared with it.
func TestClonePoolCopiesEveryField(t *testing.T) {
	p := fullPool()
	v := reflect.ValueOf(p).Elem()
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Errorf("fixture leaves store.Pool.%s unset: set it, and copy it in clonePool if it holds references", v.Type().Field(i).Name)
		}
	}
	c := clonePool(p)
	if !reflect.DeepEqual(c, p) {
		t.Fatalf("clone differs:\n got %+v\nwant %+v", c, p)
	}
	for _, path := range shared(reflect.ValueOf(c).Elem(), reflect.ValueOf(p).Elem(), "Pool") {
		t.Errorf("clone shares %s with the original", path)
	}
	// nil stays nil and empty stays empty.
	empty := &store.Pool{Tags: map[string]string{}, SAMLProviderARNs: []string{}}
	ce := clonePool(empty)
	if ce.Tags == nil || ce.SAMLProviderARNs == nil || ce.Roles != nil || ce.OpenIDConnectProviderARNs != nil {
		t.Errorf("clone of empty and nil fields: %+v", ce)
	}
}

// shared returns the paths at which a and b hold the same map, slice or
// pointer.
func shared(a, b reflect.Value, path string) []string {
	var out []string
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return nil
		}
		if a.Pointer() == b.Pointer() {
			out = append(out, path)
		}
		out = append(out, shared(a.Elem(), b.Elem(), "*"+path)...)
	case reflect.Map:
		if a.IsNil() || b.IsNil() {
			return nil
		}
		if a.Pointer() == b.Pointer() {
			out = append(out, path)
		}
		for _, k := range a.MapKeys() {
			out = append(out, shared(a.MapIndex(k), b.MapIndex(k), path+"["+k.String()+"]")...)
		}
	case reflect.Slice:
		if a.IsNil() || b.IsNil() || a.Len() == 0 {
			return nil
		}
		if a.Pointer() == b.Pointer() {
			out = append(out, path)
		}
		for i := range a.Len() {
			out = append(out, shared(a.Index(i), b.Index(i), path+"[i]")...)
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if a.Type().Field(i).IsExported() {
				out = append(out, shared(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name)...)
			}
		}
	}
	return out
}
