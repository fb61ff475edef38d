package fs

import "os"

// owner is a file's owner: Windows has none in Unix terms.
func owner(st os.FileInfo) (uid, gid uint32, ok bool) { return 0, 0, false }
