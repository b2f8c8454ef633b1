//go:build race

package replicas

// raceEnabled builds the replicas with the race detector when the tests
// run with it, so that races in the server under several replicas' load
// fail the test too.
const raceEnabled = true
