//go:build linux || darwin

package fuse

import (
	"strconv"
	"testing"

	pfs "github.com/paperfs/paperfs/fs"
	"github.com/paperfs/paperfs/meta"
)

// Sidecar inode numbers must not change across versions: sidecarIno
// computes what ino did over the joined key.
func TestSidecarInoStable(t *testing.T) {
	for _, v := range []meta.View{{Kind: meta.All}, {Kind: meta.Tags, Group: "systems"}, {Kind: meta.Authors, Group: "Leslie Lamport"}} {
		for _, gen := range []int{0, 1, 12} {
			want := ino(pfs.ExtJSON, v.String()+"\x00"+"abc123def456"+"\x00"+strconv.Itoa(gen))
			if got := sidecarIno(v, "abc123def456", gen); got != want {
				t.Errorf("sidecarIno(%v, gen %d) = %x, want %x", v, gen, got, want)
			}
		}
	}
}
