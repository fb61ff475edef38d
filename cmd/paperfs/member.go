package main

import (
	"net/url"
	"os"
	"strings"

	"github.com/paperfs/paperfs/meta"
	psync "github.com/paperfs/paperfs/sync"
)

// memberName is who this device's changes to a library are made by, as
// every device shows them (paperfs log, the server's papers documents):
// the display name the config gives, else the database user the device
// syncs as, else "" (the opener then takes the device name, which it
// knows only once the store is open: deviceMember).
func memberName(display, uri string) string {
	if m := meta.CleanMember(display); m != "" {
		return m
	}
	return meta.CleanMember(uriUser(uri))
}

// deviceMember is the member of a device with no display name and no
// database user: its name, as sync shows it.
func deviceMember(cfg *Config, store *meta.Store) string {
	if cfg.DeviceName != "" {
		return cfg.DeviceName
	}
	if n := psync.StoredDeviceName(store); n != "" {
		return n
	}
	n, _ := os.Hostname()
	return n
}

// uriUser is the user name of a MongoDB connection string, "" if it has
// none or does not parse. Only the name is read: the password is neither
// kept nor shown, and neither is anything of a URI that does not parse.
// The authority is cut by hand: a URI may list several hosts
// ("h1:27017,h2:27017"), which net/url refuses.
func uriUser(uri string) string {
	_, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		rest = rest[:i]
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return ""
	}
	user, _, _ := strings.Cut(rest[:at], ":")
	u, err := url.PathUnescape(user)
	if err != nil {
		return ""
	}
	return u
}
