//go:build go1.26

// go.mod's go line is the oldest Go that builds paperfs (1.25), and the go
// line also picks the default GODEBUG settings. Built with Go 1.26 or later,
// paperfs keeps that Go's defaults instead of 1.25's (post-quantum TLS key
// exchange with MongoDB servers, strict URL host parsing). Go 1.25 does not
// know "go1.26" here, hence the build tag.

//go:debug default=go1.26

package main
