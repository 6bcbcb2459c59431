//go:build race

package rueidisblocklist

// raceEnabled: the race detector changes what the heap holds, so the
// tests that measure the heap per answer skip.
const raceEnabled = true
