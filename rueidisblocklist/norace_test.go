//go:build !race

package rueidisblocklist

const raceEnabled = false
