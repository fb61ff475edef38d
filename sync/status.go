package sync

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/atomicfile"
)

// Status is what `paperfs status` shows about sync. It holds no
// credentials: Server is the redacted URI and LastError is scrubbed.
type Status struct {
	Device     string `json:"device"`
	DeviceName string `json:"deviceName,omitempty"`
	Server     string `json:"server"`
	Database   string `json:"database"`
	Connected  bool   `json:"connected"` // the last round reached the server
	// Running says a Run loop (a mount) owns this status; PID is its
	// process. A status file whose process is gone is stale.
	Running   bool             `json:"running"`
	PID       int              `json:"pid,omitempty"`
	Pending   int              `json:"pending"` // local ops not yet on the server
	LastSync  time.Time        `json:"lastSync,omitzero"`
	LastError string           `json:"lastError,omitempty"`
	Conflicts []ConflictRecord `json:"conflicts,omitempty"` // most recent last
	// LastRound is what the last round did; Waiting, when set, is how
	// long the round under way has waited for the server (shown once it
	// is longer than waitReported: then Connected is false whatever the
	// last round said).
	LastRound *Round        `json:"lastRound,omitempty"`
	Waiting   time.Duration `json:"waiting,omitempty"`
	// ClockOffset is this device's clock minus the server's, measured at
	// ClockMeasured (zero: never measured). ClockWarning is set past
	// ClockWarnAfter.
	ClockOffset   time.Duration `json:"clockOffset,omitempty"`
	ClockMeasured time.Time     `json:"clockMeasured,omitzero"`
	ClockWarning  string        `json:"clockWarning,omitempty"`
	Updated       time.Time     `json:"updated"`

	// Access, when set, is why this device may not send its edits:
	// ReadOnly (its database user may only read; Held lists the papers
	// of the edits kept here, HeldPapers how many there are in all) or
	// AuthFailed (the server refused the credentials). See Writable.
	Access     string      `json:"access,omitempty"`
	ReadOnly   bool        `json:"readOnly,omitempty"`
	AuthFailed bool        `json:"authFailed,omitempty"`
	Held       []HeldPaper `json:"held,omitempty"`
	HeldPapers int         `json:"heldPapers,omitempty"`

	// Subscription is the part of the library this device holds (nil:
	// all of it); SubscribedPapers is how many papers that is here.
	Subscription     *Subscription `json:"subscription,omitempty"`
	SubscribedPapers int           `json:"subscribedPapers,omitempty"`
}

// Round is what one sync round did, as Status reports it.
type Round struct {
	At        time.Time     `json:"at"` // when it ended
	Took      time.Duration `json:"took"`
	Sent      int           `json:"sent"`
	Received  int           `json:"received"`
	Conflicts int           `json:"conflicts"`
	Error     string        `json:"error,omitempty"` // why it failed; empty if it succeeded
}

// waitReported is how long a round may wait for the server before Status
// stops calling the device connected. The driver's own timeouts are 10s
// and more; a user who has just lost the network should not be told
// "connected" for that long.
const waitReported = 2 * time.Second

// ConflictRecord is a resolved conflict and when this device saw it.
type ConflictRecord struct {
	meta.Conflict
	At time.Time `json:"at"`
}

// Status reports the engine's state. It reads only local data, so it is
// cheap and works offline.
func (e *Engine) Status() Status {
	pending, _ := e.store.PendingCount()
	var sub *Subscription
	subscribed := 0
	if s := e.subscription(); !s.All() {
		sub = &s
		subscribed = e.store.HeldCount()
	}
	// Outside the lock: listing held edits reads the store.
	acc := Status{Pending: pending}
	e.accessStatus(&acc)
	e.mu.Lock()
	defer e.mu.Unlock()
	st := Status{
		Access:           acc.Access,
		ReadOnly:         acc.ReadOnly,
		AuthFailed:       acc.AuthFailed,
		Held:             acc.Held,
		HeldPapers:       acc.HeldPapers,
		Device:           e.store.Device(),
		DeviceName:       e.cfg.DeviceName,
		Server:           Redact(e.cfg.URI),
		Database:         e.cfg.Database,
		Connected:        e.mu.connected,
		Running:          e.mu.running,
		Pending:          pending,
		LastSync:         e.mu.lastSync,
		LastError:        e.mu.lastErr,
		Conflicts:        slices.Clone(e.mu.conflicts),
		Updated:          time.Now().UTC(),
		Subscription:     sub,
		SubscribedPapers: subscribed,
	}
	if e.mu.lastRound != nil {
		r := *e.mu.lastRound
		st.LastRound = &r
	}
	if !e.mu.roundFrom.IsZero() {
		if w := time.Since(e.mu.roundFrom); w > waitReported {
			st.Waiting = w.Round(time.Second)
			st.Connected = false
		}
	}
	if !e.mu.clockAt.IsZero() {
		st.ClockOffset, st.ClockMeasured = e.mu.clockOffset.Round(time.Millisecond), e.mu.clockAt.UTC()
		if abs(e.mu.clockOffset) > ClockWarnAfter {
			st.ClockWarning = fmt.Sprintf("this device's clock is %s off the server's: while it is, concurrent edits of one field are decided by the clocks, not by which came last; set the clock right (NTP)",
				e.mu.clockOffset.Round(time.Second))
		}
	}
	if st.Running {
		st.PID = os.Getpid()
	}
	return st
}

// SetDeviceName stores the name this device goes by in the devices
// collection, status and conflicts, for every later engine on store.
func SetDeviceName(store *meta.Store, name string) error {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 64 || strings.ContainsFunc(name, unicode.IsControl) {
		return fmt.Errorf("device name %q: use 1 to 64 printable characters", name)
	}
	return store.SetSyncState(stDeviceName, name)
}

// StoredDeviceName is the name `paperfs sync --device-name` gave the
// device of store, "" if none.
func StoredDeviceName(store *meta.Store) string { return storedName(store) }

// RecordedConflicts are the recent conflicts the last engine on store
// saved (the newest last), as Status lists them.
func RecordedConflicts(store *meta.Store) ([]meta.Conflict, error) {
	v, err := store.SyncState(stConflicts)
	if err != nil || v == "" {
		return nil, err
	}
	var cs []meta.Conflict
	if err := json.Unmarshal([]byte(v), &cs); err != nil {
		return nil, fmt.Errorf("recorded conflicts: %w", err)
	}
	return cs, nil
}

// loadState restores what the last engine on this store saved, so a
// fresh process (paperfs status, paperfs sync) reports the last sync time,
// error and conflicts.
func (e *Engine) loadState() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if v, _ := e.store.SyncState(stLastSync); v != "" {
		e.mu.lastSync, _ = time.Parse(time.RFC3339Nano, v)
	}
	e.mu.lastErr, _ = e.store.SyncState(stLastError)
	if v, _ := e.store.SyncState(stConflicts); v != "" {
		_ = json.Unmarshal([]byte(v), &e.mu.conflicts)
	}
	if v, _ := e.store.SyncState(stLastRound); v != "" {
		var r Round
		if json.Unmarshal([]byte(v), &r) == nil {
			e.mu.lastRound = &r
		}
	}
}

// saveState persists the status after a round: only what changed, so an
// idle poll costs no disk write.
func (e *Engine) saveState(conflicts bool) {
	e.mu.Lock()
	lastSync := e.mu.lastSync.Format(time.RFC3339Nano)
	lastErr := e.mu.lastErr
	cs, _ := json.Marshal(e.mu.conflicts)
	var round []byte
	if r := e.mu.lastRound; r != nil {
		round, _ = json.Marshal(r)
		if r.Sent == 0 && r.Received == 0 && r.Error == "" {
			// An idle poll: stored at most once a minute, as lastSync.
			if old, _ := e.store.SyncState(stLastRound); old != "" {
				var o Round
				if json.Unmarshal([]byte(old), &o) == nil && o.Error == "" && time.Since(o.At) < time.Minute {
					round = nil
				}
			}
		}
	}
	e.mu.Unlock()
	if round != nil {
		_ = e.store.SetSyncState(stLastRound, string(round))
	}
	if old, _ := e.store.SyncState(stLastError); old != lastErr {
		_ = e.store.SetSyncState(stLastError, lastErr)
	}
	if conflicts {
		_ = e.store.SetSyncState(stConflicts, string(cs))
	}
	// The last sync time changes every poll; store it only when it is
	// more than a minute old, which is precise enough for "last synced".
	if old, _ := e.store.SyncState(stLastSync); lastErr == "" {
		t, _ := time.Parse(time.RFC3339Nano, old)
		if time.Since(t) > time.Minute {
			_ = e.store.SetSyncState(stLastSync, lastSync)
		}
	}
}

// ReadStatusFile reads a status file an engine wrote. If the file
// says a Run loop owns it but that process is gone, Running is cleared.
func ReadStatusFile(path string) (Status, error) {
	var st Status
	b, err := os.ReadFile(path)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("sync status %s: %w", path, err)
	}
	if st.Running && !processAlive(st.PID) {
		st.Running = false
	}
	return st, nil
}

// writeStatusFile refreshes the status file when the status changed or
// at least every statusRefresh, not after every idle poll.
func (e *Engine) writeStatusFile() {
	if e.cfg.StatusFile == "-" {
		return
	}
	// Under the lock, so that a status read earlier is never written
	// over one read later (Run and watchLocal both write).
	e.statusMu.Lock()
	defer e.statusMu.Unlock()
	st := e.Status()
	key := st
	key.Updated = time.Time{}
	key.LastSync = key.LastSync.Truncate(statusRefresh)
	b, _ := json.Marshal(key)
	if string(b) == e.statusLast {
		return
	}
	if err := atomicfile.WriteJSON(e.cfg.StatusFile, st); err != nil {
		e.log.Warn("sync: writing the status file", "path", e.cfg.StatusFile, "err", err)
		return
	}
	e.statusLast = string(b)
}

// statusRefresh bounds how stale the status file's LastSync may be.
const statusRefresh = 30 * time.Second

// savePeerNames keeps the devices' names, as the devices collection gave
// them, in the store when they changed: commands with no engine running
// (paperfs log) then name other devices too.
func (e *Engine) savePeerNames(peers map[string]peer) {
	names := map[string]string{}
	for id, p := range peers {
		// Another device's words: cleaned as a member's name is, so
		// a terminal only ever prints text.
		if n := meta.CleanMember(p.Name); n != "" && id != e.store.Device() {
			names[id] = n
		}
	}
	b, _ := json.Marshal(names) // sorted keys: the same names give the same text
	e.mu.Lock()
	same := e.mu.peerNames == string(b)
	e.mu.peerNames = string(b)
	e.mu.Unlock()
	if same {
		return
	}
	if v, _ := e.store.SyncState(stPeerNames); v == string(b) {
		return
	}
	if err := e.store.SetSyncState(stPeerNames, string(b)); err != nil {
		e.log.Debug("sync: saving the devices' names", "err", err)
	}
}

// PeerNames are the other devices' names by device id, as the last sync
// round read them from the devices collection (empty before one).
func PeerNames(store *meta.Store) map[string]string {
	out := map[string]string{}
	if v, _ := store.SyncState(stPeerNames); v != "" {
		json.Unmarshal([]byte(v), &out)
	}
	return out
}
