package sync

import (
	"context"
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
			time.Sleep(span)
			n := cmds.Load() - start
			b.StopTimer()
			cancel()
			stop()
			b.ReportMetric(float64(n)/span.Seconds(), "requests/s")
		})
	}
}
