//go:build !windows

package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestTestClock(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	t.Setenv(testClockEnv, "")
	if now, err := testClock(log); now != nil || err != nil || logs.Len() != 0 {
		t.Fatalf("unset: clock set %v, %v, %q", now != nil, err, logs.String())
	}
	t.Setenv(testClockEnv, "2h")
	now, err := testClock(log)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(now()) - 2*time.Hour; d < -time.Second || d > time.Second {
		t.Errorf("clock shifted by %s, want 2h", time.Until(now()))
	}
	if !strings.Contains(logs.String(), "TEST SETTING") || !strings.Contains(logs.String(), testClockEnv) {
		t.Errorf("not logged loudly: %q", logs.String())
	}
	t.Setenv(testClockEnv, "two hours")
	if _, err := testClock(log); err == nil || !strings.Contains(err.Error(), testClockEnv) {
		t.Errorf("a bad value: %v", err)
	}
}
