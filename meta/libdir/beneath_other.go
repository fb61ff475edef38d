//go:build unix && !linux

package libdir

// openBeneath opens rel beneath dirfd without following any symlink.
func openBeneath(dirfd int, rel string, flags int, mode uint32) (int, error) {
	return walkOpen(dirfd, rel, flags, mode)
}
