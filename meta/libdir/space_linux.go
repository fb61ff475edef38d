package libdir

import "golang.org/x/sys/unix"

func nameMax(st *unix.Statfs_t) uint64 { return uint64(st.Namelen) }

// blockSize is the unit of the block counts: the fragment size on Linux.
func blockSize(st *unix.Statfs_t) uint64 {
	if st.Frsize > 0 {
		return uint64(st.Frsize)
	}
	return uint64(st.Bsize)
}
