//go:build unix

package libdir

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/paperfs/paperfs/meta"
)

// Space is the library folder's filesystem's figures, asked of the folder
// itself (fstatfs), so a symlink swapped in for it is not followed.
func (d *Dir) Space() (Space, error) {
	fd, err := d.openRoot()
	if err != nil {
		return Space{}, err
	}
	defer unix.Close(fd)
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return Space{}, &os.PathError{Op: "statfs", Path: meta.ShowPath(d.root), Err: err}
	}
	return Space{BlockSize: blockSize(&st), Blocks: uint64(st.Blocks), Free: uint64(st.Bfree),
		Avail: uint64(st.Bavail), Files: uint64(st.Files), FilesFree: uint64(st.Ffree), NameMax: nameMax(&st)}, nil
}
