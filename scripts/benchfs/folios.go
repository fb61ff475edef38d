//go:build linux

package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// folioKiB is the mean size of the page-cache folios that hold the first
// pages of the file at path (already cached: mapping it faults in what the
// cache holds and reads nothing new), from /proc/self/pagemap and
// /proc/kpageflags (root only). A read(2) from the page cache costs per
// folio, so a filesystem whose cache holds 4 KiB folios serves a second
// read slower than one holding large folios: this is what the read
// benchmark prints beside its second-read ratio.
func folioKiB(path string, pages int) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	size := pages * os.Getpagesize()
	m, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0, err
	}
	defer unix.Munmap(m)
	var sum byte
	for i := 0; i < size; i += os.Getpagesize() {
		sum += m[i] // fault the page in: it is in the cache, nothing is read
	}
	runtime.KeepAlive(sum) // kept, so the loop is not optimised away
	pagemap, err := os.Open("/proc/self/pagemap")
	if err != nil {
		return 0, err
	}
	defer pagemap.Close()
	flags, err := os.Open("/proc/kpageflags")
	if err != nil {
		return 0, err
	}
	defer flags.Close()
	const (
		present      = 1 << 63
		pfnMask      = 1<<55 - 1
		compoundHead = 1 << 15
		compoundTail = 1 << 16
	)
	base := uintptr(unsafe.Pointer(&m[0])) / uintptr(os.Getpagesize())
	var buf [8]byte
	resident, folios := 0, 0
	for i := range pages {
		if _, err := pagemap.ReadAt(buf[:], int64(base+uintptr(i))*8); err != nil {
			return 0, err
		}
		e := binary.LittleEndian.Uint64(buf[:])
		if e&present == 0 {
			continue
		}
		pfn := e & pfnMask
		if pfn == 0 {
			return 0, fmt.Errorf("pagemap shows no frame numbers (not root?)")
		}
		if _, err := flags.ReadAt(buf[:], int64(pfn)*8); err != nil {
			return 0, err
		}
		fl := binary.LittleEndian.Uint64(buf[:])
		resident++
		if fl&compoundTail == 0 { // a head or an order-0 folio starts a folio
			folios++
		}
	}
	if folios == 0 {
		return 0, fmt.Errorf("%s: no cached pages", path)
	}
	return float64(resident) * float64(os.Getpagesize()) / 1024 / float64(folios), nil
}
