// Command testreport runs go test with -json and reports like go test,
// plus the one thing go test keeps quiet about: which tests skipped, and
// why. scripts/test runs it as
//
//	go run ./scripts/internal/testreport -allow scripts/test-skips.txt [-strict] [-skips FILE] -- go test -json ./...
//
// It prints the output of failing tests and the package lines (ok, FAIL,
// build errors) as go test does without -v, then every skipped test with
// its reason, marked allowed when the allow-list names it. With -strict
// (scripts/test passes it under CI=true) a skip that the list does not
// allow fails the run. -skips FILE writes that list to FILE too, for the
// summary of scripts/test. The exit status is go test's, or 1 for a skip that
// is not allowed.
//
// The allow-list has a line per test: the package's import path, the
// test's name (a subtest as Parent/Child) and, after a #, why it may skip.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
)

func main() {
	allowPath := flag.String("allow", "", "file of tests allowed to skip")
	strict := flag.Bool("strict", false, "fail on a skip the allow-list does not name")
	skipsPath := flag.String("skips", "", "also write the list of skipped tests to this file")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: testreport [-allow FILE] [-strict] -- go test -json ...")
		os.Exit(2)
	}
	allowed := map[string]string{}
	if *allowPath != "" {
		var err error
		if allowed, err = readAllowList(*allowPath); err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			os.Exit(2)
		}
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	r := newReport()
	if err := r.read(out, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "testreport: reading go test's output:", err)
	}
	status := 0
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			os.Exit(2)
		}
		status = ee.ExitCode()
	}
	var list strings.Builder
	bad := r.summary(&list, allowed, *strict)
	fmt.Print(list.String())
	if *skipsPath != "" {
		if err := os.WriteFile(*skipsPath, []byte(list.String()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
		}
	}
	if bad > 0 && status == 0 {
		status = 1
	}
	os.Exit(status)
}

// readAllowList reads "package test # why" lines; blank lines and lines
// starting with # are comments.
func readAllowList(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		why := ""
		if i := strings.Index(line, "#"); i >= 0 {
			line, why = strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:])
		}
		fields := strings.Fields(line)
		if len(fields) != 2 || why == "" {
			return nil, fmt.Errorf("%s:%d: want \"package Test # why\"", path, n)
		}
		out[fields[0]+" "+fields[1]] = why
	}
	return out, sc.Err()
}

// event is one line of go test -json (test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// skip is a test that skipped, with what it said.
type skip struct {
	Package, Test, Reason string
}

type report struct {
	output map[string][]string // a running test's output, by package and test
	skips  []skip
}

func newReport() *report { return &report{output: map[string][]string{}} }

// read consumes go test -json from r and writes to w what go test without
// -v would have shown.
func (rep *report) read(r io.Reader, w io.Writer) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if err := json.Unmarshal(line, &ev); err != nil || ev.Action == "" {
			// Not an event (go test writes build errors as plain text
			// when it cannot start): pass it through.
			fmt.Fprintf(w, "%s\n", line)
			continue
		}
		rep.handle(ev, w)
	}
	return sc.Err()
}

func (rep *report) handle(ev event, w io.Writer) {
	key := ev.Package + " " + ev.Test
	switch ev.Action {
	case "build-output":
		// Compiler errors (go test -json reports them as events too).
		fmt.Fprint(w, ev.Output)
	case "output":
		if ev.Test == "" {
			// Package lines: ok/FAIL, coverage, panics outside tests.
			if !strings.HasPrefix(ev.Output, "=== ") && ev.Output != "PASS\n" {
				fmt.Fprint(w, ev.Output)
			}
			return
		}
		rep.output[key] = append(rep.output[key], ev.Output)
	case "fail":
		if ev.Test != "" {
			for _, l := range rep.output[key] {
				if !strings.HasPrefix(l, "=== ") {
					fmt.Fprint(w, l)
				}
			}
		}
		delete(rep.output, key)
	case "skip":
		if ev.Test != "" {
			rep.skips = append(rep.skips, skip{ev.Package, ev.Test, reason(rep.output[key])})
		}
		delete(rep.output, key)
	case "pass":
		delete(rep.output, key)
	}
}

// reason is what a skipped test logged, without the framing lines.
func reason(lines []string) string {
	var parts []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		parts = append(parts, t)
	}
	if len(parts) == 0 {
		return "(no reason given)"
	}
	return strings.Join(parts, " / ")
}

// summary lists the skips and returns how many are not allowed (counted
// only when strict).
func (rep *report) summary(w io.Writer, allowed map[string]string, strict bool) int {
	sort.Slice(rep.skips, func(i, j int) bool {
		a, b := rep.skips[i], rep.skips[j]
		return a.Package+" "+a.Test < b.Package+" "+b.Test
	})
	fmt.Fprintf(w, "%d Go tests skipped\n", len(rep.skips))
	bad := 0
	for _, s := range rep.skips {
		mark := "allowed"
		if _, ok := allowed[s.Package+" "+s.Test]; !ok {
			mark = "NOT ALLOWED"
			if !strict {
				mark = "not on the allow-list"
			} else {
				bad++
			}
		}
		fmt.Fprintf(w, "  SKIP %s %s [%s]: %s\n", s.Package, s.Test, mark, s.Reason)
	}
	if bad > 0 {
		fmt.Fprintf(w, "FAILED: %d skipped tests are not on the allow-list (scripts/test-skips.txt); under CI=true every test must run\n", bad)
	}
	return bad
}
