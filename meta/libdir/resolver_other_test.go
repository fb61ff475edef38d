//go:build !linux

package libdir

var resolverModes = []struct {
	name string
	set  func()
}{{"default", func() {}}}

func resetResolver() {}
