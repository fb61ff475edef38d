package main

import (
	"fmt"
	"log/slog"
	"os"
	"time"
)

// testClockEnv shifts this process's clock, for tests of clock skew
// through real processes only: Go reads the time without libc, so
// faketime cannot shift a paperfs binary. It moves the clock of the
// metadata store (the stamps of edits, "modified") and of the sync
// engine (its measured offset from the server); nothing else. A
// process that has it set says so on every start.
const testClockEnv = "PAPERFS_TEST_CLOCK_OFFSET"

// testClock is the wall clock, shifted by $PAPERFS_TEST_CLOCK_OFFSET (a
// Go duration: "2h", "-90m"), or nil (time.Now) when it is not set.
func testClock(log *slog.Logger) (func() time.Time, error) {
	v, ok := os.LookupEnv(testClockEnv)
	if !ok || v == "" {
		return nil, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return nil, fmt.Errorf("$%s=%q: %w (a test-only setting: unset it)", testClockEnv, v, err)
	}
	log.Warn("TEST SETTING: this process's clock is shifted; it is for tests only, unset $"+testClockEnv,
		"offset", d.String())
	return func() time.Time { return time.Now().Add(d) }, nil
}
