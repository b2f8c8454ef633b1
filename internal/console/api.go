package console

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/caller"
	"github.com/idpool/idpool/internal/cognito"
	"github.com/idpool/idpool/internal/tokens"
)

// aws serves POST /console/api/aws: an API request, run by the API's own
// pipeline as the session's caller. GetCredentialsForIdentity is answered
// with more than the API gives (which role, why, and who STS says the
// credentials are) and less (never the secret key).
func (c *Console) aws(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".GetCredentialsForIdentity") {
		c.api.ServeHTTP(w, r)
		return
	}
	d := &cognito.RoleDecision{}
	buf := &bufferWriter{header: http.Header{}, status: http.StatusOK}
	c.api.ServeHTTP(buf, r.WithContext(cognito.WithRoleDecision(r.Context(), d)))
	out := map[string]any{}
	if err := json.Unmarshal(buf.body.Bytes(), &out); err != nil {
		c.fail(w, r, err)
		return
	}
	if d.RoleARN != "" {
		out["RoleArn"], out["RoleDecision"] = d.RoleARN, d.Why
	}
	if creds, ok := out["Credentials"].(map[string]any); ok {
		ak, _ := creds["AccessKeyId"].(string)
		sk, _ := creds["SecretKey"].(string)
		st, _ := creds["SessionToken"].(string)
		who, err := c.callerIdentity(r.Context(), r.Host, ak, sk, st)
		if err != nil {
			out["CallerIdentityError"] = err.Error()
		} else {
			out["CallerIdentity"] = who
		}
		delete(creds, "SecretKey")
		creds["SessionToken"] = preview(st)
	}
	w.Header().Set("Content-Type", buf.header.Get("Content-Type"))
	w.WriteHeader(buf.status)
	b, _ := json.Marshal(out)
	w.Write(b)
}

// preview shortens a secret-bearing string to a recognisable stub.
func preview(s string) string {
	if len(s) <= 16 {
		return strings.Repeat("•", len(s))
	}
	return s[:8] + "…" + s[len(s)-4:]
}

// CallerIdentity is STS GetCallerIdentity's answer.
type CallerIdentity struct {
	Arn     string
	UserId  string
	Account string
}

// callerIdentity asks the server's STS endpoint, through the server's own
// handler, who a set of credentials is: a signed GetCallerIdentity, as a
// client would send it.
func (c *Console) callerIdentity(ctx context.Context, host, ak, sk, st string) (*CallerIdentity, error) {
	body := url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+host+"/", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("X-Amz-Security-Token", st)
	req.RemoteAddr = "127.0.0.1:0"
	hash := sha256Hex([]byte(body))
	creds := aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk, SessionToken: st}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hash, "sts", c.o.DefaultRegion, c.o.Clock()); err != nil {
		return nil, err
	}
	buf := &bufferWriter{header: http.Header{}, status: http.StatusOK}
	c.o.API().ServeHTTP(buf, req)
	if buf.status != http.StatusOK {
		var e struct {
			Error struct{ Code, Message string }
		}
		xml.Unmarshal(buf.body.Bytes(), &e)
		return nil, errors.New("STS GetCallerIdentity: " + e.Error.Code + ": " + e.Error.Message)
	}
	var resp struct {
		Result CallerIdentity `xml:"GetCallerIdentityResult"`
	}
	if err := xml.Unmarshal(buf.body.Bytes(), &resp); err != nil {
		return nil, err
	}
	return &resp.Result, nil
}

// bufferWriter keeps an answer in memory.
type bufferWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferWriter) Header() http.Header         { return b.header }
func (b *bufferWriter) WriteHeader(status int)      { b.status = status }
func (b *bufferWriter) Write(p []byte) (int, error) { return b.body.Write(p) }

// identity serves POST /console/api/identity {"IdentityId"}.
func (c *Console) identity(w http.ResponseWriter, r *http.Request) {
	var in struct{ IdentityId string }
	if err := decode(w, r, &in); err != nil {
		c.fail(w, r, err)
		return
	}
	d, err := c.o.Service.IdentityDetail(c.ctx(r), in.IdentityId)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	reply(w, d)
}

// findLogin serves POST /console/api/find-login.
func (c *Console) findLogin(w http.ResponseWriter, r *http.Request) {
	var in struct{ IdentityPoolId, Provider, Subject string }
	if err := decode(w, r, &in); err != nil {
		c.fail(w, r, err)
		return
	}
	id, err := c.o.Service.FindIdentityByLogin(c.ctx(r), in.IdentityPoolId, in.Provider, in.Subject)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	reply(w, map[string]string{"IdentityId": id})
}

// unlink serves POST /console/api/unlink: an owner's unlink of logins.
func (c *Console) unlink(w http.ResponseWriter, r *http.Request) {
	var in struct {
		IdentityId     string
		LoginsToRemove []string
	}
	if err := decode(w, r, &in); err != nil {
		c.fail(w, r, err)
		return
	}
	if err := c.o.Service.UnlinkLogins(c.ctx(r), in.IdentityId, in.LoginsToRemove); err != nil {
		c.fail(w, r, err)
		return
	}
	reply(w, struct{}{})
}

// ctx is a console request's context with its caller, for the service
// methods that are called directly.
func (c *Console) ctx(r *http.Request) context.Context {
	return caller.With(r.Context(), callerOf(r, c.o.DefaultRegion))
}

// TokenView is a token taken apart: its header and claims as sent, and
// whether this server's keys verify it.
type TokenView struct {
	Header json.RawMessage
	Claims json.RawMessage
	Valid  bool
	// Why says what failed when Valid is false.
	Why     string `json:",omitempty"`
	Expires string `json:",omitempty"`
}

// inspectToken serves POST /console/api/inspect-token {"Token"}: the token
// decoded, and verified by the issuer as GetCredentialsForIdentity would
// (signature by a published key, issuer, expiry).
func (c *Console) inspectToken(w http.ResponseWriter, r *http.Request) {
	var in struct{ Token string }
	if err := decode(w, r, &in); err != nil {
		c.fail(w, r, err)
		return
	}
	parts := strings.Split(in.Token, ".")
	if len(parts) != 3 {
		c.fail(w, r, apierr.New(apierr.Validation, "A token has three dot-separated parts."))
		return
	}
	var v TokenView
	for i, dst := range []*json.RawMessage{&v.Header, &v.Claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || !json.Valid(b) {
			c.fail(w, r, apierr.New(apierr.Validation, "The token's parts are not base64url JSON."))
			return
		}
		*dst = b
	}
	claims, err := c.o.Issuer.Verify(r.Context(), in.Token)
	switch {
	case err == nil:
		v.Valid, v.Expires = true, claims.Expiry.UTC().Format(time.RFC3339)
	case errors.Is(err, tokens.ErrInvalid):
		v.Why = strings.TrimPrefix(err.Error(), tokens.ErrInvalid.Error()+"\n")
	default:
		c.fail(w, r, err)
		return
	}
	reply(w, v)
}

// KeyView is a signing key as the console lists it.
type KeyView struct {
	Kid       string
	Created   string
	RetiresAt string `json:",omitempty"`
	DropsAt   string `json:",omitempty"`
	State     string
}

func (c *Console) keyViews() []KeyView {
	var out []KeyView
	for _, k := range c.o.Ring.Keys(c.o.Clock()) {
		kv := KeyView{Kid: k.ID, Created: k.Created.UTC().Format(time.RFC3339), State: k.State}
		if k.RetiresAt != nil {
			kv.RetiresAt = k.RetiresAt.UTC().Format(time.RFC3339)
			kv.DropsAt = k.DropsAt.UTC().Format(time.RFC3339)
		}
		out = append(out, kv)
	}
	return out
}

// keys serves POST /console/api/keys: the keys and the JWKS.
func (c *Console) keys(w http.ResponseWriter, r *http.Request) {
	if err := c.o.Ring.Refresh(r.Context()); err != nil {
		c.fail(w, r, err)
		return
	}
	reply(w, map[string]any{"Keys": c.keyViews(), "JWKS": json.RawMessage(c.o.Ring.JWKS()),
		"JWKSURL": c.o.Issuer.URL() + "/.well-known/jwks_uri"})
}

// rotate serves POST /console/api/keys/rotate. Signing keys are the
// server's, not an account's: in strict mode any signed-in key may rotate,
// as any holder of the server's credentials file may run idpool keys
// rotate.
func (c *Console) rotate(w http.ResponseWriter, r *http.Request) {
	id, err := c.o.Ring.Rotate(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	reply(w, map[string]any{"NewKid": id, "Keys": c.keyViews()})
}
