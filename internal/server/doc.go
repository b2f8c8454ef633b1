// Package server assembles idpool: it builds the store-backed service, the
// awsJson1_1 pipeline and the routes around them, and runs the HTTP server
// with its shared middleware (request ids, Date and CORS headers,
// preflights, panic recovery, access logs) and graceful shutdown.
package server
