// Package metrics owns idpool's Prometheus registry and every collector in
// it; the server, the store and the handlers only observe into what it
// hands them.
//
// The registry is private to one Metrics (never Prometheus' global one),
// so that two servers in one process, as tests run them, count apart.
//
// Every label has a bounded set of values, fixed when the Metrics is
// built: operation names come from the API model (anything else is counted
// as Other), error types are wire error codes, token kinds and credential
// flows are the few the server names. No label ever carries a pool id, an
// identity id, an account or anything a client chose freely, so the number
// of series cannot grow with traffic.
//
// The children of the labelled metrics that the request path touches are
// looked up once, in New, so that observing a request costs a map lookup
// and a few atomic additions, and allocates nothing.
package metrics
