package main

import (
	"fmt"
	"slices"
	"strings"
	gosync "sync"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// grant is one built-in role on one database, as Atlas gives a database
// user: "read" or "readWrite" on DB.
type grant struct {
	Role string
	DB   string
}

// parseRoles reads "USER=ROLE@DB[,ROLE@DB...]".
func parseRoles(spec string) (string, []grant, error) {
	user, list, ok := strings.Cut(spec, "=")
	if !ok || user == "" || list == "" {
		return "", nil, fmt.Errorf("role %q: want USER=ROLE@DB[,ROLE@DB...]", spec)
	}
	var gs []grant
	for _, g := range strings.Split(list, ",") {
		role, db, ok := strings.Cut(g, "@")
		if !ok || db == "" || (role != "read" && role != "readWrite") {
			return "", nil, fmt.Errorf("role %q: %q is not read@DB or readWrite@DB", spec, g)
		}
		gs = append(gs, grant{role, db})
	}
	return user, gs, nil
}

// policy is the roles of the users the wall enforces; other users pass
// through as FerretDB treats them (anyone may do anything).
type policy struct {
	mu    gosync.RWMutex // protects users
	users map[string][]grant
}

func (p *policy) set(user string, gs []grant) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.users == nil {
		p.users = map[string][]grant{}
	}
	if gs == nil {
		delete(p.users, user)
		return
	}
	p.users[user] = gs
}

func (p *policy) get(user string) ([]grant, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	gs, ok := p.users[user]
	return gs, ok
}

// writeCommands are the commands that change data or its shape: all need
// a privilege the read role lacks (insert, update, remove, createIndex,
// createCollection, dropCollection, ...). Lower case: MongoDB also takes
// findandmodify.
var writeCommands = map[string]bool{
	"insert": true, "update": true, "delete": true, "findandmodify": true,
	"create": true, "createindexes": true, "drop": true, "dropdatabase": true,
	"dropindexes": true, "collmod": true, "renamecollection": true,
	"bulkwrite": true, "compact": true, "converttocapped": true,
	"clonecollectionascapped": true, "createsearchindexes": true,
	"dropsearchindex": true, "updatesearchindex": true,
}

// isWrite says whether cmd needs write privileges: a write command, or an
// aggregation ending in $out or $merge.
func isWrite(cmd command) bool {
	name := strings.ToLower(cmd.Name)
	if writeCommands[name] {
		return true
	}
	if name != "aggregate" {
		return false
	}
	arr, ok := cmd.Body.Lookup("pipeline").ArrayOK()
	if !ok {
		return false
	}
	vals, _ := arr.Values()
	if len(vals) == 0 {
		return false
	}
	last, ok := vals[len(vals)-1].DocumentOK()
	if !ok {
		return false
	}
	first, err := last.IndexErr(0)
	return err == nil && (first.Key() == "$out" || first.Key() == "$merge")
}

// targetDB is the database a command writes to: its $db, except for
// renameCollection, which runs on admin and names "db.collection".
func targetDB(cmd command) string {
	if strings.EqualFold(cmd.Name, "renameCollection") {
		if to, ok := cmd.Body.Lookup("to").StringValueOK(); ok {
			db, _, _ := strings.Cut(to, ".")
			return db
		}
	}
	return cmd.DB
}

func mayWrite(gs []grant, db string) bool {
	return slices.ContainsFunc(gs, func(g grant) bool { return g.Role == "readWrite" && g.DB == db })
}

// unauthorized is the error document mongod and Atlas answer a command
// the user has no privilege for.
func unauthorized(cmd command) bson.D {
	return bson.D{
		{Key: "ok", Value: 0.0},
		{Key: "errmsg", Value: fmt.Sprintf("not authorized on %s to execute command { %s: %s, $db: %q }",
			targetDB(cmd), cmd.Name, cmd.Body.Index(0).Value(), cmd.DB)},
		{Key: "code", Value: int32(13)},
		{Key: "codeName", Value: "Unauthorized"},
	}
}

// Actions of the built-in roles on their database, as connectionStatus
// lists them (MongoDB 7/8, Atlas).
var (
	readActions = []string{
		"changeStream", "collStats", "dbHash", "dbStats", "find", "killCursors",
		"listCollections", "listIndexes", "listSearchIndexes", "planCacheRead",
	}
	readWriteActions = sortedUnion(readActions, []string{
		"convertToCapped", "createCollection", "createIndex", "createSearchIndexes",
		"dropCollection", "dropIndex", "dropSearchIndex", "insert", "remove",
		"renameCollectionSameDB", "update", "updateSearchIndex",
	})
)

func sortedUnion(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// connectionStatus is the answer to connectionStatus for user, who
// authenticated against authDB, with grants: what Atlas says, including
// the privileges when the command asked for them (showPrivileges).
func connectionStatus(user, authDB string, gs []grant, showPrivileges bool) bson.D {
	roles := bson.A{}
	privs := bson.A{}
	for _, g := range gs {
		roles = append(roles, bson.D{{Key: "role", Value: g.Role}, {Key: "db", Value: g.DB}})
		actions := readActions
		if g.Role == "readWrite" {
			actions = readWriteActions
		}
		for _, coll := range []string{"", "system.js"} {
			privs = append(privs, bson.D{
				{Key: "resource", Value: bson.D{{Key: "db", Value: g.DB}, {Key: "collection", Value: coll}}},
				{Key: "actions", Value: actions},
			})
		}
	}
	info := bson.D{
		{Key: "authenticatedUsers", Value: bson.A{bson.D{{Key: "user", Value: user}, {Key: "db", Value: authDB}}}},
		{Key: "authenticatedUserRoles", Value: roles},
	}
	if showPrivileges {
		info = append(info, bson.E{Key: "authenticatedUserPrivileges", Value: privs})
	}
	return bson.D{{Key: "authInfo", Value: info}, {Key: "ok", Value: 1.0}}
}

// session is what the wall knows about one client connection.
type session struct {
	user   string // from the SASL conversation; "" before it
	authDB string
}

// learn updates s from a command the client sends: the user a SASL
// conversation (or a hello's speculative one) authenticates, or logout.
// A failed authentication ends with the driver closing the connection,
// so the user is taken from the conversation's start.
func (s *session) learn(cmd command) {
	switch strings.ToLower(cmd.Name) {
	case "saslstart":
		if u, db, ok := saslUser(cmd.Body, cmd.DB); ok {
			s.user, s.authDB = u, db
		}
	case "hello", "ismaster":
		if spec, ok := cmd.Body.Lookup("speculativeAuthenticate").DocumentOK(); ok {
			if u, db, ok := saslUser(spec, cmd.DB); ok {
				s.user, s.authDB = u, db
			}
		}
	case "logout":
		s.user, s.authDB = "", ""
	}
}

// decide returns the wall's own answer to cmd on a connection of s, or
// nil to forward it to the server. answerStatus false forwards
// connectionStatus too.
func decide(p *policy, s *session, cmd command, answerStatus bool) bson.D {
	s.learn(cmd)
	if s.user == "" {
		return nil
	}
	gs, ok := p.get(s.user)
	if !ok {
		return nil
	}
	if strings.EqualFold(cmd.Name, "connectionStatus") && answerStatus {
		show, _ := cmd.Body.Lookup("showPrivileges").BooleanOK()
		return connectionStatus(s.user, s.authDB, gs, show)
	}
	if isWrite(cmd) && !mayWrite(gs, targetDB(cmd)) {
		return unauthorized(cmd)
	}
	return nil
}
