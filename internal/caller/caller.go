// Package caller carries who made a request, as authentication established
// it, from the wire layer to the operations through the request context.
package caller

import (
	"context"
	"strings"
)

// Info describes the caller of one request.
type Info struct {
	// AccessKeyID is the access key of the request's signature, or "" for
	// an unsigned request.
	AccessKeyID string
	// Account is the 12-digit account the request acts for.
	Account string
	// Region is the region of the signature's credential scope, or "" for
	// an unsigned request.
	Region string
	// Signed reports whether the request carried a SigV4 signature.
	Signed bool
}

type key struct{}

// AccountOf is the account an access key acts for: a key that is itself a
// 12-digit number is that account (handy for tests that want several
// accounts), any other key acts for def.
func AccountOf(accessKeyID, def string) string {
	if len(accessKeyID) == 12 && strings.Trim(accessKeyID, "0123456789") == "" {
		return accessKeyID
	}
	return def
}

// With returns a context that carries info.
func With(ctx context.Context, info Info) context.Context {
	return context.WithValue(ctx, key{}, info)
}

// From returns the caller stored in ctx, or the zero Info.
func From(ctx context.Context) Info {
	info, _ := ctx.Value(key{}).(Info)
	return info
}
