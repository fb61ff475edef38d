package sync

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	gosync "sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/auth"

	"github.com/paperfs/paperfs/meta"
)

// What this device's database user may do. A member of a shared library
// whose user has the built-in role "read" on its database may pull but
// not push: the server refuses every write (code 13, Unauthorized). The
// engine finds that out before it tries (connectionStatus with
// showPrivileges, at the first round) or from the refusal itself, then
// stops pushing: local edits made before stay queued in the store, listed
// by Status, and are sent if the user is later given readWrite (checked
// every Config.AccessRecheck). A server that lists no roles (FerretDB) is taken
// as writable until it refuses a write.

var (
	// ErrReadOnly means this device's database user may only read the
	// library's database.
	ErrReadOnly = errors.New("the database user may only read")
	// ErrAuth means the server refused this device's credentials: a wrong
	// password, or the user was removed.
	ErrAuth = errors.New("authentication failed")
)

// AccessError says why this device may not write to its library: Err is
// ErrReadOnly or ErrAuth. Its message is for the user.
type AccessError struct {
	Database string
	// User is the database user the URI names (empty if none). It is not
	// in the message: paperfs shows no part of the URI's userinfo.
	User   string
	Reason string
	Err    error
	cause  error // the server's answer, if any
}

func (e *AccessError) Error() string { return e.Reason }

// Unwrap gives errors.Is and errors.As both the kind and the server's
// answer.
func (e *AccessError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.cause}
}

// stAccess is the store's SyncState key of the access record, so that a
// new process (a mount's first moments, paperfs status) knows it at once.
const stAccess = "access"

// accessRecord is what the engine last learned about its user's rights.
type accessRecord struct {
	// For identifies the user and database it is about (accessKey): a
	// record about another user, after the config changed, is ignored.
	For        string `json:"for"`
	ReadOnly   bool   `json:"readOnly,omitempty"`
	AuthFailed bool   `json:"authFailed,omitempty"`
	// Refused says ReadOnly was learned from a refused write, not from
	// the privileges the server listed.
	Refused bool      `json:"refused,omitempty"`
	How     string    `json:"how,omitempty"` // how it was learned: the server's words
	At      time.Time `json:"at,omitzero"`
}

// accessKey names this engine's user and database without holding them.
func (e *Engine) accessKey() string {
	sum := sha256.Sum256([]byte(e.cfg.Database + "\x00" + e.user()))
	return hex.EncodeToString(sum[:8])
}

// access holds the engine's accessRecord.
type access struct {
	gosync.Mutex
	rec     accessRecord
	loaded  bool
	checked time.Time // last connectionStatus answered
}

// Writable reports whether this device's database user may write to the
// library's database: nil if it may (or nothing says otherwise yet), else
// an *AccessError that is ErrReadOnly (the user may only read) or ErrAuth
// (the server refused the credentials at the last attempt). It reads only
// local state, so it is cheap and works offline.
func (e *Engine) Writable() error {
	rec := e.accessRecord()
	switch {
	case rec.ReadOnly:
		return e.readOnlyError(nil)
	case rec.AuthFailed:
		return e.authError(nil)
	}
	return nil
}

func (e *Engine) accessRecord() accessRecord {
	e.acc.Lock()
	defer e.acc.Unlock()
	if !e.acc.loaded {
		e.acc.loaded = true
		var rec accessRecord
		if v, _ := e.store.SyncState(stAccess); v != "" && json.Unmarshal([]byte(v), &rec) == nil && rec.For == e.accessKey() {
			e.acc.rec = rec
		}
	}
	return e.acc.rec
}

// setAccess changes the record with f and persists it if it changed.
func (e *Engine) setAccess(f func(*accessRecord)) {
	old := e.accessRecord()
	e.acc.Lock()
	rec := old
	f(&rec)
	if rec.ReadOnly == old.ReadOnly && rec.AuthFailed == old.AuthFailed {
		e.acc.Unlock()
		return
	}
	rec.At = time.Now().UTC()
	rec.For = e.accessKey()
	e.acc.rec = rec
	e.acc.Unlock()
	b, _ := json.Marshal(rec)
	if err := e.store.SetSyncState(stAccess, string(b)); err != nil {
		e.log.Warn("sync: saving what the database user may do", "err", err)
	}
	switch {
	case rec.ReadOnly && !old.ReadOnly:
		e.log.Warn("sync: "+e.readOnlyError(nil).Error()+"; edits made here stay on this device and are not sent",
			"how", rec.How)
	case !rec.ReadOnly && old.ReadOnly:
		e.log.Info("sync: the database user may write again; sending the edits held here")
	case rec.AuthFailed && !old.AuthFailed:
		e.log.Error("sync: " + e.authError(nil).Error())
	}
}

func (e *Engine) readOnlyError(cause error) *AccessError {
	return &AccessError{
		Database: e.cfg.Database, User: e.user(), Err: ErrReadOnly, cause: cause,
		Reason: "read-only: your database user may only read " + e.cfg.Database,
	}
}

// authError's message names the database but not the user: like the
// password, the user name is part of the URI's userinfo, which paperfs
// never shows (Redact).
func (e *Engine) authError(cause error) *AccessError {
	return &AccessError{
		Database: e.cfg.Database, User: e.user(), Err: ErrAuth, cause: cause,
		Reason: fmt.Sprintf("authentication failed: the server refused this device's database user for %s (wrong password, or the user was removed); "+
			"sync of this library is stopped and retries, local edits are kept; fix the password in the config or ask for the user back",
			e.cfg.Database),
	}
}

// user is the database user named in the URI. The URI is read by hand:
// the driver's parser resolves mongodb+srv names, which needs the network.
func (e *Engine) user() string {
	_, rest, ok := strings.Cut(e.cfg.URI, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?"); i >= 0 && !strings.Contains(rest[i:], "@") {
		rest = rest[:i]
	}
	i := strings.LastIndex(rest, "@")
	if i < 0 {
		return ""
	}
	name, _, _ := strings.Cut(rest[:i], ":")
	if u, err := url.PathUnescape(name); err == nil {
		return u
	}
	return name
}

// isReadOnly says whether pushes are off.
func (e *Engine) isReadOnly() bool { return e.accessRecord().ReadOnly }

// refused reports whether err is the server refusing a write for want of
// privileges (code 13), and if so marks the library read-only.
func (e *Engine) refused(what string, err error) bool {
	if !isUnauthorized(err) {
		return false
	}
	how := what + ": " + e.red.string(err.Error())
	e.setAccess(func(r *accessRecord) { r.ReadOnly, r.Refused, r.How = true, true, how })
	return true
}

func isUnauthorized(err error) bool {
	var se mongo.ServerError
	return err != nil && errors.As(err, &se) && se.HasErrorCode(13)
}

// isAuthFailure says whether err is the server refusing the credentials.
func isAuthFailure(err error) bool {
	if err == nil {
		return false
	}
	var ae *auth.Error
	var se mongo.ServerError
	return errors.As(err, &ae) || (errors.As(err, &se) && se.HasErrorCode(18))
}

// noteAuth records the outcome of a round for authentication: a failure
// becomes an AccessError (ErrAuth), a success clears an earlier one.
func (e *Engine) noteAuth(err error) error {
	if isAuthFailure(err) {
		e.setAccess(func(r *accessRecord) { r.AuthFailed, r.How = true, "" })
		return e.authError(err)
	}
	if err == nil {
		e.setAccess(func(r *accessRecord) { r.AuthFailed = false })
	}
	return err
}

// checkAccess asks the server what this device's user may do
// (connectionStatus with showPrivileges) and records it. A server that
// cannot say (no roles listed, command unknown) changes nothing: a
// refused write will tell. Authentication and network errors are
// returned.
func (e *Engine) checkAccess(ctx context.Context) error {
	octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
	defer cancel()
	var reply struct {
		AuthInfo authInfo `bson:"authInfo"`
	}
	err := e.client.Database("admin").RunCommand(octx,
		bson.D{{Key: "connectionStatus", Value: 1}, {Key: "showPrivileges", Value: true}}).Decode(&reply)
	if err != nil {
		var se mongo.ServerError
		if errors.As(err, &se) && !isAuthFailure(err) && !isUnauthorized(err) {
			e.log.Debug("sync: the server does not say what this user may do", "err", e.red.wrap(err))
			e.acc.Lock()
			e.acc.checked = time.Now()
			e.acc.Unlock()
			return nil
		}
		return fmt.Errorf("asking the server what this user may do: %w", err)
	}
	e.acc.Lock()
	first := e.acc.checked.IsZero()
	e.acc.checked = time.Now()
	e.acc.Unlock()
	e.setAccess(func(r *accessRecord) { r.AuthFailed = false })
	writable, known := reply.AuthInfo.mayWrite(e.cfg.Database)
	if !known {
		// Only a write can tell. A refusal learned by an earlier process
		// is tried once more per engine (a mount, a paperfs sync): the
		// user may have been given readWrite since; a running engine
		// does not try again.
		if rec := e.accessRecord(); first && rec.ReadOnly && rec.Refused {
			e.log.Info("sync: the server does not list this user's privileges; trying a write to see whether it may write now")
			e.setAccess(func(r *accessRecord) { r.ReadOnly, r.Refused = false, false })
		}
		return nil
	}
	e.setAccess(func(r *accessRecord) {
		r.ReadOnly, r.Refused = !writable, false
		if !writable {
			r.How = "connectionStatus: roles " + reply.AuthInfo.roleList()
		}
	})
	return nil
}

// accessRecheckDue says a read-only device should ask again.
func (e *Engine) accessRecheckDue() bool {
	if !e.isReadOnly() {
		return false
	}
	e.acc.Lock()
	defer e.acc.Unlock()
	return time.Since(e.acc.checked) >= e.cfg.AccessRecheck
}

// authInfo is connectionStatus' answer.
type authInfo struct {
	Users []struct {
		User string `bson:"user"`
		DB   string `bson:"db"`
	} `bson:"authenticatedUsers"`
	Roles []struct {
		Role string `bson:"role"`
		DB   string `bson:"db"`
	} `bson:"authenticatedUserRoles"`
	Privileges []privilege `bson:"authenticatedUserPrivileges"`
}

type privilege struct {
	Resource struct {
		DB          *string `bson:"db"`
		Collection  *string `bson:"collection"`
		AnyResource bool    `bson:"anyResource"`
	} `bson:"resource"`
	Actions []string `bson:"actions"`
}

// writeActions are the actions a device needs on its library's
// collections to push: insertMany of ops, upserts of the devices and
// papers documents.
var writeActions = []string{"insert", "update"}

// mayWrite says whether these rights include writing the library's
// collections in db. known is false when the server said nothing that
// decides it: no authenticated user (no authentication at all), or no
// roles and no privileges listed (FerretDB).
func (a authInfo) mayWrite(db string) (writable, known bool) {
	if len(a.Users) == 0 {
		return false, false
	}
	if len(a.Privileges) > 0 {
		have := map[string]bool{}
		for _, p := range a.Privileges {
			if p.covers(db, opsColl) {
				for _, act := range p.Actions {
					have[act] = true
				}
			}
		}
		for _, act := range writeActions {
			if !have[act] {
				return false, true
			}
		}
		return true, true
	}
	if len(a.Roles) == 0 {
		return false, false
	}
	// A server that lists roles without privileges: the built-in roles
	// that write db.
	for _, r := range a.Roles {
		switch {
		case r.Role == "root" || r.Role == "atlasAdmin" || r.Role == "readWriteAnyDatabase",
			(r.Role == "readWrite" || r.Role == "dbOwner") && r.DB == db:
			return true, true
		}
	}
	// Only other roles: read ones are known; custom ones may grant writes
	// through privileges the server did not list.
	for _, r := range a.Roles {
		if r.Role != "read" && r.Role != "readAnyDatabase" {
			return false, false
		}
	}
	return false, true
}

// covers says whether a privilege applies to collection coll of db: an
// empty db or collection means any (MongoDB's resource documents).
func (p privilege) covers(db, coll string) bool {
	r := p.Resource
	if r.AnyResource {
		return true
	}
	if r.DB == nil || r.Collection == nil {
		return false // cluster resources
	}
	return (*r.DB == "" || *r.DB == db) && (*r.Collection == "" || *r.Collection == coll)
}

func (a authInfo) roleList() string {
	var rs []string
	for _, r := range a.Roles {
		rs = append(rs, r.Role+"@"+r.DB)
	}
	if len(rs) == 0 {
		return "(none)"
	}
	return strings.Join(rs, ", ")
}

// HeldPaper is a paper with local edits that are not sent because this
// device's user may only read.
type HeldPaper struct {
	ID    string `json:"id"`
	Title string `json:"title,omitempty"`
	Ops   int    `json:"ops"`
}

// heldList bounds the papers Status lists as held.
const heldList = 50

// held lists the papers of the queued local ops, most edited first, at
// most heldList of them, and how many papers there are in all.
func (e *Engine) held() ([]HeldPaper, int) {
	count, err := e.store.PendingPapers()
	if err != nil || len(count) == 0 {
		return nil, 0
	}
	out := make([]HeldPaper, 0, len(count))
	for id, n := range count {
		out = append(out, HeldPaper{ID: id, Ops: n})
	}
	slices.SortFunc(out, func(a, b HeldPaper) int {
		return cmp.Or(cmp.Compare(b.Ops, a.Ops), strings.Compare(a.ID, b.ID))
	})
	total := len(out)
	out = out[:min(len(out), heldList)]
	// Titles of the papers listed only: a device that may only read can
	// hold edits to thousands.
	for i := range out {
		if p, err := e.store.Get(out[i].ID); err == nil {
			out[i].Title = p.Title
		}
	}
	return out, total
}

// accessStatus fills Status' access fields.
func (e *Engine) accessStatus(st *Status) {
	if err := e.Writable(); err != nil {
		st.Access = err.Error()
		st.ReadOnly = errors.Is(err, ErrReadOnly)
		st.AuthFailed = errors.Is(err, ErrAuth)
	}
	if st.ReadOnly && st.Pending > 0 {
		st.Held, st.HeldPapers = e.held()
	}
}

// StoredWritable is Writable for a process that runs no engine (a command
// with no mount running): what the engines of this store last learned
// about the user and database of cfg, from the store alone, offline.
func StoredWritable(store *meta.Store, cfg Config) error {
	e := &Engine{store: store, cfg: cfg}
	return e.Writable()
}
