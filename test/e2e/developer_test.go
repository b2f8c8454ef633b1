package e2e

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
)

func devLogin(user string) map[string]string { return map[string]string{devProvider: user} }

func (w *world) developerErr(t testing.TB, in *cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput) error {
	t.Helper()
	if in.IdentityPoolId == nil {
		in.IdentityPoolId = aws.String(w.pool)
	}
	_, err := w.admin.GetOpenIdTokenForDeveloperIdentity(t.Context(), in)
	return err
}

func (w *world) devID(t testing.TB, user string, more map[string]string) string {
	t.Helper()
	logins := devLogin(user)
	for k, v := range more {
		logins[k] = v
	}
	return aws.ToString(w.developerToken(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{Logins: logins}).IdentityId)
}

func (w *world) lookup(t testing.TB, in *cognitoidentity.LookupDeveloperIdentityInput) *cognitoidentity.LookupDeveloperIdentityOutput {
	t.Helper()
	in.IdentityPoolId = aws.String(w.pool)
	out, err := w.admin.LookupDeveloperIdentity(t.Context(), in)
	if err != nil {
		t.Fatalf("LookupDeveloperIdentity: %v", err)
	}
	return out
}

func (w *world) lookupErr(t testing.TB, in *cognitoidentity.LookupDeveloperIdentityInput) error {
	t.Helper()
	in.IdentityPoolId = aws.String(w.pool)
	_, err := w.admin.LookupDeveloperIdentity(t.Context(), in)
	return err
}

func (w *world) merge(t testing.TB, src, dst string) (string, error) {
	t.Helper()
	out, err := w.admin.MergeDeveloperIdentities(t.Context(), &cognitoidentity.MergeDeveloperIdentitiesInput{
		IdentityPoolId: aws.String(w.pool), DeveloperProviderName: aws.String(devProvider),
		SourceUserIdentifier: aws.String(src), DestinationUserIdentifier: aws.String(dst),
	})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.IdentityId), nil
}

func (w *world) unlinkDev(t testing.TB, id, user string) error {
	t.Helper()
	_, err := w.admin.UnlinkDeveloperIdentity(t.Context(), &cognitoidentity.UnlinkDeveloperIdentityInput{
		IdentityPoolId: aws.String(w.pool), IdentityId: aws.String(id),
		DeveloperProviderName: aws.String(devProvider), DeveloperUserIdentifier: aws.String(user),
	})
	return err
}

func TestDeveloperIdentities(t *testing.T) {
	env := Start(t, Options{})
	w := worldIn(t, env, loginPoolInput("developer"))

	t.Run("create and reuse", func(t *testing.T) {
		out := w.developerToken(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{Logins: devLogin("user-1")})
		id := aws.ToString(out.IdentityId)
		if !identityIDPattern.MatchString(id) {
			t.Fatalf("identity id %q", id)
		}
		if again := w.devID(t, "user-1", nil); again != id {
			t.Errorf("second call for user-1 = %s, want %s", again, id)
		}
		wantEqual(t, "logins", w.linked(t, id), []string{devProvider})
		if life := payload(t, aws.ToString(out.Token))["exp"].(float64) - payload(t, aws.ToString(out.Token))["iat"].(float64); life != 900 {
			t.Errorf("default token lifetime %v s, want 900", life)
		}
		// The developer provider is not a login an app may present.
		_, err := w.app.GetId(t.Context(), &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(w.pool), Logins: devLogin("user-1")})
		APIError(t, err, "NotAuthorizedException", msgUnsupported)
	})

	t.Run("public logins linked with the developer user", func(t *testing.T) {
		id := w.devID(t, "user-4", map[string]string{google: googleToken("g-user-4")})
		wantEqual(t, "logins", w.linked(t, id), []string{google, devProvider})
		if got := w.getID(t, map[string]string{google: googleToken("g-user-4")}); got != id {
			t.Errorf("GetId with the linked Google login = %s, want %s", got, id)
		}
		// A known public login finds its identity, to which the new
		// developer user is linked.
		fbID := w.getID(t, map[string]string{fb: "fb-user-5"})
		if got := w.devID(t, "user-5", map[string]string{fb: "fb-user-5"}); got != fbID {
			t.Errorf("developer user with a known Facebook login = %s, want %s", got, fbID)
		}
	})

	t.Run("IdentityId links a guest", func(t *testing.T) {
		guest := w.getID(t, nil)
		out := w.developerToken(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityId: aws.String(guest), Logins: devLogin("user-2")})
		if got := aws.ToString(out.IdentityId); got != guest {
			t.Fatalf("IdentityId = %s, want the guest %s", got, guest)
		}
		wantEqual(t, "logins of the former guest", w.linked(t, guest), []string{devProvider})
		if got := w.devID(t, "user-2", nil); got != guest {
			t.Errorf("user-2 later finds %s, want %s", got, guest)
		}
		// Naming the identity the user already has is fine.
		if got := aws.ToString(w.developerToken(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityId: aws.String(guest), Logins: devLogin("user-2")}).IdentityId); got != guest {
			t.Errorf("IdentityId = %s, want %s", got, guest)
		}
		// A second developer user on the same identity (the backend's
		// signed assertion is the proof).
		if got := aws.ToString(w.developerToken(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityId: aws.String(guest), Logins: devLogin("user-2b")}).IdentityId); got != guest {
			t.Errorf("IdentityId = %s, want %s", got, guest)
		}
		wantEqual(t, "developer users", w.lookup(t, &cognitoidentity.LookupDeveloperIdentityInput{IdentityId: aws.String(guest)}).DeveloperUserIdentifierList, []string{"user-2", "user-2b"})
	})

	t.Run("IdentityId of an identity with other logins needs proof", func(t *testing.T) {
		x := w.getID(t, map[string]string{fb: "fb-user-3"})
		err := w.developerErr(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityId: aws.String(x), Logins: devLogin("user-3")})
		APIError(t, err, "NotAuthorizedException", msgLoginsMismatch)
		wantEqual(t, "logins after the refusal", w.linked(t, x), []string{fb})
		out := w.developerToken(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityId: aws.String(x), Logins: map[string]string{devProvider: "user-3", fb: "fb-user-3"}})
		if got := aws.ToString(out.IdentityId); got != x {
			t.Errorf("IdentityId = %s, want %s", got, x)
		}
		wantEqual(t, "logins", w.linked(t, x), []string{fb, devProvider})
	})

	t.Run("a second user of a linked provider", func(t *testing.T) {
		w.devID(t, "user-6", map[string]string{fb: "fb-user-6"})
		err := w.developerErr(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{Logins: map[string]string{devProvider: "user-6", fb: "fb-other"}})
		APIError(t, err, "ResourceConflictException", conflictOf(fb))
	})

	t.Run("principal tags and token duration", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			duration *int64
			want     float64
		}{
			{"default", nil, 900},
			{"one second", aws.Int64(1), 1},
			{"an hour", aws.Int64(3600), 3600},
			{"a day", aws.Int64(86400), 86400},
		} {
			t.Run(tc.name, func(t *testing.T) {
				out := w.developerToken(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
					Logins: devLogin("tagged"), TokenDuration: tc.duration, PrincipalTags: map[string]string{"k": "v"},
				})
				c := payload(t, aws.ToString(out.Token))
				if life := c["exp"].(float64) - c["iat"].(float64); life != tc.want {
					t.Errorf("token lifetime %v s, want %v", life, tc.want)
				}
				wantEqual(t, "tags claim", c["https://aws.amazon.com/tags"], map[string]any{"principal_tags": map[string]any{"k": []any{"v"}}})
			})
		}
	})

	missing := "us-east-1:00000000-0000-4000-8000-000000000000"
	other := worldIn(t, env, loginPoolInput("other-developer"))
	otherGuest := other.getID(t, nil)
	noDev := loginPoolInput("no-developer")
	noDev.DeveloperProviderName = nil
	plain := worldIn(t, env, noDev)
	registered := w.devID(t, "user-1", nil)
	guest := w.getID(t, nil)
	refusals := []struct {
		name      string
		client    *cognitoidentity.Client
		in        *cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput
		code, msg string
	}{
		{"developer user registered with another identity", w.admin, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityId: aws.String(guest), Logins: devLogin("user-1")},
			"DeveloperUserAlreadyRegisteredException", "The developer user identifier 'user-1' is already registered with identity '" + registered + "'."},
		{"wrong developer provider name", w.admin, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{Logins: map[string]string{"login.other.app": "user-1"}},
			"NotAuthorizedException", msgDeveloperName},
		{"only public logins", w.admin, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{Logins: map[string]string{fb: "fb-x"}},
			"NotAuthorizedException", msgDeveloperName},
		{"pool without a developer provider", w.admin, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityPoolId: aws.String(plain.pool), Logins: devLogin("user-1")},
			"NotAuthorizedException", msgDeveloperName},
		{"unknown identity", w.admin, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityId: aws.String(missing), Logins: devLogin("user-new")},
			"ResourceNotFoundException", identityNotFound(missing)},
		{"identity of another pool", w.admin, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityId: aws.String(otherGuest), Logins: devLogin("user-new")},
			"ResourceNotFoundException", identityNotFound(otherGuest)},
		{"pool of another account", env.Client(AccountB, USEast1), &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{Logins: devLogin("user-1")},
			"ResourceNotFoundException", notFound(w.pool)},
		{"invalid public token", w.admin, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{Logins: map[string]string{devProvider: "user-new", userPool1: userPoolToken(userPool1, "client9", "s", nil)}},
			"NotAuthorizedException", msgUnsupported},
		{"idpool's own token", w.admin, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{Logins: map[string]string{devProvider: "user-new", cognitoKey: "a.b.c"}},
			"NotAuthorizedException", msgCognitoToken},
		{"TokenDuration 0", w.admin, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{Logins: devLogin("user-1"), TokenDuration: aws.Int64(0)},
			"ValidationException", validation("Value '0' at 'tokenDuration' failed to satisfy constraint: Member must have value greater than or equal to 1")},
		{"TokenDuration 86401", w.admin, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{Logins: devLogin("user-1"), TokenDuration: aws.Int64(86401)},
			"ValidationException", validation("Value '86401' at 'tokenDuration' failed to satisfy constraint: Member must have value less than or equal to 86400")},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			if tc.in.IdentityPoolId == nil {
				tc.in.IdentityPoolId = aws.String(w.pool)
			}
			_, err := tc.client.GetOpenIdTokenForDeveloperIdentity(t.Context(), tc.in)
			APIError(t, err, tc.code, tc.msg)
		})
	}
	if l := w.linked(t, guest); l != nil {
		t.Errorf("refusals linked %v to the guest", l)
	}
	// No refused request registered its developer user.
	APIError(t, w.lookupErr(t, &cognitoidentity.LookupDeveloperIdentityInput{DeveloperUserIdentifier: aws.String("user-new")}),
		"ResourceNotFoundException", "Developer user identifier 'user-new' not found.")

	t.Run("not affected by the pool switches", func(t *testing.T) {
		in := loginPoolInput("strict")
		in.AllowClassicFlow = aws.Bool(false)
		in.AllowUnauthenticatedIdentities = false
		sw := worldIn(t, env, in)
		sw.devID(t, "user-1", nil)
	})
}

func TestLookupDeveloperIdentity(t *testing.T) {
	env := Start(t, Options{})
	w := worldIn(t, env, loginPoolInput("lookup"))
	// One identity with three developer users, merged in out of order.
	id := w.devID(t, "mid", nil)
	for _, u := range []string{"zed", "amy"} {
		w.devID(t, u, nil)
		if got, err := w.merge(t, u, "mid"); err != nil || got != id {
			t.Fatalf("merge %s into mid: %s, %v", u, got, err)
		}
	}
	single := w.devID(t, "solo", nil)
	guest := w.getID(t, nil)

	t.Run("by identity", func(t *testing.T) {
		out := w.lookup(t, &cognitoidentity.LookupDeveloperIdentityInput{IdentityId: aws.String(id)})
		if aws.ToString(out.IdentityId) != id || out.NextToken != nil {
			t.Errorf("IdentityId %s NextToken %v", aws.ToString(out.IdentityId), out.NextToken)
		}
		wantEqual(t, "users", out.DeveloperUserIdentifierList, []string{"amy", "mid", "zed"})
	})
	t.Run("by user", func(t *testing.T) {
		for _, u := range []string{"amy", "mid", "zed"} {
			out := w.lookup(t, &cognitoidentity.LookupDeveloperIdentityInput{DeveloperUserIdentifier: aws.String(u)})
			if aws.ToString(out.IdentityId) != id {
				t.Errorf("%s: IdentityId %s, want %s", u, aws.ToString(out.IdentityId), id)
			}
			wantEqual(t, u+": users", out.DeveloperUserIdentifierList, []string{"amy", "mid", "zed"})
		}
	})
	t.Run("by both", func(t *testing.T) {
		out := w.lookup(t, &cognitoidentity.LookupDeveloperIdentityInput{IdentityId: aws.String(single), DeveloperUserIdentifier: aws.String("solo")})
		if aws.ToString(out.IdentityId) != single {
			t.Errorf("IdentityId %s, want %s", aws.ToString(out.IdentityId), single)
		}
		wantEqual(t, "users", out.DeveloperUserIdentifierList, []string{"solo"})
		APIError(t, w.lookupErr(t, &cognitoidentity.LookupDeveloperIdentityInput{IdentityId: aws.String(single), DeveloperUserIdentifier: aws.String("amy")}),
			"ResourceConflictException", "Developer user identifier 'amy' is not linked to identity '"+single+"'.")
	})
	t.Run("pages", func(t *testing.T) {
		var got []string
		var next *string
		pages := 0
		for {
			out := w.lookup(t, &cognitoidentity.LookupDeveloperIdentityInput{IdentityId: aws.String(id), MaxResults: aws.Int32(2), NextToken: next})
			pages++
			if len(out.DeveloperUserIdentifierList) > 2 {
				t.Fatalf("page of %d users for MaxResults 2", len(out.DeveloperUserIdentifierList))
			}
			got = append(got, out.DeveloperUserIdentifierList...)
			if out.NextToken == nil {
				break
			}
			next = out.NextToken
		}
		wantEqual(t, "users over pages", got, []string{"amy", "mid", "zed"})
		if pages != 2 {
			t.Errorf("%d pages, want 2", pages)
		}
		APIError(t, w.lookupErr(t, &cognitoidentity.LookupDeveloperIdentityInput{IdentityId: aws.String(id), MaxResults: aws.Int32(2), NextToken: aws.String("!!!")}),
			"InvalidParameterException", msgBadNextToken)
	})
	t.Run("identity without developer users", func(t *testing.T) {
		out := w.lookup(t, &cognitoidentity.LookupDeveloperIdentityInput{IdentityId: aws.String(guest)})
		if aws.ToString(out.IdentityId) != guest || len(out.DeveloperUserIdentifierList) != 0 {
			t.Errorf("lookup of a guest: %s %v", aws.ToString(out.IdentityId), out.DeveloperUserIdentifierList)
		}
	})

	missing := "us-east-1:00000000-0000-4000-8000-000000000000"
	for _, tc := range []struct {
		name      string
		client    *cognitoidentity.Client
		in        *cognitoidentity.LookupDeveloperIdentityInput
		code, msg string
	}{
		{"neither identity nor user", w.admin, &cognitoidentity.LookupDeveloperIdentityInput{}, "InvalidParameterException", "Either IdentityId or DeveloperUserIdentifier must be specified."},
		{"unknown user", w.admin, &cognitoidentity.LookupDeveloperIdentityInput{DeveloperUserIdentifier: aws.String("nobody")}, "ResourceNotFoundException", "Developer user identifier 'nobody' not found."},
		{"unknown identity", w.admin, &cognitoidentity.LookupDeveloperIdentityInput{IdentityId: aws.String(missing)}, "ResourceNotFoundException", identityNotFound(missing)},
		{"pool of another account", env.Client(AccountB, USEast1), &cognitoidentity.LookupDeveloperIdentityInput{IdentityId: aws.String(id)}, "ResourceNotFoundException", notFound(w.pool)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.IdentityPoolId = aws.String(w.pool)
			_, err := tc.client.LookupDeveloperIdentity(t.Context(), tc.in)
			APIError(t, err, tc.code, tc.msg)
		})
	}
}

func TestMergeDeveloperIdentities(t *testing.T) {
	env := Start(t, Options{})
	w := worldIn(t, env, loginPoolInput("merge"))

	t.Run("source joins the destination", func(t *testing.T) {
		src := w.devID(t, "src-1", map[string]string{google: googleToken("g-src-1")})
		dst := w.devID(t, "dst-1", nil)
		got, err := w.merge(t, "src-1", "dst-1")
		if err != nil || got != dst {
			t.Fatalf("MergeDeveloperIdentities = %s, %v; want %s", got, err, dst)
		}
		for _, u := range []string{"src-1", "dst-1"} {
			if id := w.devID(t, u, nil); id != dst {
				t.Errorf("%s now finds %s, want %s", u, id, dst)
			}
			out := w.lookup(t, &cognitoidentity.LookupDeveloperIdentityInput{DeveloperUserIdentifier: aws.String(u)})
			if aws.ToString(out.IdentityId) != dst {
				t.Errorf("lookup %s = %s, want %s", u, aws.ToString(out.IdentityId), dst)
			}
		}
		wantEqual(t, "users of the destination", w.lookup(t, &cognitoidentity.LookupDeveloperIdentityInput{IdentityId: aws.String(dst)}).DeveloperUserIdentifierList, []string{"dst-1", "src-1"})
		wantEqual(t, "logins of the destination", w.linked(t, dst), []string{google, devProvider})
		if id := w.getID(t, map[string]string{google: googleToken("g-src-1")}); id != dst {
			t.Errorf("the source's Google login finds %s, want %s", id, dst)
		}
		APIError(t, w.openIDErr(t, src, nil), "NotAuthorizedException", forbidden(src))
		if l := w.linked(t, src); l != nil {
			t.Errorf("the merged-away source still lists logins %v", l)
		}
		if slices.Contains(w.listIdentities(t, 60, true), src) {
			t.Errorf("HideDisabled lists the merged-away source %s", src)
		}
		if got, err := w.merge(t, "src-1", "dst-1"); err != nil || got != dst {
			t.Errorf("merging users of one identity again = %s, %v; want %s", got, err, dst)
		}
	})

	w.devID(t, "fb-a", map[string]string{fb: "facebook-a"})
	w.devID(t, "fb-b", map[string]string{fb: "facebook-b"})
	w.devID(t, "plain", nil)
	for _, tc := range []struct {
		name      string
		provider  string
		src, dst  string
		code, msg string
	}{
		{"different users of one public provider", devProvider, "fb-a", "fb-b", "ResourceConflictException", conflictOf(fb)},
		{"unknown source", devProvider, "nobody", "plain", "ResourceNotFoundException", "Developer user identifier 'nobody' not found."},
		{"unknown destination", devProvider, "plain", "nobody", "ResourceNotFoundException", "Developer user identifier 'nobody' not found."},
		{"wrong developer provider", "login.other.app", "plain", "fb-a", "NotAuthorizedException", msgDeveloperName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.admin.MergeDeveloperIdentities(t.Context(), &cognitoidentity.MergeDeveloperIdentitiesInput{
				IdentityPoolId: aws.String(w.pool), DeveloperProviderName: aws.String(tc.provider),
				SourceUserIdentifier: aws.String(tc.src), DestinationUserIdentifier: aws.String(tc.dst),
			})
			APIError(t, err, tc.code, tc.msg)
		})
	}
	// The refused merge changed nothing.
	if a, b := w.devID(t, "fb-a", nil), w.devID(t, "fb-b", nil); a == b {
		t.Errorf("fb-a and fb-b share identity %s after a refused merge", a)
	}
}

func TestUnlinkDeveloperIdentity(t *testing.T) {
	env := Start(t, Options{})
	w := worldIn(t, env, loginPoolInput("unlink-developer"))

	t.Run("identity keeps its other logins", func(t *testing.T) {
		id := w.devID(t, "u5", map[string]string{google: googleToken("g-u5")})
		if err := w.unlinkDev(t, id, "u5"); err != nil {
			t.Fatalf("UnlinkDeveloperIdentity: %v", err)
		}
		wantEqual(t, "logins", w.linked(t, id), []string{google})
		APIError(t, w.lookupErr(t, &cognitoidentity.LookupDeveloperIdentityInput{DeveloperUserIdentifier: aws.String("u5")}), "ResourceNotFoundException", "Developer user identifier 'u5' not found.")
		if again := w.devID(t, "u5", nil); again == id {
			t.Errorf("the unlinked developer user still finds %s", id)
		}
		if got := w.getID(t, map[string]string{google: googleToken("g-u5")}); got != id {
			t.Errorf("the remaining login finds %s, want %s", got, id)
		}
	})
	t.Run("identity without logins is disabled", func(t *testing.T) {
		id := w.devID(t, "u6", nil)
		if err := w.unlinkDev(t, id, "u6"); err != nil {
			t.Fatalf("UnlinkDeveloperIdentity: %v", err)
		}
		_, err := w.app.GetCredentialsForIdentity(t.Context(), &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: aws.String(id)})
		APIError(t, err, "NotAuthorizedException", forbidden(id))
		if slices.Contains(w.listIdentities(t, 60, true), id) {
			t.Errorf("HideDisabled lists the identity left without logins")
		}
		if again := w.devID(t, "u6", nil); again == id {
			t.Errorf("the unlinked developer user still finds %s", id)
		}
	})

	owner := w.devID(t, "u7", nil)
	stranger := w.devID(t, "u8", nil)
	missing := "us-east-1:00000000-0000-4000-8000-000000000000"
	for _, tc := range []struct {
		name      string
		id, user  string
		code, msg string
	}{
		{"user of another identity", stranger, "u7", "ResourceConflictException", "Developer user identifier 'u7' is not linked to identity '" + stranger + "'."},
		{"unknown user", owner, "nobody", "ResourceConflictException", "Developer user identifier 'nobody' is not linked to identity '" + owner + "'."},
		{"unknown identity", missing, "u7", "ResourceNotFoundException", identityNotFound(missing)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			APIError(t, w.unlinkDev(t, tc.id, tc.user), tc.code, tc.msg)
		})
	}
	_, err := w.admin.UnlinkDeveloperIdentity(t.Context(), &cognitoidentity.UnlinkDeveloperIdentityInput{
		IdentityPoolId: aws.String(w.pool), IdentityId: aws.String(owner),
		DeveloperProviderName: aws.String("login.other.app"), DeveloperUserIdentifier: aws.String("u7"),
	})
	APIError(t, err, "NotAuthorizedException", msgDeveloperName)
	if got := w.devID(t, "u7", nil); got != owner {
		t.Errorf("u7 finds %s after refused unlinks, want %s", got, owner)
	}
}

// TestDeveloperLoginLimit fills an identity with 20 developer users by
// merges: a 21st is refused by a merge and by a link.
func TestDeveloperLoginLimit(t *testing.T) {
	w := newWorld(t, loginPoolInput("developer-limit"))
	dst := w.devID(t, "user-00", nil)
	for i := 1; i < 20; i++ {
		u := fmt.Sprintf("user-%02d", i)
		w.devID(t, u, nil)
		if got, err := w.merge(t, u, "user-00"); err != nil || got != dst {
			t.Fatalf("merge %s: %s, %v", u, got, err)
		}
	}
	if n := len(w.lookup(t, &cognitoidentity.LookupDeveloperIdentityInput{IdentityId: aws.String(dst)}).DeveloperUserIdentifierList); n != 20 {
		t.Fatalf("identity has %d developer users, want 20", n)
	}
	src := w.devID(t, "user-20", nil)
	_, err := w.merge(t, "user-20", "user-00")
	APIError(t, err, "ResourceConflictException", "The merged identity would have more than 20 linked logins.")
	if got := w.devID(t, "user-20", nil); got != src {
		t.Errorf("user-20 moved to %s after a refused merge", got)
	}
	// GetOpenIdTokenForDeveloperIdentity's model has no
	// LimitExceededException: the refusal must be a modeled error,
	// ResourceConflictException as for the merge.
	err = w.developerErr(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityId: aws.String(dst), Logins: devLogin("user-21")})
	APIError(t, err, "ResourceConflictException", msgLoginLimit)
	err = w.developerErr(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{Logins: map[string]string{devProvider: "user-00", fb: "fb-21"}})
	APIError(t, err, "ResourceConflictException", msgLoginLimit)
}

// TestDeveloperDisabledIdentity names a merged-away identity.
func TestDeveloperDisabledIdentity(t *testing.T) {
	w := newWorld(t, loginPoolInput("developer-disabled"))
	src := w.devID(t, "gone", nil)
	w.devID(t, "kept", nil)
	if _, err := w.merge(t, "gone", "kept"); err != nil {
		t.Fatalf("merge: %v", err)
	}
	err := w.developerErr(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityId: aws.String(src), Logins: devLogin("fresh")})
	APIError(t, err, "NotAuthorizedException", forbidden(src))
}

// TestConcurrentDeveloperIdentity races 50 first token requests for one
// developer user, and merges of several users into one: one identity
// each, no user lost.
func TestConcurrentDeveloperIdentity(t *testing.T) {
	w := newWorld(t, loginPoolInput("developer-race"))
	const n = 50
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			out, err := w.admin.GetOpenIdTokenForDeveloperIdentity(t.Context(), &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
				IdentityPoolId: aws.String(w.pool), Logins: devLogin("racer"),
			})
			if err != nil {
				t.Errorf("GetOpenIdTokenForDeveloperIdentity %d: %v", i, err)
				return
			}
			ids[i] = aws.ToString(out.IdentityId)
		})
	}
	wg.Wait()
	distinct := slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(distinct) != 1 || distinct[0] == "" {
		t.Fatalf("%d concurrent requests for one developer user returned identities %v", n, distinct)
	}
	wantEqual(t, "identities of the pool", w.listIdentities(t, 60, false), distinct)

	// Concurrent merges into the racer.
	var users []string
	for i := range 10 {
		u := fmt.Sprintf("merge-%d", i)
		w.devID(t, u, nil)
		users = append(users, u)
	}
	for _, u := range users {
		wg.Go(func() {
			if got, err := w.merge(t, u, "racer"); err != nil || got != distinct[0] {
				t.Errorf("merge %s: %s, %v", u, got, err)
			}
		})
	}
	wg.Wait()
	want := append(slices.Clone(users), "racer")
	slices.Sort(want)
	wantEqual(t, "developer users of the racer", w.lookup(t, &cognitoidentity.LookupDeveloperIdentityInput{IdentityId: aws.String(distinct[0])}).DeveloperUserIdentifierList, want)
	wantEqual(t, "enabled identities", w.listIdentities(t, 60, true), distinct)
}
