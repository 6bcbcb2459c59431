//go:build !race

package rueidisblocklist_test

const raceEnabled = false
