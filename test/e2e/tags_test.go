package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
)

func listTags(t testing.TB, c *cognitoidentity.Client, arn string) map[string]string {
	t.Helper()
	out, err := c.ListTagsForResource(t.Context(), &cognitoidentity.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("ListTagsForResource %s: %v", arn, err)
	}
	return out.Tags
}

func TestTagging(t *testing.T) {
	env := Start(t, Options{})
	c := env.Client(AccountA, USEast1)
	ctx := t.Context()
	id := aws.ToString(createPool(t, c, &cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName: aws.String("tags"), IdentityPoolTags: map[string]string{"a": "1"},
	}).IdentityPoolId)
	arn := poolARN(USEast1, AccountA, id)

	steps := []struct {
		name  string
		tag   map[string]string // TagResource when not nil
		untag []string          // UntagResource when not nil
		want  map[string]string
	}{
		{name: "add and overwrite", tag: map[string]string{"b": "2", "a": "10"}, want: map[string]string{"a": "10", "b": "2"}},
		{name: "keys are case-sensitive", tag: map[string]string{"B": "upper"}, want: map[string]string{"a": "10", "b": "2", "B": "upper"}},
		{name: "allowed characters and an empty value", tag: map[string]string{"key with space_.:/=+-@": "Ünïcödé 9 _.:/=+-@", "empty": ""},
			want: map[string]string{"a": "10", "b": "2", "B": "upper", "key with space_.:/=+-@": "Ünïcödé 9 _.:/=+-@", "empty": ""}},
		{name: "no tags is a no-op", tag: map[string]string{}, want: map[string]string{"a": "10", "b": "2", "B": "upper", "key with space_.:/=+-@": "Ünïcödé 9 _.:/=+-@", "empty": ""}},
		{name: "untag ignores absent keys", untag: []string{"a", "absent", "key with space_.:/=+-@"}, want: map[string]string{"b": "2", "B": "upper", "empty": ""}},
		{name: "untag nothing", untag: []string{}, want: map[string]string{"b": "2", "B": "upper", "empty": ""}},
		{name: "untag the rest", untag: []string{"b", "B", "empty"}, want: map[string]string{}},
		{name: "tag again after all were removed", tag: map[string]string{"z": "26"}, want: map[string]string{"z": "26"}},
		{name: "lengths count characters, not bytes", tag: map[string]string{strings.Repeat("é", 128): strings.Repeat("ü", 256)},
			want: map[string]string{"z": "26", strings.Repeat("é", 128): strings.Repeat("ü", 256)}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.tag != nil {
				if _, err := c.TagResource(ctx, &cognitoidentity.TagResourceInput{ResourceArn: aws.String(arn), Tags: s.tag}); err != nil {
					t.Fatalf("TagResource: %v", err)
				}
			}
			if s.untag != nil {
				if _, err := c.UntagResource(ctx, &cognitoidentity.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: s.untag}); err != nil {
					t.Fatalf("UntagResource: %v", err)
				}
			}
			wantEqual(t, "ListTagsForResource", listTags(t, c, arn), s.want)
			wantEqual(t, "DescribeIdentityPool tags", describe(t, c, id).Tags, s.want)
		})
	}
}

func TestTagLimit(t *testing.T) {
	env := Start(t, Options{})
	c := env.Client(AccountA, USEast1)
	ctx := t.Context()
	id := aws.ToString(createPool(t, c, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("limit"), IdentityPoolTags: nTags("k", 48)}).IdentityPoolId)
	arn := aws.String(poolARN(USEast1, AccountA, id))

	if _, err := c.TagResource(ctx, &cognitoidentity.TagResourceInput{ResourceArn: arn, Tags: map[string]string{"new1": "x", "new2": "x"}}); err != nil {
		t.Fatalf("TagResource up to 50 tags: %v", err)
	}
	// Overwriting existing keys does not count against the limit.
	if _, err := c.TagResource(ctx, &cognitoidentity.TagResourceInput{ResourceArn: arn, Tags: map[string]string{"new1": "y", "kAa": "y"}}); err != nil {
		t.Fatalf("TagResource overwriting at 50 tags: %v", err)
	}
	want := nTags("k", 48)
	want["kAa"], want["new1"], want["new2"] = "y", "y", "x"
	wantEqual(t, "tags at the limit", listTags(t, c, *arn), want)

	t.Run("TagResource over 50", func(t *testing.T) {
		// Tag violations are InvalidParameterException (TagResource models no LimitExceededException);
		// TagResource does not model LimitExceededException, so SDKs
		// could not decode that as a typed error.
		_, err := c.TagResource(ctx, &cognitoidentity.TagResourceInput{ResourceArn: arn, Tags: map[string]string{"new1": "z", "one-too-many": "x"}})
		APIError(t, err, "InvalidParameterException", "An identity pool can have at most 50 tags.")
		wantEqual(t, "tags after a refused TagResource", listTags(t, c, *arn), want)
	})
	t.Run("CreateIdentityPool with 51", func(t *testing.T) {
		_, err := c.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("too many"), IdentityPoolTags: nTags("k", 51)})
		APIError(t, err, "LimitExceededException", "An identity pool can have at most 50 tags.")
	})
	t.Run("UpdateIdentityPool with 51", func(t *testing.T) {
		_, err := c.UpdateIdentityPool(ctx, &cognitoidentity.UpdateIdentityPoolInput{IdentityPoolId: aws.String(id), IdentityPoolName: aws.String("limit"), IdentityPoolTags: nTags("t", 51)})
		APIError(t, err, "LimitExceededException", "An identity pool can have at most 50 tags.")
		wantEqual(t, "tags after a refused update", listTags(t, c, *arn), want)
	})
}

func TestTagErrors(t *testing.T) {
	env := Start(t, Options{})
	a := env.Client(AccountA, USEast1)
	aEU := env.Client(AccountA, EUWest1)
	b := env.Client(AccountB, USEast1)
	ctx := t.Context()
	id := aws.ToString(createPool(t, a, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("tags"), IdentityPoolTags: map[string]string{"keep": "me"}}).IdentityPoolId)
	arn := poolARN(USEast1, AccountA, id)
	missing := "us-east-1:00000000-0000-4000-8000-000000000000"
	badARN := func(s string) string {
		return "'" + s + "' is not a valid identity pool ARN. Expected arn:aws:cognito-identity:<region>:<account>:identitypool/<identity pool id>."
	}
	const allowed = " contains characters that are not allowed. Use letters, numbers, spaces and _ . : / = + - @."

	tests := []struct {
		name          string
		client        *cognitoidentity.Client
		arn           string
		tags          map[string]string // for TagResource
		code, message string
		// tagOnly: the error comes from the tags, so only TagResource
		// is checked.
		tagOnly bool
	}{
		{name: "S3 ARN", arn: "arn:aws:s3:::my-bucket-name-1", code: "InvalidParameterException", message: badARN("arn:aws:s3:::my-bucket-name-1")},
		{name: "user pool ARN", arn: "arn:aws:cognito-idp:us-east-1:111111111111:userpool/us-east-1_AbC", code: "InvalidParameterException", message: badARN("arn:aws:cognito-idp:us-east-1:111111111111:userpool/us-east-1_AbC")},
		{name: "no resource type", arn: "arn:aws:cognito-identity:us-east-1:111111111111:" + id, code: "InvalidParameterException", message: badARN("arn:aws:cognito-identity:us-east-1:111111111111:" + id)},
		{name: "empty pool id", arn: "arn:aws:cognito-identity:us-east-1:111111111111:identitypool/", code: "InvalidParameterException", message: badARN("arn:aws:cognito-identity:us-east-1:111111111111:identitypool/")},
		{name: "not an ARN", arn: "this-is-not-an-arn-at-all", code: "InvalidParameterException", message: badARN("this-is-not-an-arn-at-all")},
		{name: "ARN too short", arn: "arn:aws:cognito", code: "ValidationException",
			message: validation("Value 'arn:aws:cognito' at 'resourceArn' failed to satisfy constraint: Member must have length greater than or equal to 20")},
		{name: "unknown pool", arn: poolARN(USEast1, AccountA, missing), code: "ResourceNotFoundException", message: notFound(missing)},
		{name: "ARN naming another account", arn: poolARN(USEast1, AccountB, id), code: "ResourceNotFoundException", message: notFound(id)},
		{name: "ARN naming another region", arn: poolARN(EUWest1, AccountA, id), code: "ResourceNotFoundException", message: notFound(id)},
		{name: "caller of another account", client: b, arn: arn, code: "ResourceNotFoundException", message: notFound(id)},
		{name: "caller signing for another region", client: aEU, arn: arn, code: "ResourceNotFoundException", message: notFound(id)},
		{name: "aws: prefix", arn: arn, tags: map[string]string{"aws:cloudformation:stack-name": "x"}, tagOnly: true,
			code: "InvalidParameterException", message: "Tag key 'aws:cloudformation:stack-name' uses the reserved prefix 'aws:'."},
		{name: "AWS: prefix in capitals", arn: arn, tags: map[string]string{"AWS:x": "x"}, tagOnly: true,
			code: "InvalidParameterException", message: "Tag key 'AWS:x' uses the reserved prefix 'aws:'."},
		{name: "key with a forbidden character", arn: arn, tags: map[string]string{"a*b": "x"}, tagOnly: true,
			code: "InvalidParameterException", message: "Tag key 'a*b'" + allowed},
		{name: "value with a forbidden character", arn: arn, tags: map[string]string{"a": "v#1"}, tagOnly: true,
			code: "InvalidParameterException", message: "Tag value 'v#1'" + allowed},
		{name: "key too long", arn: arn, tags: map[string]string{strings.Repeat("k", 129): "v"}, tagOnly: true, code: "ValidationException",
			message: validation("Value '{" + strings.Repeat("k", 129) + "=v}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: " +
				"[Member must have length less than or equal to 128, Member must have length greater than or equal to 1]")},
		{name: "value too long", arn: arn, tags: map[string]string{"k": strings.Repeat("v", 257)}, tagOnly: true, code: "ValidationException",
			message: validation("Value '{k=" + strings.Repeat("v", 257) + "}' at 'tags' failed to satisfy constraint: Map value must satisfy constraint: " +
				"[Member must have length less than or equal to 256, Member must have length greater than or equal to 0]")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.client
			if c == nil {
				c = a
			}
			tags := tt.tags
			if tags == nil {
				tags = map[string]string{"new": "tag"}
			}
			_, err := c.TagResource(ctx, &cognitoidentity.TagResourceInput{ResourceArn: aws.String(tt.arn), Tags: tags})
			APIError(t, err, tt.code, tt.message)
			if !tt.tagOnly {
				_, err = c.UntagResource(ctx, &cognitoidentity.UntagResourceInput{ResourceArn: aws.String(tt.arn), TagKeys: []string{"keep"}})
				APIError(t, err, tt.code, tt.message)
				_, err = c.ListTagsForResource(ctx, &cognitoidentity.ListTagsForResourceInput{ResourceArn: aws.String(tt.arn)})
				APIError(t, err, tt.code, tt.message)
			}
			wantEqual(t, "tags after a refused call", listTags(t, a, arn), map[string]string{"keep": "me"})
		})
	}

	t.Run("CreateIdentityPool checks tags too", func(t *testing.T) {
		_, err := a.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("x"), IdentityPoolTags: map[string]string{"aws:x": "y"}})
		APIError(t, err, "InvalidParameterException", "Tag key 'aws:x' uses the reserved prefix 'aws:'.")
		_, err = a.UpdateIdentityPool(ctx, &cognitoidentity.UpdateIdentityPoolInput{IdentityPoolId: aws.String(id), IdentityPoolName: aws.String("tags"), IdentityPoolTags: map[string]string{"ok": "v#"}})
		APIError(t, err, "InvalidParameterException", "Tag value 'v#'"+allowed)
		wantEqual(t, "tags after a refused update", listTags(t, a, arn), map[string]string{"keep": "me"})
	})
}
