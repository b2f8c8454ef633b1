// Package awsjson implements the awsJson1_1 protocol of Cognito Identity on
// the server side: dispatch on X-Amz-Target, the body limit, the
// authentication hook, model checks (through package model), strict
// decoding into the operation's input type, the rate-limit hook, and the
// writing of results and errors.
//
// An operation is a plain func(ctx, *In) (*Out, error) registered with
// Register; it cannot skip any of the shared steps. Errors are written in
// exactly one place, WriteError, with __type and message in the body and the
// X-Amzn-ErrorType/x-amzn-ErrorMessage headers.
package awsjson
