// Package model is the Cognito Identity API model, read from the embedded
// model-facts.json (a copy of ../shared/spec/model-facts.json), and the
// request checks derived from it.
//
// The rules are never written by hand: every operation's input is parsed
// against its shape (JSON types, giving SerializationException) and checked
// against the model's constraints (required, length, range, pattern, enum,
// entry counts, giving ValidationException in AWS's message format). A test
// keeps the embedded copy identical to the spec's file.
package model
