// Package server assembles idpool: it builds the store-backed service, the
// awsJson1_1 pipeline and the routes around them, and runs the HTTP server
// with its shared middleware (request ids, Date and CORS headers,
// preflights, panic recovery, metrics, access logs) and graceful shutdown.
//
// The metrics (internal/metrics) are observed at the edges the server
// owns: the middleware counts and times every request that reached an
// operation, a wrapper of the rate limiter counts refusals, the store is
// wrapped in a timing decorator, and the service and the STS handler tell
// an observer what they issued. GET /metrics serves them on the API
// handler unless Options.MetricsOffAPI, and MetricsHandler serves them
// anywhere else.
package server
