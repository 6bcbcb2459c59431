// Package docs holds ginjwt's documentation pages (the *.md files beside
// this one). It has no code of its own: its tests build every Go code block
// of these pages and of the root README.md against the current ginjwt,
// check that the links and run commands point at files that exist, and
// hold the statements the pages make (the install commands, the Go
// versions, the bodies they quote, what OPTIONS requests get) to what they
// describe, so the documentation cannot drift from the API unnoticed.
package docs
