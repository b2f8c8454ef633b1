package idpooltest_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/smithy-go"

	"github.com/idpool/idpool/idpooltest"
)

const (
	pool  = "us-east-1:11111111-2222-4333-8444-555555555555"
	alice = "us-east-1:aaaaaaaa-1111-4222-8333-444444444444"
)

func client(srv *idpooltest.Server, key string) *cognitoidentity.Client {
	return cognitoidentity.New(cognitoidentity.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(key, "secret-of-"+key, ""),
		HTTPClient:   srv.Client(),
		Retryer:      aws.NopRetryer{},
	})
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestNewWithSeedFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "seed.yaml")
	text := "pools:\n  - IdentityPoolId: " + pool + "\n    IdentityPoolName: from-file\n    AllowUnauthenticatedIdentities: true\n" +
		"    DeveloperProviderName: login.test\n    DeveloperUsers: [{IdentityId: " + alice + ", DeveloperUserIdentifier: alice}]\n"
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := idpooltest.New(t, idpooltest.WithSeedFile(file))
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Errorf("URL %s", srv.URL)
	}
	ctx := context.Background()
	c := client(srv, "000000000000")
	desc, err := c.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(pool)})
	if err != nil || aws.ToString(desc.IdentityPoolName) != "from-file" {
		t.Fatalf("DescribeIdentityPool: %+v, %v", desc, err)
	}
	// The developer user's identity is the one the seed fixed, and the
	// backend's token flow finds it.
	tok, err := c.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: aws.String(pool), Logins: map[string]string{"login.test": "alice"},
	})
	if err != nil || aws.ToString(tok.IdentityId) != alice {
		t.Errorf("alice's token: %+v, %v", tok, err)
	}
	// Pools of another account do not see it.
	if _, err := client(srv, "111111111111").DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(pool)}); errorCode(err) != "ResourceNotFoundException" {
		t.Errorf("another account: %v", err)
	}
}

func TestReset(t *testing.T) {
	srv := idpooltest.New(t, idpooltest.WithSeed(idpooltest.Seed{Pools: []idpooltest.Pool{{
		IdentityPoolId: pool, IdentityPoolName: "go", AllowUnauthenticatedIdentities: true,
		IdentityPoolTags: map[string]string{"env": "test"},
	}}}))
	ctx := context.Background()
	c := client(srv, "000000000000")
	if _, err := c.UpdateIdentityPool(ctx, &cognitoidentity.UpdateIdentityPoolInput{
		IdentityPoolId: aws.String(pool), IdentityPoolName: aws.String("changed"), AllowUnauthenticatedIdentities: true,
	}); err != nil {
		t.Fatal(err)
	}
	made, err := c.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("made"), AllowUnauthenticatedIdentities: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.Reset()
	desc, err := c.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(pool)})
	if err != nil || aws.ToString(desc.IdentityPoolName) != "go" || desc.IdentityPoolTags["env"] != "test" {
		t.Errorf("the seeded pool after Reset: %+v, %v", desc, err)
	}
	if _, err := c.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: made.IdentityPoolId}); errorCode(err) != "ResourceNotFoundException" {
		t.Errorf("a pool made before Reset: %v", err)
	}
}

func TestStartRefusesABadSeed(t *testing.T) {
	_, err := idpooltest.Start(idpooltest.WithSeedYAML([]byte("pools:\n  - IdentityPoolId: " + pool + "\n    IdentityPoolName: 'bad!'\n    AllowUnauthenticatedIdentities: true\n")))
	want := "seed file WithSeedYAML: pool 1 (" + pool + "): IdentityPoolName: 1 validation error detected: Value 'bad!' at 'identityPoolName'"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Start: %v\nwant %s...", err, want)
	}
	_, err = idpooltest.Start(idpooltest.WithSeed(idpooltest.Seed{Pools: []idpooltest.Pool{{IdentityPoolId: pool, IdentityPoolName: "x",
		Roles: map[string]string{"guest": "arn:aws:iam::000000000000:role/Guest"}}}}))
	if err == nil || !strings.Contains(err.Error(), "pool 1 ("+pool+"): Roles: 1 validation error detected") {
		t.Errorf("Start with a bad role kind: %v", err)
	}
	if _, err := idpooltest.Start(idpooltest.WithStrict(idpooltest.Key{AccessKeyID: "AKIDTEST", SecretAccessKey: "short", AccountID: "123456789012"})); err == nil ||
		!strings.HasPrefix(err.Error(), "WithStrict: ") {
		t.Errorf("Start with a bad key: %v", err)
	}
}

func TestStrict(t *testing.T) {
	key := idpooltest.Key{AccessKeyID: "AKIDSTRICTTEST", SecretAccessKey: "strict-secret", AccountID: "123456789012"}
	srv := idpooltest.New(t, idpooltest.WithStrict(key))
	ctx := context.Background()
	// A key the server does not know is refused...
	_, err := client(srv, "AKIDNOBODY").CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName: aws.String("x"), AllowUnauthenticatedIdentities: true,
	})
	if errorCode(err) != "UnrecognizedClientException" {
		t.Errorf("unknown key: %v", err)
	}
	// ...one it knows acts for its account.
	c := cognitoidentity.New(cognitoidentity.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(key.AccessKeyID, key.SecretAccessKey, ""),
		Retryer:      aws.NopRetryer{},
	})
	made, err := c.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("x"), AllowUnauthenticatedIdentities: true})
	if err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &cognitoidentity.ListTagsForResourceInput{
		ResourceArn: aws.String("arn:aws:cognito-identity:us-east-1:123456789012:identitypool/" + aws.ToString(made.IdentityPoolId)),
	})
	if err != nil || tags.Tags == nil {
		t.Errorf("the pool is not the key's account's: %v", err)
	}
	// The reset endpoint takes a request signed with the key.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/_idpool/reset", nil)
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: key.AccessKeyID, SecretAccessKey: key.SecretAccessKey}, req,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "cognito-identity", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("signed reset: %d", resp.StatusCode)
	}
	resp, err = srv.Client().Post(srv.URL+"/_idpool/reset", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned reset on a strict server: %d", resp.StatusCode)
	}
}

func TestOptions(t *testing.T) {
	now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	var log bytes.Buffer
	srv := idpooltest.New(t,
		idpooltest.WithClock(func() time.Time { return now }),
		idpooltest.WithLogger(slog.New(slog.NewTextHandler(&log, nil))),
		idpooltest.WithDefaultAccount("444444444444"),
		idpooltest.WithDefaultRegion("eu-west-1"),
		idpooltest.WithCredentialsLifetime(30*time.Minute),
		idpooltest.WithSeedYAML([]byte("pools:\n  - IdentityPoolId: eu-west-1:11111111-2222-4333-8444-555555555555\n    IdentityPoolName: opts\n"+
			"    AllowUnauthenticatedIdentities: true\n    Roles: {unauthenticated: 'arn:aws:iam::444444444444:role/Guest'}\n")),
	)
	ctx := context.Background()
	app := cognitoidentity.New(cognitoidentity.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}})
	id, err := app.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String("eu-west-1:11111111-2222-4333-8444-555555555555")})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := app.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: id.IdentityId})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToTime(creds.Credentials.Expiration); !got.Equal(now.Add(30 * time.Minute)) {
		t.Errorf("credentials expire at %v, want %v", got, now.Add(30*time.Minute))
	}
	// The seeded pool belongs to the default account.
	if !strings.Contains(log.String(), "action=pool.create account=444444444444") {
		t.Errorf("log:\n%s", log.String())
	}
	// An unsigned CreateIdentityPool lands in the default region.
	made, err := app.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("r"), AllowUnauthenticatedIdentities: true})
	if err != nil || !strings.HasPrefix(aws.ToString(made.IdentityPoolId), "eu-west-1:") {
		t.Errorf("CreateIdentityPool: %+v, %v", made, err)
	}
}

func TestClose(t *testing.T) {
	srv, err := idpooltest.Start()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	srv.Close()
	srv.Close() // again: nothing
	if _, err := http.Get(srv.URL + "/health"); err == nil {
		t.Error("the server answers after Close")
	}
}
