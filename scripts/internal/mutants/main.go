// Command mutants (run as scripts/mutants) checks that the tests catch realistic bugs. Each
// mutation in mutations.go replaces one exact piece of code with a
// plausible mistake; mutants applies them one at a time to a copy of the
// repository, runs the tests of the packages that should notice, and
// reports each as caught (a test failed) or survived (all passed). A
// mutation whose code is no longer there is reported as stale: update it
// along with the code.
//
//	scripts/mutants                 every mutation
//	scripts/mutants -run sqlite     those whose name contains "sqlite"
//	scripts/mutants -list           the names
//
// It exits non-zero when any mutation survived or is stale. It is slow (a
// test run per mutation), so scripts/test does not run it. Mutations of
// the PostgreSQL store need IDPOOL_TEST_POSTGRES, as its tests do.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Mutation is one hand-written bug.
type Mutation struct {
	Name     string   // what the bug is
	File     string   // the file it is in, from the repository root
	Old, New string   // Old must occur exactly once in File
	Packages []string // the packages whose tests must catch it
	Run      string   // a go test -run pattern, to keep slow packages short ("" runs all)
	Postgres bool     // the tests need IDPOOL_TEST_POSTGRES
}

func main() {
	only := flag.String("run", "", "only the mutations whose name contains this")
	list := flag.Bool("list", false, "list the mutations and exit")
	timeout := flag.Duration("timeout", 5*time.Minute, "go test -timeout for each mutation")
	flag.Parse()
	if *list {
		for _, m := range mutations {
			fmt.Printf("%-60s %s\n", m.Name, m.File)
		}
		return
	}
	root, err := repoRoot()
	if err != nil {
		fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The mutations are made to a copy, so the working tree is never
	// left mutated, whatever happens.
	work, err := os.MkdirTemp("", "idpool-mutants-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(work)
	if err := copyTree(root, work); err != nil {
		fail(err)
	}

	var caught, survived, stale, notRun int
	start := time.Now()
	for _, m := range mutations {
		if !strings.Contains(m.Name, *only) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		verdict, detail := check(ctx, work, m, *timeout)
		switch verdict {
		case "caught":
			caught++
		case "SURVIVED":
			survived++
		case "STALE":
			stale++
		default:
			notRun++
		}
		fmt.Printf("%-8s %-60s %s\n", verdict, m.Name, detail)
	}
	fmt.Printf("\n%d caught, %d survived, %d stale, %d not run, in %s\n", caught, survived, stale, notRun, time.Since(start).Round(time.Second))
	if survived+stale+notRun > 0 || ctx.Err() != nil {
		os.Exit(1)
	}
}

// check applies m to the copy, runs its tests and puts the file back.
func check(ctx context.Context, work string, m Mutation, timeout time.Duration) (verdict, detail string) {
	if m.Postgres && os.Getenv("IDPOOL_TEST_POSTGRES") == "" {
		return "NOT RUN", "needs IDPOOL_TEST_POSTGRES"
	}
	path := filepath.Join(work, m.File)
	orig, err := os.ReadFile(path)
	if err != nil {
		return "STALE", err.Error()
	}
	if n := bytes.Count(orig, []byte(m.Old)); n != 1 {
		return "STALE", fmt.Sprintf("the code to mutate occurs %d times in %s", n, m.File)
	}
	mutated := bytes.Replace(orig, []byte(m.Old), []byte(m.New), 1)
	if err := os.WriteFile(path, mutated, 0o644); err != nil {
		return "NOT RUN", err.Error()
	}
	defer os.WriteFile(path, orig, 0o644)

	args := []string{"test", "-count=1", "-timeout", timeout.String()}
	if m.Run != "" {
		args = append(args, "-run", m.Run)
	}
	args = append(args, m.Packages...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = work
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	err = cmd.Run()
	took := time.Since(t0).Round(100 * time.Millisecond)
	if err == nil {
		return "SURVIVED", fmt.Sprintf("(%s) every test of %s passed", took, strings.Join(m.Packages, " "))
	}
	if strings.Contains(out.String(), "[build failed]") || strings.Contains(out.String(), "[setup failed]") {
		return "STALE", "the mutated code does not compile:\n" + indent(out.String())
	}
	return "caught", fmt.Sprintf("(%s) by %s", took, firstFailure(out.String()))
}

// firstFailure names the first failing test in go test's output.
func firstFailure(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if t := strings.TrimSpace(l); strings.HasPrefix(t, "--- FAIL: ") {
			return strings.Fields(t)[2]
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "FAIL") || strings.HasPrefix(l, "panic:") {
			return strings.TrimSpace(l)
		}
	}
	return "a failing go test"
}

func indent(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 15 {
		lines = lines[:15]
	}
	return "    " + strings.Join(lines, "\n    ")
}

func repoRoot() (string, error) {
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", fmt.Errorf("not in a git checkout: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// copyTree copies the files git knows of (tracked, and new ones that are
// not ignored) from root to dst.
func copyTree(root, dst string) error {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return err
	}
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, name)
		info, err := os.Lstat(src)
		if err != nil || !info.Mode().IsRegular() {
			continue // deleted but not yet staged, or a link
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(name)), 0o755); err != nil {
			return err
		}
		if err := copyFile(src, filepath.Join(dst, name), info.Mode()); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode.Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "mutants:", err)
	os.Exit(2)
}
