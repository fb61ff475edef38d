package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// MongoDB wire protocol opcodes this program looks into. Everything else
// (OP_COMPRESSED, which FerretDB never negotiates, OP_REPLY from the
// server) passes through as bytes.
const (
	opReply = 1
	opQuery = 2004
	opMsg   = 2013
)

// OP_MSG flag bits.
const (
	flagChecksumPresent = 1 << 0
	flagMoreToCome      = 1 << 1
)

// maxMessage bounds one message: MongoDB's maxMessageSizeBytes.
const maxMessage = 48_000_000

// header is a wire message's standard header.
type header struct {
	Length     int32
	RequestID  int32
	ResponseTo int32
	OpCode     int32
}

// readMessage reads one whole message, header included.
func readMessage(r io.Reader) (header, []byte, error) {
	var h header
	var hb [16]byte
	if _, err := io.ReadFull(r, hb[:]); err != nil {
		return h, nil, err
	}
	h = parseHeader(hb[:])
	if h.Length < 16 || h.Length > maxMessage {
		return h, nil, fmt.Errorf("message length %d out of range", h.Length)
	}
	msg := make([]byte, h.Length)
	copy(msg, hb[:])
	if _, err := io.ReadFull(r, msg[16:]); err != nil {
		return h, nil, fmt.Errorf("reading a %d-byte message: %w", h.Length, err)
	}
	return h, msg, nil
}

func parseHeader(b []byte) header {
	return header{
		Length:     int32(binary.LittleEndian.Uint32(b[0:])),
		RequestID:  int32(binary.LittleEndian.Uint32(b[4:])),
		ResponseTo: int32(binary.LittleEndian.Uint32(b[8:])),
		OpCode:     int32(binary.LittleEndian.Uint32(b[12:])),
	}
}

// command is a request as far as the wall cares: its name, the database
// it runs on and its body.
type command struct {
	Name  string
	DB    string
	Body  bson.Raw
	Flags uint32 // OP_MSG flags; 0 for OP_QUERY
}

// parseRequest extracts the command from an OP_MSG (its kind 0 section)
// or a legacy OP_QUERY on DB.$cmd (the handshake's hello, when a driver
// still sends it that way). ok is false for other messages, which pass
// through untouched.
func parseRequest(msg []byte) (cmd command, ok bool, err error) {
	h := parseHeader(msg)
	switch h.OpCode {
	case opMsg:
		flags, body, err := parseOpMsg(msg)
		if err != nil {
			return cmd, false, err
		}
		cmd.Body, cmd.Flags = body, flags
		if v, err := body.LookupErr("$db"); err == nil {
			cmd.DB, _ = v.StringValueOK()
		}
	case opQuery:
		coll, query, err := parseOpQuery(msg)
		if err != nil {
			return cmd, false, err
		}
		db, c, _ := strings.Cut(coll, ".")
		if c != "$cmd" {
			return cmd, false, nil
		}
		// A legacy command may be wrapped as {$query: {...}, $readPreference: ...}.
		if v, err := query.LookupErr("$query"); err == nil {
			if d, ok := v.DocumentOK(); ok {
				query = d
			}
		}
		cmd.Body, cmd.DB = query, db
	default:
		return cmd, false, nil
	}
	first, err := cmd.Body.IndexErr(0)
	if err != nil {
		return cmd, false, fmt.Errorf("empty command document")
	}
	cmd.Name = first.Key()
	return cmd, true, nil
}

// parseOpMsg returns an OP_MSG's flags and its body (the kind 0 section).
// Document sequences (kind 1: the documents of an insert) are skipped.
func parseOpMsg(msg []byte) (uint32, bson.Raw, error) {
	if len(msg) < 21 {
		return 0, nil, errors.New("OP_MSG too short")
	}
	flags := binary.LittleEndian.Uint32(msg[16:])
	end := len(msg)
	if flags&flagChecksumPresent != 0 {
		end -= 4
	}
	var body bson.Raw
	for p := 20; p < end; {
		kind := msg[p]
		p++
		switch kind {
		case 0:
			doc, err := docAt(msg[:end], p)
			if err != nil {
				return 0, nil, fmt.Errorf("OP_MSG body: %w", err)
			}
			body = doc
			p += len(doc)
		case 1:
			if p+4 > end {
				return 0, nil, errors.New("OP_MSG document sequence truncated")
			}
			size := int(binary.LittleEndian.Uint32(msg[p:]))
			if size < 4 || p+size > end {
				return 0, nil, fmt.Errorf("OP_MSG document sequence size %d out of range", size)
			}
			p += size
		default:
			return 0, nil, fmt.Errorf("OP_MSG section kind %d unknown", kind)
		}
	}
	if body == nil {
		return 0, nil, errors.New("OP_MSG without a body section")
	}
	return flags, body, nil
}

// parseOpQuery returns an OP_QUERY's full collection name and query.
func parseOpQuery(msg []byte) (string, bson.Raw, error) {
	p := 20 // after the header and the flags
	if len(msg) < p {
		return "", nil, errors.New("OP_QUERY too short")
	}
	i := bytes.IndexByte(msg[p:], 0)
	if i < 0 {
		return "", nil, errors.New("OP_QUERY collection name not terminated")
	}
	coll := string(msg[p : p+i])
	p += i + 1 + 8 // the name's NUL, numberToSkip, numberToReturn
	doc, err := docAt(msg, p)
	if err != nil {
		return "", nil, fmt.Errorf("OP_QUERY query: %w", err)
	}
	return coll, doc, nil
}

// docAt returns the BSON document starting at b[p:], validated.
func docAt(b []byte, p int) (bson.Raw, error) {
	if p+5 > len(b) {
		return nil, errors.New("document truncated")
	}
	size := int(binary.LittleEndian.Uint32(b[p:]))
	if size < 5 || p+size > len(b) {
		return nil, fmt.Errorf("document size %d out of range", size)
	}
	doc := bson.Raw(b[p : p+size])
	if err := doc.Validate(); err != nil {
		return nil, err
	}
	return doc, nil
}

// reply encodes body as the answer to request, in the request's format:
// OP_MSG for OP_MSG, OP_REPLY for a legacy OP_QUERY.
func reply(request header, id int32, body any) ([]byte, error) {
	doc, err := bson.Marshal(body)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(make([]byte, 16))
	switch request.OpCode {
	case opMsg:
		binary.Write(&b, binary.LittleEndian, uint32(0)) // flags
		b.WriteByte(0)                                   // kind 0: body
	case opQuery:
		binary.Write(&b, binary.LittleEndian, int32(0)) // responseFlags
		binary.Write(&b, binary.LittleEndian, int64(0)) // cursorID
		binary.Write(&b, binary.LittleEndian, int32(0)) // startingFrom
		binary.Write(&b, binary.LittleEndian, int32(1)) // numberReturned
	default:
		return nil, fmt.Errorf("cannot answer opcode %d", request.OpCode)
	}
	b.Write(doc)
	out := b.Bytes()
	op := int32(opMsg)
	if request.OpCode == opQuery {
		op = opReply
	}
	binary.LittleEndian.PutUint32(out[0:], uint32(len(out)))
	binary.LittleEndian.PutUint32(out[4:], uint32(id))
	binary.LittleEndian.PutUint32(out[8:], uint32(request.RequestID))
	binary.LittleEndian.PutUint32(out[12:], uint32(op))
	return out, nil
}

// saslUser returns the user a SASL conversation starts for, from a
// saslStart command or a hello's speculativeAuthenticate document:
// SCRAM's client-first message "n,,n=USER,r=NONCE" (RFC 5802, with "=2C"
// and "=3D" for "," and "=") or PLAIN's "authzid\x00authcid\x00password".
// db is the database the user authenticates against.
func saslUser(doc bson.Raw, defaultDB string) (user, db string, ok bool) {
	mech, _ := doc.Lookup("mechanism").StringValueOK()
	_, payload, okp := doc.Lookup("payload").BinaryOK()
	if !okp {
		return "", "", false
	}
	db = defaultDB
	if v, ok := doc.Lookup("db").StringValueOK(); ok {
		db = v
	}
	if mech == "PLAIN" {
		parts := bytes.Split(payload, []byte{0})
		if len(parts) != 3 {
			return "", "", false
		}
		return string(parts[1]), db, len(parts[1]) > 0
	}
	// The gs2 header is a channel-binding flag and an optional authzid
	// ("n,," or "n,a=admin,"), then the bare message.
	_, rest, ok1 := strings.Cut(string(payload), ",")
	_, bare, ok2 := strings.Cut(rest, ",")
	if !ok1 || !ok2 {
		return "", "", false
	}
	for _, attr := range strings.Split(bare, ",") {
		if v, ok := strings.CutPrefix(attr, "n="); ok {
			v = strings.NewReplacer("=2C", ",", "=3D", "=").Replace(v)
			return v, db, v != ""
		}
	}
	return "", "", false
}
