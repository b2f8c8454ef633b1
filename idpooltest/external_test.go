package idpooltest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// consumerTest is the test of a module that is not idpool: what a user of
// the package writes.
const consumerTest = `package consumer

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"

	"github.com/idpool/idpool/idpooltest"
)

func TestSeededPool(t *testing.T) {
	srv := idpooltest.New(t, idpooltest.WithSeed(idpooltest.Seed{Pools: []idpooltest.Pool{{
		IdentityPoolId:                 "us-east-1:11111111-2222-4333-8444-555555555555",
		IdentityPoolName:               "consumer",
		AllowUnauthenticatedIdentities: true,
		Roles:                          map[string]string{"unauthenticated": "arn:aws:iam::000000000000:role/Guest"},
	}}}))
	app := cognitoidentity.New(cognitoidentity.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  aws.AnonymousCredentials{},
	})
	ctx := context.Background()
	id, err := app.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String("us-east-1:11111111-2222-4333-8444-555555555555")})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := app.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: id.IdentityId})
	if err != nil || creds.Credentials == nil {
		t.Fatalf("credentials: %v", err)
	}
	srv.Reset()
	if _, err := app.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: id.IdentityId}); err == nil {
		t.Fatal("the guest survived Reset")
	}
}
`

// TestFromAnotherModule checks that the package works from another
// module's tests: a temporary module that requires idpool (replaced by this
// checkout) runs go test on a test that uses it. It runs offline: the
// modules it needs are those idpool needs, already in the module cache.
func TestFromAnotherModule(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test in another module")
	}
	gotool, err := exec.LookPath("go")
	if err != nil {
		// go test puts GOROOT/bin on PATH, but not every runner does.
		gotool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		if _, serr := os.Stat(gotool); os.Getenv("GOROOT") == "" || serr != nil {
			t.Skip("no go command to run another module's tests with")
		}
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	goEnv := func(name string) string {
		out, err := exec.Command(gotool, "env", name).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	modCache, buildCache := goEnv("GOMODCACHE"), goEnv("GOCACHE")

	dir := t.TempDir()
	goMod := "module example.com/consumer\n\ngo 1.26\n\n" +
		"require github.com/idpool/idpool v0.0.0\n\n" +
		"replace github.com/idpool/idpool => " + root + "\n"
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"go.mod": []byte(goMod), "go.sum": sum, "consumer_test.go": []byte(consumerTest)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(gotool, "test", "-count=1", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GOFLAGS=-mod=mod",
		"GOMODCACHE="+modCache,
		"GOCACHE="+buildCache,
		// Offline: whatever is needed is in the module cache already.
		"GOPROXY=off",
		"GOSUMDB=off",
		"GOWORK=off",
		"GOTOOLCHAIN=local",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test in a module that requires idpool: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "ok  \texample.com/consumer") {
		t.Errorf("go test printed:\n%s", out)
	}
}
