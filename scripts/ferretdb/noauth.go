//go:build !paperfs_overlay

package main

import (
	"errors"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// authConfig mirrors ferretdb.AuthConfig, which exists only in a build
// with the overlay.
type authConfig struct{ SetupDatabase, SetupUsername, SetupPassword string }

func newWithAuth(*ferretdb.Config, authConfig) (*ferretdb.FerretDB, error) {
	return nil, errors.New("-auth needs a build with overlay/newauth.go.txt and -tags paperfs_overlay (see main.go)")
}
