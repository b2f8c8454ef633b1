// Package idpooltest runs an idpool server inside a Go test: an Amazon
// Cognito Identity (identity pools) endpoint, with its STS endpoint on the
// same port, that the AWS SDKs talk to as they talk to AWS.
//
//	func TestLogin(t *testing.T) {
//		srv := idpooltest.New(t, idpooltest.WithSeedFile("testdata/seed.yaml"))
//		client := cognitoidentity.New(cognitoidentity.Options{
//			Region:       "us-east-1",
//			BaseEndpoint: aws.String(srv.URL),
//			Credentials:  credentials.NewStaticCredentialsProvider("000000000000", "any", ""),
//		})
//		// ...
//	}
//
// The server keeps its state in memory (nothing is written to disk), uses
// the real clock unless WithClock says otherwise, listens on a loopback
// port, and stops when the test ends. It is the server idpool serve runs,
// with the same rules, errors, tokens and credentials.
//
// By default it is permissive, as a local emulator should be: any
// credentials, or none, are accepted; an access key id that is itself 12
// digits acts for that account, any other key for the default account
// (000000000000). WithStrict makes it verify SigV4 signatures against the
// keys given.
//
// A seed (WithSeed, WithSeedFile, WithSeedYAML) creates identity pools with
// fixed ids, roles and developer users before the first request; Reset
// brings the server back to that state between tests. The seed format is
// the one of idpool serve --seed (see the README): pools written with the
// member names of the API.
//
// New ties the server to a test; Start makes one for a whole package (in
// TestMain) or an example, stopped with Close.
package idpooltest
