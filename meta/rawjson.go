package meta

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxJSONDepth bounds the nesting a saved sidecar may have; a paper's is 3.
const maxJSONDepth = 64

// checkRawJSON refuses what encoding/json would otherwise change without a
// word: invalid UTF-8 and lone UTF-16 surrogates (it substitutes U+FFFD)
// and duplicate object keys (the last one wins). It reports the first
// problem as a *SidecarError at its line and column, naming the top-level
// field it is in. Syntax errors it leaves to json.Unmarshal, which gives
// them a better message: on anything it does not expect it stops, silent.
func checkRawJSON(data []byte) error {
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, n := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			off += n
		}
		c := &rawChecker{data: data}
		c.locate(off)
		return c.fail(off, "byte 0x%02x is not valid UTF-8 (text must be UTF-8)", data[off])
	}
	c := &rawChecker{data: data}
	err := c.value(0)
	if err == errStop {
		return nil
	}
	return err
}

// errStop ends a walk at a syntax error json.Unmarshal will report.
var errStop = fmt.Errorf("stop")

type rawChecker struct {
	data  []byte
	pos   int
	field string // the top-level key being read
}

func (c *rawChecker) fail(off int, format string, args ...any) error {
	line, col := lineCol(c.data, off)
	field := clip(c.field)
	if field == "" {
		field = "sidecar"
	}
	return &SidecarError{Line: line, Column: col,
		Err: invalid(field, "%s (byte offset %d)", fmt.Sprintf(format, args...), off)}
}

// locate sets field to the top-level key whose value holds offset off, for
// a problem found before the walk.
func (c *rawChecker) locate(off int) {
	w := &rawChecker{data: c.data[:off]}
	w.value(0)
	c.field = w.field
}

func (c *rawChecker) ws() {
	for c.pos < len(c.data) {
		switch c.data[c.pos] {
		case ' ', '\t', '\r', '\n':
			c.pos++
		default:
			return
		}
	}
}

func (c *rawChecker) value(depth int) error {
	if depth > maxJSONDepth {
		return c.fail(c.pos, "nested more than %d levels deep", maxJSONDepth)
	}
	c.ws()
	if c.pos >= len(c.data) {
		return errStop
	}
	switch c.data[c.pos] {
	case '{':
		return c.object(depth)
	case '[':
		c.pos++
		c.ws()
		if c.pos < len(c.data) && c.data[c.pos] == ']' {
			c.pos++
			return nil
		}
		for {
			if err := c.value(depth + 1); err != nil {
				return err
			}
			c.ws()
			if c.pos >= len(c.data) {
				return errStop
			}
			c.pos++
			switch c.data[c.pos-1] {
			case ',':
			case ']':
				return nil
			default:
				return errStop
			}
		}
	case '"':
		_, err := c.str()
		return err
	}
	for c.pos < len(c.data) { // a number, true, false or null
		switch c.data[c.pos] {
		case ',', ']', '}', ' ', '\t', '\r', '\n':
			return nil
		}
		c.pos++
	}
	return nil
}

func (c *rawChecker) object(depth int) error {
	c.pos++
	seen := map[string]bool{}
	for first := true; ; first = false {
		c.ws()
		if c.pos >= len(c.data) {
			return errStop
		}
		if first && c.data[c.pos] == '}' {
			c.pos++
			return nil
		}
		if c.data[c.pos] != '"' {
			return errStop
		}
		start := c.pos
		key, err := c.str()
		if err != nil {
			return err
		}
		if depth == 0 {
			c.field = key
		}
		if seen[key] {
			return c.fail(start, "key %s appears twice in one object", quote(key))
		}
		seen[key] = true
		c.ws()
		if c.pos >= len(c.data) || c.data[c.pos] != ':' {
			return errStop
		}
		c.pos++
		if err := c.value(depth + 1); err != nil {
			return err
		}
		c.ws()
		if c.pos >= len(c.data) {
			return errStop
		}
		c.pos++
		switch c.data[c.pos-1] {
		case ',':
		case '}':
			return nil
		default:
			return errStop
		}
	}
}

// str reads a string literal, refusing lone surrogates, and returns its
// value.
func (c *rawChecker) str() (string, error) {
	start := c.pos
	c.pos++
	for c.pos < len(c.data) {
		switch c.data[c.pos] {
		case '"':
			c.pos++
			var s string
			if json.Unmarshal(c.data[start:c.pos], &s) != nil {
				return "", errStop
			}
			return s, nil
		case '\\':
			if c.pos+1 < len(c.data) && c.data[c.pos+1] == 'u' {
				at := c.pos
				r, ok := c.hex(c.pos + 2)
				if !ok {
					return "", errStop
				}
				c.pos += 6
				switch {
				case utf16.IsSurrogate(r) && r < 0xdc00:
					if low, ok := c.hex(c.pos + 2); ok && c.data[c.pos] == '\\' && c.data[c.pos+1] == 'u' && low >= 0xdc00 && low <= 0xdfff {
						c.pos += 6
						continue
					}
					return "", c.fail(at, "\\u%04x is half of a UTF-16 surrogate pair, without its other half", r)
				case utf16.IsSurrogate(r):
					return "", c.fail(at, "\\u%04x is half of a UTF-16 surrogate pair, without its other half", r)
				}
				continue
			}
			c.pos += 2
		default:
			c.pos++
		}
	}
	return "", errStop
}

// hex reads the four hex digits of a \u escape at off.
func (c *rawChecker) hex(off int) (rune, bool) {
	if off+4 > len(c.data) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(c.data[off:off+4]), 16, 16)
	return rune(v), err == nil
}

// lineCol is the 1-based line and column of byte offset off in data.
func lineCol(data []byte, off int) (line, col int) {
	line, col = 1, 1
	for _, b := range data[:max(0, min(off, len(data)))] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// maxQuoted bounds how much of a value an error message quotes: a message
// is logged, and a value may be megabytes.
const maxQuoted = 64

// quote returns s quoted, cut to its first maxQuoted bytes (at a rune
// boundary) with the size of the rest.
func quote(s string) string {
	head, rest := cutAt(s)
	if rest == 0 {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%s… (%d more bytes)", strconv.Quote(head), rest)
}

// clip is quote for text that is shown unquoted.
func clip(s string) string {
	head, rest := cutAt(s)
	if rest == 0 {
		return s
	}
	return fmt.Sprintf("%s… (%d more bytes)", head, rest)
}

func cutAt(s string) (head string, rest int) {
	if len(s) <= maxQuoted {
		return s, 0
	}
	n := maxQuoted
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], len(s) - n
}
