package logsink

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a destination that the test reads while lines arrive.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Lines from many goroutines all arrive, whole, each goroutine's in the
// order it wrote them.
func TestEveryLineArrivesInOrder(t *testing.T) {
	var out lockedBuffer
	w := New(&out)
	const writers, lines = 8, 2000
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(w, "g=%d i=%d\n", g, i)
			}
		})
	}
	wg.Wait()
	w.Close()
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != writers*lines {
		t.Fatalf("%d lines arrived, want %d", len(got), writers*lines)
	}
	next := make([]int, writers)
	for _, l := range got {
		var g, i int
		if _, err := fmt.Sscanf(l, "g=%d i=%d", &g, &i); err != nil {
			t.Fatalf("torn line %q: %v", l, err)
		}
		if i != next[g] {
			t.Fatalf("writer %d: line %d arrived where %d was due", g, i, next[g])
		}
		next[g]++
	}
	out.mu.Lock()
	calls := out.writes
	out.mu.Unlock()
	t.Logf("%d lines in %d writes", len(got), calls)
}

// Close writes what waits; a line after Close goes straight out.
func TestCloseWritesWhatIsLeft(t *testing.T) {
	var out lockedBuffer
	w := New(&out)
	for i := range 100 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != 100 {
		t.Fatalf("after Close %d lines were written, want 100", n)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	fmt.Fprintln(w, "after close")
	if !strings.HasSuffix(out.String(), "line 99\nafter close\n") {
		t.Fatalf("a line after Close did not follow the others: %q", out.String()[len(out.String())-40:])
	}
}

// gate is a destination that takes nothing until it is opened.
type gate struct {
	lockedBuffer
	open    chan struct{}
	entered chan struct{}
	once    sync.Once
}

func (g *gate) Write(p []byte) (int, error) {
	g.once.Do(func() { close(g.entered) })
	<-g.open
	return g.lockedBuffer.Write(p)
}

// A destination that takes nothing holds writers back once limit bytes
// wait, and lets them go when it takes lines again; nothing is dropped.
func TestStuckDestinationHoldsWritersBack(t *testing.T) {
	out := &gate{open: make(chan struct{}), entered: make(chan struct{})}
	w := New(out)
	line := bytes.Repeat([]byte("x"), 1023)
	line = append(line, '\n')
	w.Write(line)
	<-out.entered // the goroutine is stuck writing the first line
	// limit bytes more are taken without blocking.
	for range limit / len(line) {
		w.Write(line)
	}
	done := make(chan struct{})
	go func() {
		w.Write(line) // over the limit: waits for the destination
		close(done)
	}()
	for i := 0; ; i++ {
		w.mu.Lock()
		waiting := w.waits
		w.mu.Unlock()
		if waiting > 0 {
			break
		}
		select {
		case <-done:
			t.Fatal("a write over the limit returned while the destination took nothing")
		default:
		}
		if i > 1e7 {
			t.Fatal("a write over the limit neither waited nor returned")
		}
		runtime.Gosched()
	}
	close(out.open)
	<-done
	w.Close()
	if got, want := len(out.String()), (limit/len(line)+2)*len(line); got != want {
		t.Fatalf("%d bytes arrived, want %d", got, want)
	}
}

// Flush returns only once the lines written before it are out, even while
// the destination is slow to take them.
func TestFlushWaitsForEarlierLines(t *testing.T) {
	out := &gate{open: make(chan struct{}), entered: make(chan struct{})}
	w := New(out)
	defer w.Close()
	w.Flush() // nothing written yet: returns at once
	w.Write([]byte("first\n"))
	<-out.entered // the goroutine is stuck writing it
	w.Write([]byte("second\n"))
	flushed := make(chan struct{})
	go func() {
		w.Flush()
		close(flushed)
	}()
	// Flush is waiting for the destination: it has taken neither line.
	for i := 0; i < 1000; i++ {
		select {
		case <-flushed:
			close(out.open) // lets the deferred Close finish
			t.Fatalf("Flush returned before its lines were out (%q out)", out.String())
		default:
		}
		runtime.Gosched()
	}
	close(out.open)
	<-flushed
	if got := out.String(); got != "first\nsecond\n" {
		t.Fatalf("after Flush the destination holds %q", got)
	}
}
