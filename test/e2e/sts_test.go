package e2e

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/idpool/idpool/internal/tokens"
)

// STS's texts.
const (
	msgInvalidClientToken = "The security token included in the request is invalid."
	msgExpiredToken       = "The security token included in the request is expired"
	msgSignatureMismatch  = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgInvalidWebIdentity = "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request."
)

func static(ak, secret, token string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(ak, secret, token)
}

// TestSTSGetCallerIdentity signs STS calls with credentials minted by
// GetCredentialsForIdentity, intact and altered.
func TestSTSGetCallerIdentity(t *testing.T) {
	env := Start(t, Options{})
	w := worldIn(t, env, loginPoolInput("sts"))
	w.setRoles(t, map[string]string{"authenticated": "arn:aws:iam::444444444444:role/app/Cognito_Auth", "unauthenticated": unauthRole}, nil)
	mint := func(logins map[string]string) *types.Credentials {
		return w.credentials(t, w.getID(t, logins), logins, "").Credentials
	}
	guest := mint(nil)
	user := mint(map[string]string{fb: "sts-user"})
	ak, sk, tok := aws.ToString(guest.AccessKeyId), aws.ToString(guest.SecretKey), aws.ToString(guest.SessionToken)

	t.Run("intact credentials", func(t *testing.T) {
		for _, tc := range []struct {
			name         string
			creds        *types.Credentials
			arn, account string
		}{
			{"guest", guest, "arn:aws:sts::111111111111:assumed-role/Cognito_Unauth_Role/CognitoIdentityCredentials", "111111111111"},
			{"user, role of another account", user, "arn:aws:sts::444444444444:assumed-role/Cognito_Auth/CognitoIdentityCredentials", "444444444444"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				out := caller(t, env, tc.creds)
				if aws.ToString(out.Arn) != tc.arn || aws.ToString(out.Account) != tc.account {
					t.Errorf("caller %s in %s, want %s in %s", aws.ToString(out.Arn), aws.ToString(out.Account), tc.arn, tc.account)
				}
				if !regexp.MustCompile(`^AROA[A-Z2-7]{17}:CognitoIdentityCredentials$`).MatchString(aws.ToString(out.UserId)) {
					t.Errorf("UserId %q", aws.ToString(out.UserId))
				}
			})
		}
	})

	t.Run("long-term key", func(t *testing.T) {
		out, err := env.STSClient(static(AccountB, "secret", "")).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("GetCallerIdentity: %v", err)
		}
		if aws.ToString(out.Arn) != "arn:aws:iam::"+AccountB+":root" || aws.ToString(out.Account) != AccountB {
			t.Errorf("caller %s in %s", aws.ToString(out.Arn), aws.ToString(out.Account))
		}
	})

	altered := []byte(tok)
	i := len(altered) / 2
	if altered[i] == 'A' {
		altered[i] = 'B'
	} else {
		altered[i] = 'A'
	}
	for _, tc := range []struct {
		name      string
		creds     aws.CredentialsProvider
		code, msg string
		status    int
	}{
		{"tampered secret", static(ak, flip(sk), tok), "SignatureDoesNotMatch", msgSignatureMismatch, 403},
		{"another session's secret", static(ak, aws.ToString(user.SecretKey), tok), "SignatureDoesNotMatch", msgSignatureMismatch, 403},
		{"garbage session token", static(ak, sk, "garbage"), "InvalidClientTokenId", msgInvalidClientToken, 403},
		{"tampered session token", static(ak, sk, string(altered)), "InvalidClientTokenId", msgInvalidClientToken, 403},
		{"session token of other credentials", static(ak, sk, aws.ToString(user.SessionToken)), "InvalidClientTokenId", msgInvalidClientToken, 403},
		{"temporary key without its session token", static(ak, sk, ""), "InvalidClientTokenId", msgInvalidClientToken, 403},
		{"unsigned", aws.AnonymousCredentials{}, "MissingAuthenticationToken", "Request is missing Authentication Token", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := env.STSClient(tc.creds).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
			STSError(t, err, tc.code, tc.msg, tc.status)
		})
	}

	t.Run("expired credentials", func(t *testing.T) {
		// Valid until Expiration, refused from then on.
		env.Clock.Set(guest.Expiration.Add(-time.Second))
		caller(t, env, guest)
		env.Clock.Set(*guest.Expiration)
		_, err := env.STSClient(static(ak, sk, tok)).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
		STSError(t, err, "ExpiredToken", msgExpiredToken, 400)
	})
}

// TestSTSAssumeRoleWithWebIdentity is the basic (classic) flow: GetId,
// GetOpenIdToken, then STS with the token, unsigned.
func TestSTSAssumeRoleWithWebIdentity(t *testing.T) {
	env := Start(t, Options{})
	w := worldIn(t, env, loginPoolInput("classic"))
	anon := env.STSClient(aws.AnonymousCredentials{})
	provider := strings.TrimPrefix(env.Issuer, "http://")

	guest := w.getID(t, nil)
	guestToken := aws.ToString(w.openID(t, guest, nil).Token)
	dev := w.developerToken(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{Logins: devLogin("web-user")})

	for _, tc := range []struct {
		name, token, sub, role, session string
		duration                        *int32
		lifetime                        time.Duration
	}{
		{"guest", guestToken, guest, unauthRole, "web-session", nil, time.Hour},
		{"developer user, 15 minutes", aws.ToString(dev.Token), aws.ToString(dev.IdentityId), authRole, "dev_session@example.com", aws.Int32(900), 15 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := anon.AssumeRoleWithWebIdentity(t.Context(), &sts.AssumeRoleWithWebIdentityInput{
				RoleArn: aws.String(tc.role), RoleSessionName: aws.String(tc.session), WebIdentityToken: aws.String(tc.token), DurationSeconds: tc.duration,
			})
			if err != nil {
				t.Fatalf("AssumeRoleWithWebIdentity: %v", err)
			}
			arn := assumedRole(tc.role, tc.session)
			if aws.ToString(out.AssumedRoleUser.Arn) != arn {
				t.Errorf("AssumedRoleUser.Arn %s, want %s", aws.ToString(out.AssumedRoleUser.Arn), arn)
			}
			if !strings.HasPrefix(aws.ToString(out.AssumedRoleUser.AssumedRoleId), "AROA") || !strings.HasSuffix(aws.ToString(out.AssumedRoleUser.AssumedRoleId), ":"+tc.session) {
				t.Errorf("AssumedRoleId %q", aws.ToString(out.AssumedRoleUser.AssumedRoleId))
			}
			if aws.ToString(out.SubjectFromWebIdentityToken) != tc.sub || aws.ToString(out.Audience) != w.pool || aws.ToString(out.Provider) != provider {
				t.Errorf("subject %q audience %q provider %q, want %q %q %q", aws.ToString(out.SubjectFromWebIdentityToken), aws.ToString(out.Audience), aws.ToString(out.Provider), tc.sub, w.pool, provider)
			}
			c := out.Credentials
			if !accessKeyPattern.MatchString(aws.ToString(c.AccessKeyId)) || len(aws.ToString(c.SecretAccessKey)) != 40 || aws.ToString(c.SessionToken) == "" {
				t.Errorf("credentials %q, secret of %d characters", aws.ToString(c.AccessKeyId), len(aws.ToString(c.SecretAccessKey)))
			}
			if d := c.Expiration.Sub(env.Clock.Peek().Add(tc.lifetime)); math.Abs(d.Seconds()) > 2 {
				t.Errorf("Expiration %v is %v away from now + %v", c.Expiration, d, tc.lifetime)
			}
			who, err := env.STSClient(static(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatalf("GetCallerIdentity: %v", err)
			}
			if aws.ToString(who.Arn) != arn || aws.ToString(who.Account) != AccountA {
				t.Errorf("caller %s in %s, want %s", aws.ToString(who.Arn), aws.ToString(who.Account), arn)
			}
		})
	}

	parts := strings.Split(guestToken, ".")
	claims := payload(t, guestToken)
	claims["sub"] = "us-east-1:00000000-0000-4000-8000-000000000000"
	forged := signRS512(t, "us-east-11", map[string]any{"sub": guest, "aud": w.pool, "amr": []string{"authenticated"}, "iss": env.Issuer,
		"exp": env.Clock.Peek().Add(time.Minute).Unix(), "iat": env.Clock.Peek().Unix()})
	for _, tc := range []struct {
		name, token string
		code, msg   string
	}{
		{"signed with another key", forged, "InvalidIdentityToken", msgInvalidWebIdentity},
		{"tampered payload", parts[0] + "." + b64.EncodeToString(mustJSON(t, claims)) + "." + parts[2], "InvalidIdentityToken", msgInvalidWebIdentity},
		{"tampered signature", parts[0] + "." + parts[1] + "." + flip(parts[2]), "InvalidIdentityToken", msgInvalidWebIdentity},
		{"not a JWT", "not-a-token", "InvalidIdentityToken", msgInvalidWebIdentity},
		{"foreign issuer", googleToken("someone"), "InvalidIdentityToken", "No OpenIDConnect provider found in your account for https://accounts.google.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := anon.AssumeRoleWithWebIdentity(t.Context(), &sts.AssumeRoleWithWebIdentityInput{
				RoleArn: aws.String(unauthRole), RoleSessionName: aws.String("web-session"), WebIdentityToken: aws.String(tc.token),
			})
			STSError(t, err, tc.code, tc.msg, 400)
		})
	}

	t.Run("expired token", func(t *testing.T) {
		tok := aws.ToString(w.openID(t, guest, nil).Token)
		exp := int64(payload(t, tok)["exp"].(float64))
		// Accepted for AWS's five minutes of clock skew past exp.
		env.Clock.Set(time.Unix(exp, 0).Add(tokens.ClockSkew - time.Second))
		if _, err := anon.AssumeRoleWithWebIdentity(t.Context(), &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String(unauthRole), RoleSessionName: aws.String("web-session"), WebIdentityToken: aws.String(tok),
		}); err != nil {
			t.Fatalf("AssumeRoleWithWebIdentity within the grace after exp: %v", err)
		}
		now := time.Unix(exp, 0).Add(tokens.ClockSkew)
		env.Clock.Set(now)
		_, err := anon.AssumeRoleWithWebIdentity(t.Context(), &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String(unauthRole), RoleSessionName: aws.String("web-session"), WebIdentityToken: aws.String(tok),
		})
		STSError(t, err, "ExpiredTokenException", fmt.Sprintf("Token expired: current date/time %d must be before the expiration date/time %d", now.Unix(), exp), 400)
	})
}
