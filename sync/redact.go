package sync

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
)

// secretParams are URI options whose values are credentials.
var secretParams = regexp.MustCompile(`(?i)^(password|.*secret.*|.*token.*|authmechanismproperties|tlscertificatekeyfilepassword|sslclientcertificatekeypassword)$`)

// Unparseable is what Redact shows for text it cannot prove free of
// credentials.
const Unparseable = "<unparseable URI>"

// Parts of a connection string Redact lets through: host names, ports,
// database names and option names and values hold nothing else. A string
// with any other character there is shown as Unparseable: a password
// mistyped into the host part (a missing "//" or "@") is not a host name.
var (
	hostRE   = regexp.MustCompile(`^([A-Za-z0-9._%-]+|\[[0-9A-Fa-f:.%]+\])(:[0-9]{1,5})?$`)
	dbRE     = regexp.MustCompile(`^[A-Za-z0-9._$-]*$`)
	optKeyRE = regexp.MustCompile(`^[A-Za-z0-9_.]+$`)
	optValRE = regexp.MustCompile(`^[A-Za-z0-9._:,%+/$-]*$`)
)

// Redact returns uri with its credentials replaced by "***": the userinfo
// (user and password) and the values of options that carry secrets. It
// returns only what it has parsed as a mongodb:// or mongodb+srv://
// connection string and proved to hold nothing else; anything else comes
// back as Unparseable. Empty stays empty (no server configured).
func Redact(uri string) string {
	if uri == "" {
		return ""
	}
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok || (!strings.EqualFold(scheme, "mongodb") && !strings.EqualFold(scheme, "mongodb+srv")) {
		return Unparseable
	}
	// The userinfo ends at the last "@": passwords may hold an unescaped
	// "/" or "?", hosts never hold "@".
	user := ""
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		user, rest = "***@", rest[i+1:]
	}
	hosts, rest, _ := strings.Cut(rest, "/")
	db, query, hasQuery := strings.Cut(rest, "?")
	if hosts == "" || !dbRE.MatchString(db) {
		return Unparseable
	}
	for _, h := range strings.Split(hosts, ",") {
		if !hostRE.MatchString(h) {
			return Unparseable
		}
	}
	out := scheme + "://" + user + hosts
	if strings.Contains(uri[len(scheme)+3:], "/") {
		out += "/" + db
	}
	if !hasQuery {
		return out
	}
	var params []string
	if query != "" {
		for _, p := range strings.FieldsFunc(query, func(r rune) bool { return r == '&' || r == ';' }) {
			k, v, hasValue := strings.Cut(p, "=")
			switch {
			case !hasValue || !optKeyRE.MatchString(k):
				return Unparseable
			case secretParams.MatchString(k):
				v = "***"
			case !optValRE.MatchString(v):
				return Unparseable
			}
			params = append(params, k+"="+v)
		}
	}
	return out + "?" + strings.Join(params, "&")
}

// secrets lists the strings of uri that must not appear in messages: the
// userinfo in its raw and decoded forms and secret option values. It reads
// the URI leniently (any number of slashes after the scheme, or none), so
// that even a malformed one is scrubbed from a driver's error.
func secrets(uri string) []string {
	_, rest, ok := strings.Cut(uri, ":")
	if !ok {
		return nil
	}
	rest = strings.TrimLeft(rest, "/")
	var out []string
	add := func(s string) {
		if len(s) >= 3 && !strings.Contains(s, "***") {
			out = append(out, s)
		}
		if d, err := url.PathUnescape(s); err == nil && d != s && len(d) >= 3 {
			out = append(out, d)
		}
		if d, err := url.QueryUnescape(s); err == nil && d != s && len(d) >= 3 {
			out = append(out, d)
		}
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		ui := rest[:i]
		add(ui)
		if _, pw, ok := strings.Cut(ui, ":"); ok {
			add(pw)
		}
		rest = rest[i+1:]
	}
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		for _, p := range strings.Split(rest[q+1:], "&") {
			k, v, _ := strings.Cut(p, "=")
			if secretParams.MatchString(k) {
				add(v)
			}
		}
	}
	// Longest first, so a password inside the userinfo is never left
	// half-replaced.
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if len(out[j]) > len(out[i]) {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// RedactError returns err with uri's credentials removed from its message
// (errors.Is and errors.As still see the original), for code that talks to
// a MongoDB server outside the sync engine, such as a migration.
func RedactError(uri string, err error) error { return newRedactor(uri).wrap(err) }

// redactor scrubs one URI's credentials from error messages.
type redactor struct {
	uri     string
	secrets []string
}

func newRedactor(uri string) *redactor { return &redactor{uri: uri, secrets: secrets(uri)} }

func (r *redactor) string(s string) string {
	if r.uri != "" {
		s = strings.ReplaceAll(s, r.uri, Redact(r.uri))
	}
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, "***")
	}
	return s
}

// wrap returns err with credentials removed from its message; errors.Is
// and errors.As still see the original.
func (r *redactor) wrap(err error) error {
	if err == nil {
		return nil
	}
	var re *redactedError
	if errors.As(err, &re) {
		return err
	}
	return &redactedError{msg: r.string(err.Error()), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
