package library

import (
	"os"
	"time"
)

// lockTemp does nothing on Windows: abandoned goes by age.
func lockTemp(f *os.File) {}

// abandoned reports whether a temporary file was left by a process that
// died: untouched for staleAfter.
func abandoned(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && time.Since(st.ModTime()) > staleAfter
}
