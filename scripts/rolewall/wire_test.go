package main

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func mustDoc(t testing.TB, d bson.D) []byte {
	t.Helper()
	b, err := bson.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// opMsgBytes builds an OP_MSG: body, then one document sequence per seq,
// then a checksum if the flag says so.
func opMsgBytes(t testing.TB, id int32, flags uint32, body bson.D, seqs ...[]bson.D) []byte {
	t.Helper()
	var b bytes.Buffer
	b.Write(make([]byte, 16))
	binary.Write(&b, binary.LittleEndian, flags)
	b.WriteByte(0)
	b.Write(mustDoc(t, body))
	for _, seq := range seqs {
		var s bytes.Buffer
		s.WriteString("documents\x00")
		for _, d := range seq {
			s.Write(mustDoc(t, d))
		}
		b.WriteByte(1)
		binary.Write(&b, binary.LittleEndian, int32(4+s.Len()))
		b.Write(s.Bytes())
	}
	if flags&flagChecksumPresent != 0 {
		b.Write([]byte{1, 2, 3, 4})
	}
	return finish(b.Bytes(), id, opMsg)
}

func opQueryBytes(t testing.TB, id int32, coll string, q bson.D) []byte {
	t.Helper()
	var b bytes.Buffer
	b.Write(make([]byte, 16))
	binary.Write(&b, binary.LittleEndian, int32(0))
	b.WriteString(coll + "\x00")
	binary.Write(&b, binary.LittleEndian, int32(0))
	binary.Write(&b, binary.LittleEndian, int32(-1))
	b.Write(mustDoc(t, q))
	return finish(b.Bytes(), id, opQuery)
}

func finish(m []byte, id int32, op int32) []byte {
	binary.LittleEndian.PutUint32(m[0:], uint32(len(m)))
	binary.LittleEndian.PutUint32(m[4:], uint32(id))
	binary.LittleEndian.PutUint32(m[12:], uint32(op))
	return m
}

func TestParseOpMsg(t *testing.T) {
	msg := opMsgBytes(t, 7, flagChecksumPresent,
		bson.D{{Key: "insert", Value: "ops"}, {Key: "ordered", Value: false}, {Key: "$db", Value: "lab"}},
		[]bson.D{{{Key: "_id", Value: "a"}}, {{Key: "_id", Value: "b"}}})
	h, got, err := readMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	if h.RequestID != 7 || h.OpCode != opMsg || int(h.Length) != len(msg) {
		t.Fatalf("header %+v", h)
	}
	cmd, ok, err := parseRequest(got)
	if err != nil || !ok {
		t.Fatalf("parseRequest: ok %v, %v", ok, err)
	}
	if cmd.Name != "insert" || cmd.DB != "lab" || cmd.Flags != flagChecksumPresent {
		t.Fatalf("got %+v", cmd)
	}
}

func TestParseLegacyHello(t *testing.T) {
	spec := bson.D{{Key: "saslStart", Value: 1}, {Key: "mechanism", Value: "SCRAM-SHA-256"},
		{Key: "payload", Value: bson.Binary{Data: []byte("n,,n=carol,r=abc")}}, {Key: "db", Value: "admin"}}
	msg := opQueryBytes(t, 3, "admin.$cmd", bson.D{{Key: "$query", Value: bson.D{
		{Key: "isMaster", Value: 1}, {Key: "speculativeAuthenticate", Value: spec}}}})
	cmd, ok, err := parseRequest(msg)
	if err != nil || !ok || cmd.Name != "isMaster" || cmd.DB != "admin" {
		t.Fatalf("got %+v ok %v err %v", cmd, ok, err)
	}
	var s session
	s.learn(cmd)
	if s.user != "carol" || s.authDB != "admin" {
		t.Fatalf("learned %+v from the speculative authentication", s)
	}
	// An OP_QUERY on a collection is no command.
	if _, ok, _ := parseRequest(opQueryBytes(t, 4, "lab.ops", bson.D{{Key: "x", Value: 1}})); ok {
		t.Fatal("a legacy query on lab.ops was taken for a command")
	}
}

func TestSASLUser(t *testing.T) {
	for _, tc := range []struct {
		mech, payload, want string
	}{
		{"SCRAM-SHA-256", "n,,n=alice,r=rOprNGfwEbeRWgbNEkqO", "alice"},
		{"SCRAM-SHA-1", "n,,n=a=2Cb=3Dc,r=x", "a,b=c"},
		{"SCRAM-SHA-256", "n,a=admin,n=dave,r=x", "dave"},
		{"PLAIN", "\x00erin\x00secret", "erin"},
		{"SCRAM-SHA-256", "garbage", ""},
	} {
		doc := bson.Raw(mustDoc(t, bson.D{{Key: "saslStart", Value: 1}, {Key: "mechanism", Value: tc.mech},
			{Key: "payload", Value: bson.Binary{Data: []byte(tc.payload)}}}))
		got, db, ok := saslUser(doc, "admin")
		if got != tc.want || ok != (tc.want != "") || (ok && db != "admin") {
			t.Errorf("%s %q: got %q %q %v, want %q", tc.mech, tc.payload, got, db, ok, tc.want)
		}
	}
}

func TestDecide(t *testing.T) {
	var p policy
	p.set("ro", []grant{{"read", "lab"}})
	p.set("rw", []grant{{"readWrite", "lab"}, {"read", "other"}})
	cmd := func(db string, d bson.D) command {
		d = append(d, bson.E{Key: "$db", Value: db})
		c, ok, err := parseRequest(opMsgBytes(t, 1, 0, d))
		if !ok || err != nil {
			t.Fatal(ok, err)
		}
		return c
	}
	login := func(user string) *session {
		s := &session{}
		decide(&p, s, cmd("admin", bson.D{{Key: "saslStart", Value: 1}, {Key: "mechanism", Value: "SCRAM-SHA-256"},
			{Key: "payload", Value: bson.Binary{Data: []byte("n,,n=" + user + ",r=x")}}}), true)
		return s
	}
	insert := bson.D{{Key: "insert", Value: "ops"}}
	for _, tc := range []struct {
		user, db string
		cmd      bson.D
		refused  bool
	}{
		{"ro", "lab", insert, true},
		{"ro", "lab", bson.D{{Key: "update", Value: "devices"}}, true},
		{"ro", "lab", bson.D{{Key: "findandmodify", Value: "x"}}, true},
		{"ro", "lab", bson.D{{Key: "createIndexes", Value: "ops"}}, true},
		{"ro", "lab", bson.D{{Key: "aggregate", Value: "ops"}, {Key: "pipeline", Value: bson.A{bson.D{{Key: "$out", Value: "x"}}}}}, true},
		{"ro", "lab", bson.D{{Key: "aggregate", Value: "ops"}, {Key: "pipeline", Value: bson.A{bson.D{{Key: "$match", Value: bson.D{}}}}}}, false},
		{"ro", "lab", bson.D{{Key: "find", Value: "ops"}}, false},
		{"ro", "admin", bson.D{{Key: "renameCollection", Value: "other.a"}, {Key: "to", Value: "lab.b"}}, true},
		{"rw", "lab", insert, false},
		{"rw", "other", insert, true},
		{"rw", "nowhere", bson.D{{Key: "delete", Value: "x"}}, true},
		{"stranger", "lab", insert, false},
		{"", "lab", insert, false},
	} {
		s := &session{}
		if tc.user != "" {
			s = login(tc.user)
		}
		got := decide(&p, s, cmd(tc.db, tc.cmd), true)
		if (got != nil) != tc.refused {
			t.Errorf("%s: %v on %s: answer %v, want refused %v", tc.user, tc.cmd[0].Key, tc.db, got, tc.refused)
			continue
		}
		if got == nil {
			continue
		}
		raw := bson.Raw(mustDoc(t, got))
		code, _ := raw.Lookup("code").Int32OK()
		msg, _ := raw.Lookup("errmsg").StringValueOK()
		if code != 13 || raw.Lookup("codeName").StringValue() != "Unauthorized" ||
			!strings.HasPrefix(msg, "not authorized on ") {
			t.Errorf("refusal %s", raw)
		}
	}
}

func TestConnectionStatus(t *testing.T) {
	var p policy
	p.set("ro", []grant{{"read", "lab"}})
	s := &session{user: "ro", authDB: "admin"}
	c, _, _ := parseRequest(opMsgBytes(t, 9, 0, bson.D{{Key: "connectionStatus", Value: 1},
		{Key: "showPrivileges", Value: true}, {Key: "$db", Value: "admin"}}))
	if decide(&p, s, c, false) != nil {
		t.Fatal("connectionStatus answered though told to forward it")
	}
	ans := decide(&p, s, c, true)
	if ans == nil {
		t.Fatal("connectionStatus was forwarded")
	}
	out, err := reply(header{RequestID: 9, OpCode: opMsg}, 100, ans)
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := readMessage(bytes.NewReader(out))
	if err != nil || h.ResponseTo != 9 || h.OpCode != opMsg {
		t.Fatalf("reply header %+v, %v", h, err)
	}
	_, body, err := parseOpMsg(out)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		AuthInfo struct {
			Users []struct{ User, DB string } `bson:"authenticatedUsers"`
			Roles []struct{ Role, DB string } `bson:"authenticatedUserRoles"`
			Privs []struct {
				Resource struct{ DB, Collection string }
				Actions  []string
			} `bson:"authenticatedUserPrivileges"`
		} `bson:"authInfo"`
		OK float64 `bson:"ok"`
	}
	if err := bson.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	ai := got.AuthInfo
	if got.OK != 1 || len(ai.Users) != 1 || ai.Users[0].User != "ro" || ai.Users[0].DB != "admin" ||
		len(ai.Roles) != 1 || ai.Roles[0].Role != "read" || ai.Roles[0].DB != "lab" || len(ai.Privs) == 0 {
		t.Fatalf("got %+v", got)
	}
	for _, pr := range ai.Privs {
		if pr.Resource.DB != "lab" || !slices.Contains(pr.Actions, "find") || slices.Contains(pr.Actions, "insert") ||
			slices.Contains(pr.Actions, "update") || slices.Contains(pr.Actions, "remove") {
			t.Errorf("privilege %+v of a read user", pr)
		}
	}
	// A legacy OP_QUERY gets an OP_REPLY.
	out, err = reply(header{RequestID: 5, OpCode: opQuery}, 101, ans)
	if h := parseHeader(out); err != nil || h.OpCode != opReply || h.ResponseTo != 5 || int(h.Length) != len(out) {
		t.Fatalf("legacy reply %+v, %v", h, err)
	}
}

func TestParseRoles(t *testing.T) {
	u, gs, err := parseRoles("bob=readWrite@lab,read@other")
	if err != nil || u != "bob" || !slices.Equal(gs, []grant{{"readWrite", "lab"}, {"read", "other"}}) {
		t.Fatalf("got %q %v %v", u, gs, err)
	}
	for _, bad := range []string{"bob", "=read@lab", "bob=write@lab", "bob=read@", "bob=read"} {
		if _, _, err := parseRoles(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzParseRequest: no input makes the parser panic or read out of bounds.
func FuzzParseRequest(f *testing.F) {
	f.Add(opMsgBytes(f, 1, 0, bson.D{{Key: "find", Value: "x"}, {Key: "$db", Value: "lab"}}))
	f.Add(opMsgBytes(f, 1, flagChecksumPresent, bson.D{{Key: "insert", Value: "x"}}, []bson.D{{{Key: "a", Value: 1}}}))
	f.Add(opQueryBytes(f, 2, "admin.$cmd", bson.D{{Key: "isMaster", Value: 1}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 16 {
			return
		}
		binary.LittleEndian.PutUint32(b, uint32(len(b)))
		_, msg, err := readMessage(bytes.NewReader(b))
		if err != nil {
			return
		}
		if cmd, ok, err := parseRequest(msg); ok && err == nil {
			var s session
			s.learn(cmd)
			decide(&policy{}, &s, cmd, true)
		}
	})
}
