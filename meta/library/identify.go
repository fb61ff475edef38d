package library

// Identify checks that the file at src can be imported (it is a PDF) and
// returns the id of the paper that has its content already, if one does.
// It reads and hashes the file and extracts nothing, so a frontend can
// answer a copy at once and import it afterwards.
func (l *Library) Identify(src string) (string, error) {
	sum, _, err := l.checkAndHash(src)
	if err != nil {
		return "", err
	}
	ids, err := l.store.ByHash(sum)
	if err != nil || len(ids) == 0 {
		return "", err
	}
	return ids[0], nil
}
