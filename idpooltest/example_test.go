package idpooltest_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/idpool/idpool/idpooltest"
)

// A seeded pool, a guest identity, its credentials, and STS saying whose
// they are. In a test, idpooltest.New(t, ...) starts the server and stops
// it when the test ends.
func Example() {
	srv, err := idpooltest.Start(idpooltest.WithSeedYAML([]byte(`
pools:
  - IdentityPoolId: us-east-1:11111111-2222-4333-8444-555555555555
    IdentityPoolName: seeded
    AllowUnauthenticatedIdentities: true
    Roles:
      unauthenticated: arn:aws:iam::000000000000:role/Guest
`)))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()

	// What an app does: unsigned calls, no credentials.
	app := cognitoidentity.New(cognitoidentity.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  aws.AnonymousCredentials{},
	})
	id, err := app.GetId(ctx, &cognitoidentity.GetIdInput{
		IdentityPoolId: aws.String("us-east-1:11111111-2222-4333-8444-555555555555"),
	})
	if err != nil {
		log.Fatal(err)
	}
	creds, err := app.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: id.IdentityId})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("identity in us-east-1:", strings.HasPrefix(aws.ToString(id.IdentityId), "us-east-1:"))

	// The credentials are real: the server's STS endpoint knows them.
	c := creds.Credentials
	who := sts.New(sts.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretKey), aws.ToString(c.SessionToken)),
	})
	me, err := who.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(aws.ToString(me.Arn))
	// Output:
	// identity in us-east-1: true
	// arn:aws:sts::000000000000:assumed-role/Guest/CognitoIdentityCredentials
}

// Developer users with fixed identity ids: the backend of a test finds
// them where the seed put them, and Reset puts them back.
func ExampleServer_Reset() {
	srv, err := idpooltest.Start(idpooltest.WithSeed(idpooltest.Seed{Pools: []idpooltest.Pool{{
		IdentityPoolId:        "eu-west-1:0a0a0a0a-1111-4222-8333-444444444444",
		IdentityPoolName:      "backend",
		DeveloperProviderName: "login.example",
		DeveloperUsers: []idpooltest.DeveloperUser{
			{IdentityId: "eu-west-1:0b0b0b0b-1111-4222-8333-444444444444", DeveloperUserIdentifier: "alice"},
		},
	}}}))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()

	// The developer operations are signed; any key will do unless the
	// server is strict.
	backend := cognitoidentity.New(cognitoidentity.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("000000000000", "any-secret", ""),
	})
	pool := aws.String("eu-west-1:0a0a0a0a-1111-4222-8333-444444444444")
	bob, err := backend.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: pool,
		Logins:         map[string]string{"login.example": "bob"},
	})
	if err != nil {
		log.Fatal(err)
	}

	srv.Reset()

	alice, err := backend.LookupDeveloperIdentity(ctx, &cognitoidentity.LookupDeveloperIdentityInput{
		IdentityPoolId: pool, DeveloperUserIdentifier: aws.String("alice"),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("alice:", aws.ToString(alice.IdentityId))
	_, err = backend.DescribeIdentity(ctx, &cognitoidentity.DescribeIdentityInput{IdentityId: bob.IdentityId})
	fmt.Println("bob after the reset:", err != nil && strings.Contains(err.Error(), "ResourceNotFoundException"))
	// Output:
	// alice: eu-west-1:0b0b0b0b-1111-4222-8333-444444444444
	// bob after the reset: true
}
