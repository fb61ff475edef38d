package webdav

import (
	"encoding/xml"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/net/webdav"
)

// deadProps keeps the properties clients set with PROPPATCH (Windows
// Explorer sets Win32 times and attributes after every upload and
// reports the copy failed if they are refused). They are the client's
// notes, not the library's: kept in memory by path, for the life of the
// server, at most maxPropPaths paths.
type deadProps struct {
	mu sync.Mutex // protects m
	m  map[string]map[xml.Name]webdav.Property
}

const maxPropPaths = 10000

// propsOf is the webdav.DeadPropsHolder of one path, embedded in its file.
type propsOf struct {
	props *deadProps
	path  string
}

var _ webdav.DeadPropsHolder = propsOf{}

func (p propsOf) DeadProps() (map[xml.Name]webdav.Property, error) {
	p.props.mu.Lock()
	defer p.props.mu.Unlock()
	m := p.props.m[p.path]
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[xml.Name]webdav.Property, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out, nil
}

func (p propsOf) Patch(patches []webdav.Proppatch) ([]webdav.Propstat, error) {
	p.props.mu.Lock()
	defer p.props.mu.Unlock()
	m := p.props.m[p.path]
	st := webdav.Propstat{Status: http.StatusOK}
	if m == nil && len(p.props.m) >= maxPropPaths {
		st.Status = http.StatusInsufficientStorage
	}
	for _, patch := range patches {
		for _, prop := range patch.Props {
			st.Props = append(st.Props, webdav.Property{XMLName: prop.XMLName})
			if st.Status != http.StatusOK {
				continue
			}
			if patch.Remove {
				delete(m, prop.XMLName)
				continue
			}
			if m == nil {
				if p.props.m == nil {
					p.props.m = map[string]map[xml.Name]webdav.Property{}
				}
				m = map[xml.Name]webdav.Property{}
				p.props.m[p.path] = m
			}
			m[prop.XMLName] = prop
		}
	}
	if m != nil && len(m) == 0 {
		delete(p.props.m, p.path)
	}
	return []webdav.Propstat{st}, nil
}

// moved moves the properties of path, and of what is below it, to to;
// to == "" drops them.
func (d *deadProps) moved(path, to string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var keys []string
	for k := range d.m {
		if rest, ok := strings.CutPrefix(k, path); ok && (rest == "" || strings.HasPrefix(rest, "/")) {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		v := d.m[k]
		delete(d.m, k)
		if to != "" {
			d.m[to+k[len(path):]] = v
		}
	}
}
