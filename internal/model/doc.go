// Package model is the Cognito Identity API model, read from the embedded
// model-facts.json (the model's machine-readable copy: operations, shapes
// and constraints, as the AWS SDKs' models give them), and the request
// checks derived from it.
//
// The rules are never written by hand: every operation's input is parsed
// against its shape (JSON types, giving SerializationException) and checked
// against the model's constraints (required, length, range, pattern, enum,
// entry counts, giving ValidationException in AWS's message format). A test
// pins the embedded file, so that it changes only on purpose.
package model
