package apierr

import (
	"errors"
	"fmt"
	"net/http"
)

// Code is a wire error code. Its value is exactly what AWS sends in the body's
// __type member and in the X-Amzn-ErrorType header, so code and SDK grep alike.
type Code string

// Modeled errors of the Cognito Identity API.
const (
	ConcurrentModification           Code = "ConcurrentModificationException"
	DeveloperUserAlreadyRegistered   Code = "DeveloperUserAlreadyRegisteredException"
	ExternalService                  Code = "ExternalServiceException"
	InternalError                    Code = "InternalErrorException"
	InvalidIdentityPoolConfiguration Code = "InvalidIdentityPoolConfigurationException"
	InvalidParameter                 Code = "InvalidParameterException"
	LimitExceeded                    Code = "LimitExceededException"
	NotAuthorized                    Code = "NotAuthorizedException"
	ResourceConflict                 Code = "ResourceConflictException"
	ResourceNotFound                 Code = "ResourceNotFoundException"
	TooManyRequests                  Code = "TooManyRequestsException"
)

// Framework errors that AWS's front end sends for any operation.
const (
	Validation                 Code = "ValidationException"
	Serialization              Code = "SerializationException"
	UnknownOperation           Code = "UnknownOperationException"
	MissingAuthenticationToken Code = "MissingAuthenticationTokenException"
	IncompleteSignature        Code = "IncompleteSignatureException"
	InvalidSignature           Code = "InvalidSignatureException"
	UnrecognizedClient         Code = "UnrecognizedClientException"
	ExpiredToken               Code = "ExpiredTokenException"
	AccessDenied               Code = "AccessDeniedException"
)

// Status is the HTTP status the live service sends with the code: 400 for
// every client error (even where the model declares 403/404/409/429: the
// service answers them all with 400) and 500 for the one server fault.
func (c Code) Status() int {
	if c == InternalError {
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// Error is an error that travels to the client as it is: its Code becomes
// __type and its Message becomes message.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// New returns an *Error with a fixed message.
func New(code Code, message string) *Error { return &Error{Code: code, Message: message} }

// Errorf returns an *Error whose message is formatted like fmt.Sprintf.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// internalMessage is what a client sees for any failure that is not an
// *Error; the cause goes to the log, never to the wire.
const internalMessage = "An internal error occurred. Please try again."

// From turns any error into the *Error written to the wire. An *Error found
// anywhere in the chain is returned; everything else becomes a generic
// InternalErrorException. The second result reports whether err was such an
// unexpected failure, so the caller can log its cause.
func From(err error) (e *Error, unexpected bool) {
	var ae *Error
	if errors.As(err, &ae) {
		return ae, false
	}
	return New(InternalError, internalMessage), true
}

// Is reports whether err carries an *Error with the given code.
func Is(err error, code Code) bool {
	var ae *Error
	return errors.As(err, &ae) && ae.Code == code
}
