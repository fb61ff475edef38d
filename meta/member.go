package meta

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// A member is the person who made an op, as the library's members know
// them: a display name from the config, else the database user the
// device syncs as, else the device's name. It travels with the op, so
// every device can say who changed what (Store.History) and the server's
// readable documents who changed each paper last. It is shown, never
// used to decide anything: whoever may write the database may write any
// member name, so it is a label, not an authentication.

// MaxMemberBytes bounds a member name, in bytes of UTF-8.
const MaxMemberBytes = 64

// CleanMember makes s a member name an op may carry: valid UTF-8 without
// control characters, spaces trimmed, cut to MaxMemberBytes on a
// character boundary. Names from elsewhere (the config, the server) go
// through it before they are stored or shown.
func CleanMember(s string) string {
	if validMember(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > MaxMemberBytes {
		cut := MaxMemberBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimSpace(s[:cut])
	}
	return s
}

// validMember says s is a member name as CleanMember makes them ("" is
// one: ops from before members, or a device that has none).
func validMember(s string) bool {
	return len(s) <= MaxMemberBytes && utf8.ValidString(s) && s == strings.TrimSpace(s) &&
		!strings.ContainsFunc(s, unicode.IsControl)
}
