//go:build paperfs_overlay

package main

import "github.com/FerretDB/FerretDB/ferretdb"

type authConfig = ferretdb.AuthConfig

func newWithAuth(cfg *ferretdb.Config, auth authConfig) (*ferretdb.FerretDB, error) {
	return ferretdb.NewWithAuth(cfg, auth)
}
