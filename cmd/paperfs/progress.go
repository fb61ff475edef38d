package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress shows how far a long command is (import, scan, a first sync):
// on a terminal a bar redrawn in place, elsewhere (a log, a pipe) a plain
// line at each tenth, so a log holds no carriage returns or bars.
//
// A rate is shown only from rateAfter on, measured from the start of the
// command: the first files of an import (duplicates, a warm cache) take
// microseconds, and a rate over them claimed 35,456 files/s.
type progress struct {
	w     io.Writer
	desc  string // "importing"
	unit  string // "files"
	tty   bool
	width int              // columns of the terminal
	now   func() time.Time // the clock; tests set it
	start time.Time

	mu        sync.Mutex // protects the following
	lastDraw  time.Time
	lastTenth int
	drawn     bool // a bar is on the terminal's last line
}

const (
	rateAfter  = time.Second
	redrawEach = 100 * time.Millisecond
)

func newProgress(w io.Writer, desc, unit string) *progress {
	p := &progress{w: w, desc: desc, unit: unit, width: 80, now: time.Now, lastTenth: -1}
	if t, ok := w.(interface{ terminal() (bool, int) }); ok {
		// The caller's terminal, for a command run on its behalf.
		if tty, cols := t.terminal(); tty {
			p.tty = true
			if cols > 20 {
				p.width = cols
			}
		}
	} else if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 20 {
			p.width = cols
		}
	}
	p.start = p.now()
	return p
}

// update is called after each item; a single item needs no progress.
func (p *progress) update(done, total int) {
	if total < 2 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.tty {
		if done < total && now.Sub(p.lastDraw) < redrawEach {
			return
		}
		p.lastDraw = now
		fmt.Fprintf(p.w, "\r%s", progressBar(p.desc, p.unit, done, total, now.Sub(p.start), p.width))
		p.drawn = true
		return
	}
	if tenth := done * 10 / total; tenth > p.lastTenth {
		p.lastTenth = tenth
		fmt.Fprintln(p.w, progressText(p.desc, p.unit, done, total, now.Sub(p.start)))
	}
}

// finish ends the bar's line, so what follows starts on a line of its own.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// progressText: "importing 47/94 files (50%), 12 files/s, 4s left".
func progressText(desc, unit string, done, total int, elapsed time.Duration) string {
	return desc + " " + progressDetail(unit, done, total, elapsed)
}

func progressDetail(unit string, done, total int, elapsed time.Duration) string {
	s := fmt.Sprintf("%d/%d %s (%d%%)", done, total, unit, done*100/total)
	if elapsed < rateAfter || done == 0 {
		return s
	}
	rate := float64(done) / elapsed.Seconds()
	s += ", " + formatRate(rate, unit)
	if done < total {
		left := time.Duration(float64(total-done) / rate * float64(time.Second))
		s += ", " + left.Round(time.Second).String() + " left"
	}
	return s
}

func formatRate(rate float64, unit string) string {
	switch {
	case rate >= 10:
		return fmt.Sprintf("%.0f %s/s", rate, unit)
	case rate >= 1:
		return fmt.Sprintf("%.1f %s/s", rate, unit)
	default:
		return fmt.Sprintf("%.0f %s/min", rate*60, unit)
	}
}

// progressBar is progressText with a bar, "importing [=====     ] 47/94
// files ...", padded to width-1 columns so that a shorter line overwrites a
// longer one.
func progressBar(desc, unit string, done, total int, elapsed time.Duration, width int) string {
	detail := progressDetail(unit, done, total, elapsed)
	barWidth := min(width-1-len(desc)-len(detail)-4, 40)
	line := desc + " " + detail
	if barWidth >= 10 {
		fill := done * barWidth / total
		line = desc + " [" + strings.Repeat("=", fill) + strings.Repeat(" ", barWidth-fill) + "] " + detail
	}
	return fmt.Sprintf("%-*s", width-1, line)
}
