package ginjwt

// IndexPySpace exposes indexPySpace to the external tests.
var IndexPySpace = indexPySpace
