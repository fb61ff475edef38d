//go:build unix && !linux && !darwin

package libdir

func renameNoReplace(fromfd int, from string, tofd int, to string) error {
	return renameNoReplaceLink(fromfd, from, tofd, to)
}
