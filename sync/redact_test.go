package sync

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"mongodb://localhost:27017/", "mongodb://localhost:27017/"},
		{"mongodb+srv://alice:s3cr%2Fet@cluster0.abc.mongodb.net/?retryWrites=true",
			"mongodb+srv://***@cluster0.abc.mongodb.net/?retryWrites=true"},
		{"mongodb://u:p@w/d@h1:1,h2:2/db?authSource=admin&password=zzz",
			"mongodb://***@h1:1,h2:2/db?authSource=admin&password=***"},
		{"mongodb://h/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:tok",
			"mongodb://h/?authMechanism=MONGODB-AWS&authMechanismProperties=***"},
		{"mongodb://h1,h2:27018/db?replicaSet=rs0&w=majority;tls=true", "mongodb://h1,h2:27018/db?replicaSet=rs0&w=majority&tls=true"},
		{"mongodb://[::1]:27017", "mongodb://[::1]:27017"},
		{"mongodb://mongo_db:27017/lib_1?authSource=$external&authMechanism=MONGODB-X509",
			"mongodb://mongo_db:27017/lib_1?authSource=$external&authMechanism=MONGODB-X509"},
		{"mongodb://%2Ftmp%2Fmongodb-27017.sock/db", "mongodb://%2Ftmp%2Fmongodb-27017.sock/db"},
		{"", ""},
		// Spellings that are not connection strings: nothing of them is
		// shown, since a password may be anywhere in them.
		{"not a uri", Unparseable},
		{"mongodb:/user:PASS@host/", Unparseable},
		{"mongodb:user:PASS@host/", Unparseable},
		{"mongodb:///user:PASS@host/", "mongodb://***@host/"},
		{"mongodb//user:PASS@host/", Unparseable},
		{"mongodb:\\\\user:PASS@host/", Unparseable},
		{"user:PASS@host", Unparseable},
		{"http://user:PASS@host/", Unparseable},
		{"mongodb://user:PASS/host", Unparseable},    // "@" left out: the password looks like a port
		{"mongodb://host/db?PASS", Unparseable},      // an option with no name
		{"mongodb://host/PASS WORD", Unparseable},    // not a database name
		{"mongodb://host/?appName=a b", Unparseable}, // not an option value
		{"mongodb://ho st/", Unparseable},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactError(t *testing.T) {
	uri := "mongodb+srv://alice:hunter2%40x@cluster0.example.net/"
	r := newRedactor(uri)
	base := errors.New("boom")
	err := r.wrap(fmt.Errorf("auth failed for alice:hunter2@x at %s: password hunter2@x rejected: %w", uri, base))
	if msg := err.Error(); strings.Contains(msg, "hunter2") {
		t.Fatalf("secret in %q", msg)
	}
	if !errors.Is(err, base) {
		t.Fatal("wrap hides the cause")
	}
}

// TestNewRedactsBadURI: a URI the driver rejects is reported without its
// password.
func TestNewRedactsBadURI(t *testing.T) {
	_, err := New(nil, Config{URI: "mongodb://bob:pa55word@host:notaport/", Database: "x", StatusFile: "-"})
	if err == nil {
		t.Fatal("bad URI accepted")
	}
	if strings.Contains(err.Error(), "pa55word") {
		t.Fatalf("secret in %q", err)
	}
}

// TestRedactErrorMalformed: a URI missing its "//" is still scrubbed from
// an error that quotes its parts.
func TestRedactErrorMalformed(t *testing.T) {
	for _, uri := range []string{"mongodb:/user:PASSWD@host/", "mongodb:user:PASSWD@host/"} {
		err := RedactError(uri, fmt.Errorf("bad %s: user:PASSWD, PASSWD", uri))
		if strings.Contains(err.Error(), "PASSWD") {
			t.Errorf("secret in %q", err)
		}
	}
}
