// Package apierr holds the wire error codes of the Cognito Identity API as
// values, and the one error type that reaches clients.
//
// Handlers return errors; exactly one function (awsjson's error writer) turns
// them into a response. An error that is not an *Error never reaches the wire
// with its text: it becomes InternalErrorException with a generic message and
// its cause is logged.
package apierr
