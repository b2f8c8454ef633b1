// Command go is the README's aws-sdk-go-v2 example as a whole program: it
// creates an identity pool with roles on an idpool server, gets a guest
// identity and its credentials (the enhanced flow), and proves them with
// STS GetCallerIdentity on the same server.
//
//	go run ./examples/go                                   # http://127.0.0.1:4591
//	IDPOOL_ENDPOINT=http://127.0.0.1:4599 go run ./examples/go
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	endpoint := os.Getenv("IDPOOL_ENDPOINT")
	if endpoint == "" {
		endpoint = "http://127.0.0.1:4591"
	}
	// The administrator's client signs; idpool's default (permissive) mode
	// takes any key, and a 12-digit key id is the account it acts for.
	admin := cognitoidentity.New(cognitoidentity.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("123456789012", "any-secret", ""),
	})
	pool, err := admin.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName:               aws.String("go_example"),
		AllowUnauthenticatedIdentities: true,
	})
	if err != nil {
		return fmt.Errorf("CreateIdentityPool: %w", err)
	}
	poolID := aws.ToString(pool.IdentityPoolId)
	defer admin.DeleteIdentityPool(ctx, &cognitoidentity.DeleteIdentityPoolInput{IdentityPoolId: pool.IdentityPoolId})
	if _, err := admin.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{
		IdentityPoolId: pool.IdentityPoolId,
		Roles: map[string]string{
			"unauthenticated": "arn:aws:iam::123456789012:role/Guest",
			"authenticated":   "arn:aws:iam::123456789012:role/User",
		},
	}); err != nil {
		return fmt.Errorf("SetIdentityPoolRoles: %w", err)
	}

	// The app's client signs nothing: GetId and GetCredentialsForIdentity
	// are public operations.
	app := cognitoidentity.New(cognitoidentity.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  aws.AnonymousCredentials{},
	})
	id, err := app.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: pool.IdentityPoolId})
	if err != nil {
		return fmt.Errorf("GetId: %w", err)
	}
	out, err := app.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: id.IdentityId})
	if err != nil {
		return fmt.Errorf("GetCredentialsForIdentity: %w", err)
	}
	c := out.Credentials

	// The credentials are real: idpool's STS says who they are.
	who, err := sts.New(sts.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretKey), aws.ToString(c.SessionToken)),
	}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("GetCallerIdentity: %w", err)
	}
	fmt.Printf("pool %s\nidentity %s\ncredentials %s, expiring %s\ncaller %s\n",
		poolID, aws.ToString(id.IdentityId), aws.ToString(c.AccessKeyId), c.Expiration.UTC().Format("15:04:05"), aws.ToString(who.Arn))
	if want := "arn:aws:sts::123456789012:assumed-role/Guest/CognitoIdentityCredentials"; aws.ToString(who.Arn) != want {
		return fmt.Errorf("caller %s, want %s", aws.ToString(who.Arn), want)
	}
	return nil
}
