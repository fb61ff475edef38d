package libdir

import (
	"errors"

	"golang.org/x/sys/unix"
)

func renameNoReplace(fromfd int, from string, tofd int, to string) error {
	err := unix.Renameat2(fromfd, from, tofd, to, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		return renameNoReplaceLink(fromfd, from, tofd, to)
	}
	return err
}
