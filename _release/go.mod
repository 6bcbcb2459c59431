module github.com/ginjwt/ginjwt/_release

go 1.25.0
