// Package docs holds ginjwt's documentation pages (the *.md files beside
// this one). It has no code of its own: its tests build every Go code block
// of these pages and of the root README.md against the current ginjwt, and
// check that the links and run commands point at files that exist, so the
// documentation cannot drift from the API unnoticed.
package docs
