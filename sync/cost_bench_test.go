package sync

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/sync/synctest"
)

// BenchmarkIdleCost measures what one device running Run with the default
// intervals costs the server while nothing changes: requests per second
// (every command the driver sends, monitoring heartbeats excluded) and
// open connections, for 20 s with the library in use and 20 s idle.
//
//	go test -run '^$' -bench IdleCost -benchtime 1x ./sync
func BenchmarkIdleCost(b *testing.B) {
	srv := synctest.Start(b)
	for _, inUse := range []bool{true, false} {
		name := "idle"
		if inUse {
			name = "in-use"
		}
		b.Run(name, func(b *testing.B) {
			var cmds atomic.Int64
			d := newDevice(b, "devcost", srv.URI, dbName(b), func(c *Config) {
				c.PollInterval, c.Debounce, c.StatusFile = 0, 0, "-"
				c.IdleAfter = 200 * time.Millisecond
				if inUse {
					c.InUse = time.Now
				}
				c.Monitor = &event.CommandMonitor{Started: func(context.Context, *event.CommandStartedEvent) { cmds.Add(1) }}
			})
			d.create(meta.Paper{Title: "one"})
			d.sync()
			ctx, cancel := context.WithCancel(context.Background())
			stop := d.eng.Start(ctx)
			defer cancel()
			<-d.eng.FirstRound()
			const span = 20 * time.Second
			b.ResetTimer()
			start := cmds.Load()
			time.Sleep(span) // an idle span: the commands sent in it are what is measured
			n := cmds.Load() - start
			conns := clientConns(b, srv.URI)
			b.StopTimer()
			cancel()
			stop()
			b.ReportMetric(float64(n)/span.Seconds(), "requests/s")
			b.ReportMetric(float64(conns), "connections")
		})
	}
}

// clientConns counts the established TCP connections to the server at
// uri (host:port) in this network namespace: those of the one engine the
// benchmark runs.
func clientConns(b *testing.B, uri string) int {
	u, err := url.Parse(uri)
	if err != nil {
		b.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, f := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			fs := strings.Fields(line)
			// remote address is field 2 ("ADDR:PORT" in hex), state field 3 (01: established)
			if len(fs) > 3 && fs[3] == "01" && strings.HasSuffix(fs[2], fmt.Sprintf(":%04X", port)) {
				n++
			}
		}
	}
	return n
}
