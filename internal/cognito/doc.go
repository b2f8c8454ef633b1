// Package cognito implements the 23 operations of Amazon Cognito Identity
// and their rules, as docs/behaviour.md describes them.
//
// An operation is a method func(ctx, *In) (*Out, error) on Service. It knows
// nothing of HTTP: the wire layer (package awsjson) has already
// authenticated the caller (package caller), checked the input against the
// model, and decoded it; the operation applies the business rules, talks to
// the store and returns either its output or an *apierr.Error. Store
// sentinel errors are mapped here, never in the store.
//
// Where AWS's behaviour is not known, the choice made is written
// next to the code as a comment starting with "Choice:".
package cognito
