package library

import (
	"errors"
	"io/fs"
	"os"

	"github.com/paperfs/paperfs/meta"
)

// takenNames is the set of names in dir by meta.NameKey: a name is free
// only if no file in dir has it in any case or normal form, since the
// cloud drive carries the folder to macOS and Windows, which take those
// for one name. A folder that does not exist holds none.
func takenNames(dir string) (map[string]bool, error) {
	f, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	taken := make(map[string]bool, len(names))
	for _, n := range names {
		taken[meta.NameKey(n)] = true
	}
	return taken, nil
}
