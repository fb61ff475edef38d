//go:build unix

package fs

import (
	"os"
	"syscall"
)

// owner is a file's owner, where the platform has one.
func owner(st os.FileInfo) (uid, gid uint32, ok bool) {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return s.Uid, s.Gid, true
	}
	return 0, 0, false
}
