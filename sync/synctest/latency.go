package synctest

import (
	"slices"
	"testing"
	"time"
)

// ReportLatency reports the median, 95th percentile and maximum of the
// latencies a benchmark measured, in seconds, in place of ns/op (which
// would time the waits between edits).
func ReportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		b.Fatal("no latencies measured")
	}
	lat = slices.Clone(lat)
	slices.Sort(lat)
	b.ReportMetric(lat[len(lat)/2].Seconds(), "median-s")
	b.ReportMetric(lat[len(lat)*95/100].Seconds(), "p95-s")
	b.ReportMetric(lat[len(lat)-1].Seconds(), "max-s")
	b.ReportMetric(0, "ns/op")
}
