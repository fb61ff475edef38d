package fs

import (
	"errors"
	"fmt"

	"github.com/paperfs/paperfs/meta"
)

// Groups are the directories of tags/, authors/, years/ and folders/.
// Tags and folders are the user's: mkdir makes one, rmdir removes an
// empty one, mv renames one on every paper. Authors and years come from
// the papers' metadata.

// Groups lists the groups of kind k.
func (f *FS) Groups(k meta.Kind) ([]meta.Group, error) {
	if k == Duplicates {
		return f.duplicateGroups()
	}
	gs, err := f.store.Groups(k)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", k, err)
	}
	return gs, nil
}

// HasGroup reports whether k/name exists.
func (f *FS) HasGroup(k meta.Kind, name string) (bool, error) {
	if k == Duplicates {
		_, err := f.dupGroup(name)
		if isNotFound(err) {
			return false, nil
		}
		return err == nil, err
	}
	ok, err := f.store.HasGroup(k, name)
	if err != nil {
		return false, fmt.Errorf("%s/%s: %w", k, name, err)
	}
	return ok, nil
}

// readOnlyGroup is the refusal of a change to authors/ or years/.
func (f *FS) readOnlyGroup(k meta.Kind, name string) error {
	return f.refuse(string(k)+"/"+name, string(k)+" come from the papers' metadata; edit a paper's .json to change them", ErrNotPermitted)
}

// mayChangeGroup refuses a change to the group directory k/name of a
// library this device may only read, and any to duplicates/ (found, not
// made).
func (f *FS) mayChangeGroup(k meta.Kind, name string) error {
	file := string(k) + "/" + name
	if err := f.writable(file); err != nil {
		return err
	}
	if k == Duplicates {
		return f.duplicatesRefusal(file)
	}
	return nil
}

// Mkdir creates an empty tag or folder.
func (f *FS) Mkdir(k meta.Kind, name string) error {
	if err := f.mayChangeGroup(k, name); err != nil {
		return err
	}
	err := f.store.CreateGroup(k, name)
	if errors.Is(err, meta.ErrReadOnly) {
		return f.readOnlyGroup(k, name)
	}
	if err != nil {
		return fmt.Errorf("creating %s/%s: %w", k, name, err)
	}
	return nil
}

// Rmdir removes an empty tag or folder.
func (f *FS) Rmdir(k meta.Kind, name string) error {
	if err := f.mayChangeGroup(k, name); err != nil {
		return err
	}
	err := f.store.RemoveGroup(k, name)
	if errors.Is(err, meta.ErrReadOnly) {
		return f.readOnlyGroup(k, name)
	}
	if err != nil {
		return fmt.Errorf("removing %s/%s: %w", k, name, err)
	}
	return nil
}

// RenameGroup renames a tag or folder on every paper that has it. It
// never merges two: renaming onto an existing one fails (move the papers
// instead).
func (f *FS) RenameGroup(k meta.Kind, from, to string) error {
	if err := f.mayChangeGroup(k, from); err != nil {
		return err
	}
	if ok, _ := f.store.HasGroup(k, to); ok {
		return fmt.Errorf("%s/%s: %w (move the papers instead of merging two %s by a rename)", k, to, meta.ErrExists, k)
	}
	n, err := f.store.RenameGroup(k, from, to)
	if errors.Is(err, meta.ErrReadOnly) {
		return f.readOnlyGroup(k, from)
	}
	if err != nil {
		return fmt.Errorf("renaming %s/%s: %w", k, from, err)
	}
	f.log.Info("renamed", "from", string(k)+"/"+from, "to", string(k)+"/"+to, "papers", n)
	f.renameScratchView(meta.View{Kind: k, Group: from}.String(), meta.View{Kind: k, Group: to}.String())
	return nil
}

// The root's children, in listing order: one directory per kind of view,
// library.bib and the control directory.
var (
	// RootDirs are the views at the root.
	RootDirs = []meta.Kind{meta.All, meta.Tags, meta.Authors, meta.Years, meta.Folders, meta.Untagged, meta.Trash, meta.Missing, Duplicates}
	// ControlDir holds what the view has to tell the user.
	ControlDir = ".paperfs"
)

// RootRefusal is the refusal of anything made at the root, which holds
// only the views.
func (f *FS) RootRefusal(name string) error {
	return f.refuse(name, "the top of the mount holds only the views; put papers in all/ or a tag, and make tags with mkdir tags/NAME", ErrNotPermitted)
}

// FixedRefusal is the refusal of removing or renaming what the mount
// itself makes: the views, library.bib, .paperfs and its files.
func (f *FS) FixedRefusal(name string) error {
	return f.refuse(name, "the mount makes this itself; it cannot be removed or renamed", ErrNotPermitted)
}

// GroupsRefusal is the refusal of a file made directly in tags/,
// authors/, ...: they hold groups.
func (f *FS) GroupsRefusal(k meta.Kind, name string) error {
	return f.refuse(string(k)+"/"+name, string(k)+"/ holds folders only; put the file in one of them, or in all/", ErrNotPermitted)
}

// Control lists the control files of .paperfs/: errors is the recent
// refusals, newest last.
func (f *FS) Control() []*Generated {
	return []*Generated{{Name: "errors", gen: f.errorsJSON}}
}
