// Package compare compares rueidisblocklist with redisblocklist in its
// tests: both stores on one Redis, and one benchmark of both. It is a
// module of its own, never published, so that users of rueidisblocklist
// do not get go-redis in their module graph.
package compare
