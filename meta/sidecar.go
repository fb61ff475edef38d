package meta

import (
	"bytes"
	"encoding/json"
)

// EncodeSidecar renders a paper as the indented JSON shown in its sidecar
// file. The schema is documented in docs/schema.md and only grows: fields
// are never renamed or removed.
func EncodeSidecar(p *Paper) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		// Paper holds only types encoding/json always encodes.
		panic(err)
	}
	return b.Bytes()
}
