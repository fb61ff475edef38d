//go:build unix && !linux

package libdir

import "golang.org/x/sys/unix"

func nameMax(st *unix.Statfs_t) uint64 { return 0 }

func blockSize(st *unix.Statfs_t) uint64 { return uint64(st.Bsize) }
