package fs

import (
	"fmt"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/libdir"
)

// Space is what a frontend reports to statfs.
type Space = libdir.Space

// NameMax is the longest name the view gives or takes, in bytes (meta's
// bound on every name it makes).
const NameMax = meta.MaxNameBytes

// Space is the view's figures for statfs (df): the library folder's
// filesystem's, which is where what is copied in goes, with the view's
// name length limit. A view with no library folder reports no space.
func (f *FS) Space() (Space, error) {
	if f.opts.Folder == nil {
		return Space{BlockSize: 4096, NameMax: NameMax}, nil
	}
	s, err := f.opts.Folder.Space()
	if err != nil {
		return Space{}, fmt.Errorf("space of the library folder: %w", err)
	}
	if s.BlockSize == 0 {
		s.BlockSize = 4096
	}
	s.NameMax = NameMax
	return s, nil
}
