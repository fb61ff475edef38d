package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/paperfs/paperfs/fs"
)

// A GUI shows only the errno of a refused change ("Operation not
// permitted"); the reason is in the log of a terminal the user may not
// see. The notifier tells the desktop instead: each refusal, naming the
// file and the reason, as a freedesktop.org notification on the session
// bus. A burst of refusals (a file manager pasting twenty files) is one
// notification.

const (
	notifyName  = "org.freedesktop.Notifications"
	notifyPath  = "/org/freedesktop/Notifications"
	notifyCall  = notifyName + ".Notify"
	notifyBurst = 750 * time.Millisecond // refusals this close together are one notification
	notifyShown = 3                      // refusals a notification spells out
)

// notifier sends refusals to the desktop. Its goroutine is owned by the
// mount: close stops it and waits for it.
type notifier struct {
	conn  *dbus.Conn
	log   *slog.Logger
	burst time.Duration

	in   chan fs.Rejection
	stop chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex // protects dropped
	dropped int        // refusals that found the queue full
}

// newNotifier connects to the session bus named by
// DBUS_SESSION_BUS_ADDRESS. Without one (a server, a plain console) it
// returns nil: refusals are logged as always.
func newNotifier(log *slog.Logger) *notifier {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		log.Debug("no desktop notifications: no session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
		return nil
	}
	conn, err := dbus.Connect(addr)
	if err != nil {
		log.Warn("no desktop notifications: cannot reach the session bus; refusals are only logged", "bus", addr, "err", err)
		return nil
	}
	n := &notifier{conn: conn, log: log, burst: notifyBurst,
		in: make(chan fs.Rejection, 64), stop: make(chan struct{})}
	n.wg.Add(1)
	go n.run()
	return n
}

// refusal queues a refusal; it never blocks a file system request.
func (n *notifier) refusal(r fs.Rejection) {
	select {
	case n.in <- r:
	default:
		n.mu.Lock()
		n.dropped++
		n.mu.Unlock()
	}
}

// close sends what is queued, stops the goroutine and leaves the bus.
func (n *notifier) close() {
	if n == nil {
		return
	}
	close(n.stop)
	n.wg.Wait()
	n.conn.Close()
}

func (n *notifier) run() {
	defer n.wg.Done()
	for {
		var batch []fs.Rejection
		select {
		case r := <-n.in:
			batch = append(batch, r)
		case <-n.stop:
			if rest := n.drain(); len(rest) > 0 {
				n.send(rest)
			}
			return
		}
		timer := time.NewTimer(n.burst)
	collect:
		for {
			select {
			case r := <-n.in:
				batch = append(batch, r)
			case <-timer.C:
				break collect
			case <-n.stop:
				timer.Stop()
				n.send(append(batch, n.drain()...))
				return
			}
		}
		n.send(batch)
	}
}

// drain takes what is queued without waiting.
func (n *notifier) drain() []fs.Rejection {
	var rs []fs.Rejection
	for {
		select {
		case r := <-n.in:
			rs = append(rs, r)
		default:
			return rs
		}
	}
}

// send shows one notification for a batch of refusals.
func (n *notifier) send(batch []fs.Rejection) {
	n.mu.Lock()
	total := len(batch) + n.dropped
	n.dropped = 0
	n.mu.Unlock()
	summary, body := notification(batch, total)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	obj := n.conn.Object(notifyName, notifyPath)
	call := obj.CallWithContext(ctx, notifyCall, 0, "paperfs", uint32(0), "dialog-warning", summary, body,
		[]string{}, map[string]dbus.Variant{"urgency": dbus.MakeVariant(byte(1))}, int32(-1))
	if call.Err != nil {
		// No notification daemon, say: the refusals are in the log anyway.
		n.log.Debug("desktop notification not shown", "err", call.Err)
	}
}

// notification words a batch: one refusal names its file and reason; more
// list the first few.
func notification(batch []fs.Rejection, total int) (summary, body string) {
	if total == 1 {
		return "paperfs refused a change to " + batch[0].File, markupEscape(batch[0].Problem)
	}
	var b strings.Builder
	for i, r := range batch {
		if i == notifyShown {
			break
		}
		fmt.Fprintf(&b, "%s: %s\n", r.File, r.Problem)
	}
	if more := total - min(len(batch), notifyShown); more > 0 {
		fmt.Fprintf(&b, "and %d more: the log of paperfs mount lists them all", more)
	}
	return fmt.Sprintf("paperfs refused %d changes", total), markupEscape(strings.TrimSpace(b.String()))
}

// markupEscape keeps a body shown as written: notification servers may
// read it as simple markup.
func markupEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
