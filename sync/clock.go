package sync

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/paperfs/paperfs/meta"
)

// ClockWarnAfter is the offset from the server's clock past which Status
// warns: beyond it, concurrent edits of one field are decided by the
// skew rather than by which edit came last.
const ClockWarnAfter = 10 * time.Second

// clockEvery is how often a running engine measures its clock again.
const clockEvery = 5 * time.Minute

// measureClock asks the server for its time (the hello reply's localTime,
// which MongoDB and FerretDB both send) and sets this device's offset:
// local time minus server time, read at the middle of the request. Its
// error is only logged by the caller: a server that does not say its time
// leaves the offset unknown, and sync goes on.
func (e *Engine) measureClock(ctx context.Context) error {
	octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
	defer cancel()
	var reply struct {
		LocalTime time.Time `bson:"localTime"`
	}
	t0 := e.cfg.Now()
	e.mu.Lock()
	e.mu.clockTried = t0
	e.mu.Unlock()
	err := e.client.Database("admin").RunCommand(octx, bson.D{{Key: "hello", Value: 1}}).Decode(&reply)
	t1 := e.cfg.Now()
	if err != nil {
		return fmt.Errorf("asking the server for its time: %w", err)
	}
	if reply.LocalTime.IsZero() {
		return fmt.Errorf("the server's hello reply has no localTime")
	}
	offset := t0.Add(t1.Sub(t0) / 2).Sub(reply.LocalTime)
	e.mu.Lock()
	e.mu.clockOffset = offset
	e.mu.clockAt = t1
	e.mu.Unlock()
	e.store.SetClockOffset(offset)
	if abs(offset) > ClockWarnAfter {
		e.log.Warn("sync: this device's clock is off the server's", "offset", offset.Round(time.Millisecond))
	}
	return nil
}

func (e *Engine) clockDue() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.mu.clockTried.IsZero() || e.cfg.Now().Sub(e.mu.clockTried) > clockEvery
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// peer is what the devices collection says of another device.
type peer struct {
	Name     string
	OffsetMs *int64 // its clock minus the server's, if it measured it
}

// annotate names the remote device of each conflict and says whether
// clock skew decided it: the stamps ordered the two edits one way, while
// the two devices' clocks, corrected by their measured offsets from the
// server's, order them the other way.
func (e *Engine) annotate(cs []meta.Conflict) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range cs {
		c := &cs[i]
		p, ok := e.mu.peers[c.RemoteClock.Device]
		if !ok {
			continue
		}
		c.RemoteName = p.Name
		if p.OffsetMs == nil || e.mu.clockAt.IsZero() {
			continue
		}
		local := c.LocalClock.Wall - e.mu.clockOffset.Milliseconds()
		remote := c.RemoteClock.Wall - *p.OffsetMs
		// A margin for the offsets' own error (half a round trip each).
		const margin = 1000
		c.SkewDecided = c.RemoteWins && remote+margin < local || !c.RemoteWins && local+margin < remote
	}
}
