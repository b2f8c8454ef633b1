// Package reqinfo carries per-request facts through the context: the
// request id, and the outcome (operation and error code) that the
// protocol handlers record for the access log and metrics.
package reqinfo

import "context"

type requestIDKey struct{}

// RequestID returns the id of the request being served, as sent in
// x-amzn-RequestId.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// WithRequestID returns a context carrying the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// Outcome is what a handler reports about a request.
type Outcome struct {
	Operation string // e.g. "GetId" or "sts:GetCallerIdentity"
	Code      string // the error code sent, "" on success
}

type outcomeKey struct{}

// WithOutcome returns a context in which handlers record into o.
func WithOutcome(ctx context.Context, o *Outcome) context.Context {
	return context.WithValue(ctx, outcomeKey{}, o)
}

// Record stores the outcome of the request, if the context collects one.
func Record(ctx context.Context, op, code string) {
	if o, ok := ctx.Value(outcomeKey{}).(*Outcome); ok {
		o.Operation, o.Code = op, code
	}
}
