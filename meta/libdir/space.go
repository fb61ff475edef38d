package libdir

// Space is what the filesystem holding the library folder has: what a
// mount reports to statfs (df), so a copy into it can tell whether it fits.
type Space struct {
	BlockSize           uint64 // bytes a block of Blocks, Free and Avail
	Blocks, Free, Avail uint64 // Avail: free to an unprivileged user
	Files, FilesFree    uint64
	NameMax             uint64 // longest file name, in bytes; 0 when not known
}
