package library

import (
	"errors"
	"fmt"
	"time"
)

// ErrUnavailable says the library folder is not there: unmounted,
// disconnected or renamed away. The papers are kept as they were (none is
// flagged missing) until it is back.
var ErrUnavailable = errors.New("library folder not available")

// FolderState says whether the library folder was there at the last scan.
type FolderState struct {
	Available bool
	Since     time.Time // when it was found missing
	Reason    string    // why it is taken as missing
}

// FolderState is the library folder's state for status.
func (l *Library) FolderState() FolderState {
	l.stateMu.Lock()
	defer l.stateMu.Unlock()
	return l.state
}

// unavailable records that the folder is not there and returns the error
// a scan answers.
func (l *Library) unavailable(reason string) error {
	l.stateMu.Lock()
	if l.state.Available {
		l.state = FolderState{Since: time.Now().UTC()}
	}
	l.state.Reason = reason
	l.stateMu.Unlock()
	return fmt.Errorf("library folder %s: %w: %s; keeping the papers as they are until it is back", l.Root, ErrUnavailable, reason)
}

func (l *Library) available() {
	l.stateMu.Lock()
	l.state = FolderState{Available: true}
	l.stateMu.Unlock()
}

// checkMounted finds the folder unavailable if it was a mount point of its
// own (a cloud drive, a network share) and is not one now, and holds none
// of the papers' PDFs (holdsAny is false): the drive is not mounted, and
// what is there is the folder it mounts on, not a library whose every PDF
// was deleted. Otherwise it records whether the folder is a mount point,
// for the next scans.
func (l *Library) checkMounted(holdsAny bool) error {
	now, err := l.dir.IsMountPoint()
	if err != nil {
		return l.unavailable(err.Error())
	}
	was, err := l.store.LibraryMountPoint()
	if err != nil {
		return err
	}
	if was && !now && !holdsAny {
		return l.unavailable("it was a mount point of its own (a cloud drive or network share) and is not mounted now")
	}
	if now != was {
		return l.store.SetLibraryMountPoint(now)
	}
	return nil
}
