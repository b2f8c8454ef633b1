// Package caller carries who made a request, as authentication established
// it, from the wire layer to the operations through the request context.
package caller

import "context"

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

// With returns a context that carries info.
func With(ctx context.Context, info Info) context.Context {
	return context.WithValue(ctx, key{}, info)
}

// From returns the caller stored in ctx, or the zero Info.
func From(ctx context.Context) Info {
	info, _ := ctx.Value(key{}).(Info)
	return info
}
