package meta

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// HLC is a hybrid logical clock stamp. Stamps order every change in the
// library: by wall time in milliseconds, then a logical counter that keeps
// causality when clocks are skewed, then the device id so that two devices can
// never produce equal stamps. A device's clock runs ahead of every stamp it
// issued and every remote stamp it took (observeRemote bounds those), and an
// edit's stamp orders after the values it replaces (clock.after).
type HLC struct {
	Wall    int64  `json:"w"` // unix milliseconds
	Logical uint32 `json:"l"`
	Device  string `json:"d"`
}

// Less reports whether a orders strictly before b.
func (a HLC) Less(b HLC) bool {
	if a.Wall != b.Wall {
		return a.Wall < b.Wall
	}
	if a.Logical != b.Logical {
		return a.Logical < b.Logical
	}
	return a.Device < b.Device
}

// IsZero reports whether the stamp was never set.
func (a HLC) IsZero() bool { return a.Wall == 0 && a.Logical == 0 && a.Device == "" }

// Time is the stamp's wall component.
//
// The logical counter shows as microseconds, so two changes in the same
// millisecond have different times: a paper's "modified" names one version
// of it, which a sidecar save relies on to find what the editor read.
func (a HLC) Time() time.Time {
	return time.UnixMilli(a.Wall).Add(time.Duration(min(a.Logical, 999)) * time.Microsecond).UTC()
}

func (a HLC) String() string { return fmt.Sprintf("%d.%d@%s", a.Wall, a.Logical, a.Device) }

// encode is the compact stored form, "wall.logical.device".
func (a HLC) encode() string {
	if a.IsZero() {
		return ""
	}
	return strconv.FormatInt(a.Wall, 10) + "." + strconv.FormatUint(uint64(a.Logical), 10) + "." + a.Device
}

func decodeHLC(s string) (HLC, error) {
	if s == "" {
		return HLC{}, nil
	}
	w, rest, ok1 := strings.Cut(s, ".")
	l, dev, ok2 := strings.Cut(rest, ".")
	wall, err1 := strconv.ParseInt(w, 10, 64)
	logical, err2 := strconv.ParseUint(l, 10, 32)
	if !ok1 || !ok2 || err1 != nil || err2 != nil {
		return HLC{}, fmt.Errorf("bad clock %q", s)
	}
	return HLC{Wall: wall, Logical: uint32(logical), Device: dev}, nil
}

// clock issues stamps for one device.
type clock struct {
	device string
	now    func() time.Time

	mu     sync.Mutex // protects the following
	last   HLC
	offset time.Duration // wall clock minus the true time, as last measured
}

// tick returns a stamp later than every stamp issued or observed so far.
func (c *clock) tick() HLC {
	c.mu.Lock()
	defer c.mu.Unlock()
	wall := c.now().UnixMilli()
	if wall > c.last.Wall {
		c.last = HLC{Wall: wall, Device: c.device}
	} else {
		c.last = HLC{Wall: c.last.Wall, Logical: c.last.Logical + 1, Device: c.device}
	}
	return c.last
}

// MaxClockAhead bounds how far ahead of the true time, as this device
// best knows it, a stamp received from another device may be and still
// move this device's clock. A device whose clock runs ahead (a wrong time
// zone, a dead RTC battery) would otherwise drag every device's clock,
// and every "modified" time, with it. Its ops are applied all the same;
// only the clock ignores them.
const MaxClockAhead = time.Minute

// observeRemote moves the clock past a stamp received from another
// device, unless the stamp is more than MaxClockAhead ahead of the true
// time: the wall clock corrected by the offset the sync engine measured
// against the server (so a device whose own clock is behind still takes
// the others' correct stamps). It reports whether the stamp was taken.
func (c *clock) observeRemote(h HLC) bool {
	c.mu.Lock()
	offset := c.offset
	c.mu.Unlock()
	if h.Wall > c.now().Add(-offset).Add(MaxClockAhead).UnixMilli() {
		return false
	}
	c.observe(h)
	return true
}

// setOffset records how far this device's wall clock is off the true time.
func (c *clock) setOffset(d time.Duration) {
	c.mu.Lock()
	c.offset = d
	c.mu.Unlock()
}

// after is t, or if t does not order after floor, the stamp just after
// floor with this device's id. An edit's stamp must order after the
// stamps of the values it replaces, even when those come from a clock
// running ahead that observeRemote did not take: otherwise the edit
// would lose to the value it replaced. Only that op gets the late stamp;
// the device's clock stays where its wall clock is.
func (c *clock) after(t, floor HLC) HLC {
	if floor.Less(t) {
		return t
	}
	return HLC{Wall: floor.Wall, Logical: floor.Logical + 1, Device: c.device}
}

// observe moves the clock past a stamp.
func (c *clock) observe(h HLC) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last.Less(HLC{Wall: h.Wall, Logical: h.Logical, Device: c.device}) {
		c.last = HLC{Wall: h.Wall, Logical: h.Logical, Device: c.device}
	}
}
