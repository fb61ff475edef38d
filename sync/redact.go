package sync

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
)

// secretParams are URI options whose values are credentials.
var secretParams = regexp.MustCompile(`(?i)^(password|.*secret.*|.*token.*|authmechanismproperties|tlscertificatekeyfilepassword|sslclientcertificatekeypassword)$`)

// Redact returns uri with its credentials replaced by "***": the userinfo
// (user and password) and the values of options that carry secrets. It
// never fails; text that is not a URI comes back unchanged unless it has
// an "@" before the host part, which is masked too.
func Redact(uri string) string {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return uri
	}
	// The userinfo ends at the last "@" before the path: passwords may
	// hold an unescaped "/" or "?", hosts never hold "@".
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = "***@" + rest[i+1:]
	}
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		params := strings.Split(rest[q+1:], "&")
		for i, p := range params {
			k, _, _ := strings.Cut(p, "=")
			if secretParams.MatchString(k) {
				params[i] = k + "=***"
			}
		}
		rest = rest[:q+1] + strings.Join(params, "&")
	}
	return scheme + "://" + rest
}

// secrets lists the strings of uri that must not appear in messages: the
// userinfo in its raw and decoded forms and secret option values.
func secrets(uri string) []string {
	_, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return nil
	}
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
