//go:build race

package rueidisblocklist_test

// raceEnabled: the race detector changes what the heap holds, so the
// tests that count heap bytes per answer only check the count.
const raceEnabled = true
