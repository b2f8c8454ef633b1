package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process is a server the bench started and will stop.
type Process struct {
	Name    string
	URL     string
	PID     int
	DataDir string // idpool's temporary data directory; see RemoveData

	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
	stderr  *tailBuffer
}

// RemoveData removes the temporary data directory the bench made for the
// process.
func (p *Process) RemoveData() error {
	if p.DataDir == "" {
		return nil
	}
	return os.RemoveAll(p.DataDir)
}

// Stop asks the process to end (SIGTERM) and kills it after a grace
// period.
func (p *Process) Stop() error {
	if p.cmd.Process != nil {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	}
	var ee *exec.ExitError
	if errors.As(p.waitErr, &ee) && ee.ProcessState.Sys().(syscall.WaitStatus).Signaled() {
		return nil // ended by our signal
	}
	return p.waitErr
}

// Stderr is the tail of what the process wrote to its standard error.
func (p *Process) Stderr() string {
	if p.stderr == nil {
		return ""
	}
	return p.stderr.String()
}

// tailBuffer keeps the last few kilobytes written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 8<<10 {
		t.b = append(t.b[:0], t.b[len(t.b)-4<<10:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

// orphanGuard makes the kernel stop a child when the bench dies without
// stopping it (killed, crashed), so that no server outlives a run.
func orphanGuard(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}

// ServerCPUs, when not empty, is a CPU list in taskset's form ("0-7",
// "0,2,4") that every server the bench starts (idpool under -spawn, the
// ceiling server, moto) is confined to, so that on a larger machine the
// servers and the generator (confined by whoever starts it) run on
// separate cores. It is set once, before anything starts.
var ServerCPUs string

// command is exec.Command, run under `taskset -c ServerCPUs` when that
// is set: taskset sets the CPUs and then executes the program in its
// place, so that every thread the server starts stays on them.
func command(name string, args ...string) *exec.Cmd {
	if ServerCPUs == "" {
		return exec.Command(name, args...)
	}
	return exec.Command("taskset", append([]string{"-c", ServerCPUs, name}, args...)...)
}

// FreePort returns a loopback port nothing listens on (at the moment).
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// start runs cmd and waits until ready answers true, the process dies or
// the timeout passes.
func start(ctx context.Context, name string, cmd *exec.Cmd, url string, timeout time.Duration, ready func(*http.Response) bool) (*Process, error) {
	tail := &tailBuffer{}
	cmd.Stdout = nil
	cmd.Stderr = tail
	orphanGuard(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Process{Name: name, URL: url, PID: cmd.Process.Pid, cmd: cmd, done: make(chan struct{}), stderr: tail}
	go func() { p.waitErr = cmd.Wait(); close(p.done) }()
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited before it was ready: %v\n%s", name, p.waitErr, tail.String())
		case <-ctx.Done():
			p.Stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if resp, err := hc.Get(url); err == nil {
			ok := ready(resp)
			resp.Body.Close()
			if ok {
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("%s was not ready within %s\n%s", name, timeout, tail.String())
		}
	}
}

// IdpoolOptions says how to start idpool.
type IdpoolOptions struct {
	Binary string
	// DataDir is the data directory to use; "" makes a temporary one that
	// Stop removes.
	DataDir string
	// Args are extra flags of `idpool serve`.
	Args []string
}

// StartIdpool starts `idpool serve` on a free loopback port with
// --log-level warn and waits for GET /health.
func StartIdpool(ctx context.Context, o IdpoolOptions) (*Process, error) {
	dir, temp := o.DataDir, false
	if dir == "" {
		d, err := os.MkdirTemp("", "idpool-bench-")
		if err != nil {
			return nil, err
		}
		dir, temp = d, true
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := append([]string{"serve", "--listen", addr, "--data-dir", dir, "--log-level", "warn"}, o.Args...)
	cmd := command(o.Binary, args...)
	p, err := start(ctx, "idpool", cmd, "http://"+addr+"/health", 30*time.Second, func(r *http.Response) bool { return r.StatusCode == http.StatusOK })
	if err != nil {
		if temp {
			os.RemoveAll(dir)
		}
		return nil, err
	}
	p.URL = "http://" + addr + "/"
	if temp {
		p.DataDir = dir
	}
	return p, nil
}

// StartMoto starts `python -m moto.server` on a free loopback port and
// waits until it answers.
func StartMoto(ctx context.Context, python string) (*Process, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := command(python, "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	p, err := start(ctx, "moto", cmd, "http://"+addr+"/moto-api/", 60*time.Second, func(r *http.Response) bool { return r.StatusCode == http.StatusOK })
	if err != nil {
		return nil, err
	}
	p.URL = "http://" + addr + "/"
	return p, nil
}

// Memory is a process's resident set size, in bytes.
type Memory struct {
	HWM int64 `json:"vm_hwm_bytes"` // peak
	RSS int64 `json:"vm_rss_bytes"` // now
}

// ReadMemory reads VmHWM and VmRSS from /proc/<pid>/status.
func ReadMemory(pid int) (Memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	var m Memory
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch name {
		case "VmHWM":
			dst = &m.HWM
		case "VmRSS":
			dst = &m.RSS
		default:
			continue
		}
		f := strings.Fields(rest) // "12345 kB"
		if len(f) == 2 && f[1] == "kB" {
			if v, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				*dst = v << 10
			}
		}
	}
	return m, nil
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every
// Linux this runs on (it is fixed in the kernel ABI, whatever HZ is).
const clockTicks = 100

// ReadCPU returns the user plus system CPU time a process has used, from
// /proc/<pid>/stat.
func ReadCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after its closing parenthesis. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc stat format")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(u+s) * time.Second / clockTicks, nil
}

// SelfCPU returns the CPU time this process has used.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// DirSize is the total size of the regular files under dir.
func DirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	return total, err
}

// MachineCPU returns the CPU time all processes of the machine have used
// (every state but idle and iowait), from /proc/stat.
func MachineCPU() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, errors.New("unexpected /proc/stat format")
	}
	var busy int64
	for i, v := range f[1:9] { // user nice system idle iowait irq softirq steal
		if i == 3 || i == 4 {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, err
		}
		busy += n
	}
	return time.Duration(busy) * time.Second / clockTicks, nil
}

// LoadAverage returns the one-minute load average, from /proc/loadavg.
func LoadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
