// Package auth decides who a request comes from.
//
// Permissive, the default, accepts every request, signed or not, the way a
// local emulator should: the access key and region of a SigV4 signature are
// read (never checked) so that pools land in the account and region the
// client believes it uses.
package auth

import (
	"net/http"
	"strings"

	"github.com/idpool/idpool/internal/caller"
	"github.com/idpool/idpool/internal/model"
	"github.com/idpool/idpool/internal/sigv4"
)

// Permissive accepts any request.
type Permissive struct {
	// DefaultAccount is the account of unsigned requests and of access
	// keys that are not themselves a 12-digit account id.
	DefaultAccount string
}

// Authenticate reads the access key and region from the request's
// signature, if it has one, and checks nothing.
func (p Permissive) Authenticate(r *http.Request, _ []byte, _ *model.Operation) (caller.Info, error) {
	info := caller.Info{Account: p.DefaultAccount}
	key, region, ok := CredentialScope(r)
	if !ok {
		return info, nil
	}
	info.AccessKeyID, info.Signed = key, true
	if sigv4.ValidRegion(region) {
		// A scope naming no real region ("local", say) acts in the
		// default region, as an unsigned call does.
		info.Region = region
	}
	info.Account = caller.AccountOf(key, p.DefaultAccount)
	return info, nil
}

// CredentialScope returns the access key id and region of a request's SigV4
// credential, from the Authorization header or the X-Amz-Credential query
// parameter. ok is false when the request carries no readable credential.
func CredentialScope(r *http.Request) (accessKeyID, region string, ok bool) {
	var cred string
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "AWS4-HMAC-SHA256 ") {
		for _, part := range strings.Split(strings.TrimPrefix(h, "AWS4-HMAC-SHA256 "), ",") {
			if v, found := strings.CutPrefix(strings.TrimSpace(part), "Credential="); found {
				cred = v
				break
			}
		}
	} else if q := r.URL.Query().Get("X-Amz-Credential"); q != "" {
		cred = q
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" || parts[2] == "" {
		return "", "", false
	}
	return parts[0], parts[2], true
}
