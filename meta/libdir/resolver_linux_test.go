package libdir

var resolverModes = []struct {
	name string
	set  func()
}{
	{"openat2", func() { noOpenat2.Store(false) }},
	{"walk", func() { noOpenat2.Store(true) }},
}

func resetResolver() { noOpenat2.Store(false) }
