package libdir

import (
	"os"

	"golang.org/x/sys/windows"

	"github.com/paperfs/paperfs/meta"
)

// Space is the library folder's volume's figures.
func (d *Dir) Space() (Space, error) {
	p, err := windows.UTF16PtrFromString(d.root)
	if err != nil {
		return Space{}, err
	}
	var avail, total, free uint64
	if err := windows.GetDiskFreeSpaceEx(p, &avail, &total, &free); err != nil {
		return Space{}, &os.PathError{Op: "statfs", Path: meta.ShowPath(d.root), Err: err}
	}
	return Space{BlockSize: 1, Blocks: total, Free: free, Avail: avail, NameMax: 255}, nil
}
