package sync

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/paperfs/paperfs/meta"
)

// Status is what `paperfs status` shows about sync. It holds no
// credentials: Server is the redacted URI and LastError is scrubbed.
type Status struct {
	Device    string `json:"device"`
	Server    string `json:"server"`
	Database  string `json:"database"`
	Connected bool   `json:"connected"` // the last round reached the server
	// Running says a Run loop (a mount) owns this status; PID is its
	// process. A status file whose process is gone is stale.
	Running   bool             `json:"running"`
	PID       int              `json:"pid,omitempty"`
	Pending   int              `json:"pending"` // local ops not yet on the server
	LastSync  time.Time        `json:"lastSync,omitzero"`
	LastError string           `json:"lastError,omitempty"`
	Conflicts []ConflictRecord `json:"conflicts,omitempty"` // most recent last
	Updated   time.Time        `json:"updated"`
}

// ConflictRecord is a resolved conflict and when this device saw it.
type ConflictRecord struct {
	meta.Conflict
	At time.Time `json:"at"`
}

// Status reports the engine's state. It reads only local data, so it is
// cheap and works offline.
func (e *Engine) Status() Status {
	pending, _ := e.store.PendingCount()
	e.mu.Lock()
	defer e.mu.Unlock()
	st := Status{
		Device:    e.store.Device(),
		Server:    Redact(e.cfg.URI),
		Database:  e.cfg.Database,
		Connected: e.mu.connected,
		Running:   e.mu.running,
		Pending:   pending,
		LastSync:  e.mu.lastSync,
		LastError: e.mu.lastErr,
		Conflicts: slices.Clone(e.mu.conflicts),
		Updated:   time.Now().UTC(),
	}
	if st.Running {
		st.PID = os.Getpid()
	}
	return st
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
}

// saveState persists the status after a round: only what changed, so an
// idle poll costs no disk write.
func (e *Engine) saveState(conflicts bool) {
	e.mu.Lock()
	lastSync := e.mu.lastSync.Format(time.RFC3339Nano)
	lastErr := e.mu.lastErr
	cs, _ := json.Marshal(e.mu.conflicts)
	e.mu.Unlock()
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

// WriteStatusFile writes st as JSON to path atomically (temporary file
// and rename), readable only by the owner.
func WriteStatusFile(path string, st Status) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".sync-status-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// ReadStatusFile reads a status written by WriteStatusFile. If the file
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
	if err := WriteStatusFile(e.cfg.StatusFile, st); err != nil {
		e.log.Warn("sync: writing the status file", "path", e.cfg.StatusFile, "err", err)
		return
	}
	e.statusLast = string(b)
}

// statusRefresh bounds how stale the status file's LastSync may be.
const statusRefresh = 30 * time.Second
