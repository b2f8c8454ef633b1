package image

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// root is the repository's root, seen from this package's directory.
const root = "../.."

// config is what an image declares, in the terms the Dockerfile uses; the
// Dockerfile's final stage and a built image are both read into one.
type config struct {
	User         string
	ExposedPorts []string          // sorted, "4591/tcp"
	Volumes      []string          // sorted
	Env          map[string]string // the IDPOOL_* variables only
	Entrypoint   []string
	Cmd          []string
	Healthcheck  health
}

type health struct {
	Test                           []string
	Interval, Timeout, StartPeriod time.Duration
	Retries                        int
}

// want is the image both ways of building it must make: numeric non-root
// user, the API port, state in /data, configured for a container, the
// binary as entrypoint serving by default, probed by idpool healthcheck.
var want = config{
	User:         "65532:65532",
	ExposedPorts: []string{"4591/tcp"},
	Volumes:      []string{"/data"},
	Env:          map[string]string{"IDPOOL_LISTEN": "0.0.0.0:4591", "IDPOOL_DATA_DIR": "/data"},
	Entrypoint:   []string{"/idpool"},
	Cmd:          []string{"serve"},
	Healthcheck: health{
		Test:     []string{"CMD", "/idpool", "healthcheck"},
		Interval: 10 * time.Second, Timeout: 5 * time.Second, StartPeriod: 10 * time.Second, Retries: 3,
	},
}

// checkConfig compares got with want and checks what must hold whatever
// the exact values: a user that is not root, by number; a health check
// that outlasts the probe's own 3s bound, so the probe can say why it failed.
func checkConfig(t *testing.T, what string, got config) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s declares\n  %+v\nwant\n  %+v", what, got, want)
	}
	uid, gid, ok := strings.Cut(got.User, ":")
	u, uerr := strconv.Atoi(uid)
	g, gerr := strconv.Atoi(gid)
	if !ok || uerr != nil || gerr != nil || u == 0 || g == 0 {
		t.Errorf("%s: user %q, want a numeric non-root UID:GID", what, got.User)
	}
	if got.Healthcheck.Timeout <= 3*time.Second {
		t.Errorf("%s: health check timeout %s, want more than the probe's own 3s", what, got.Healthcheck.Timeout)
	}
}

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int    // where it starts
	cmd  string // upper case: FROM, RUN, COPY, ...
	args string
}

// stage is one FROM and the instructions after it.
type stage struct {
	from         string
	instructions []instruction
}

// parseDockerfile splits a Dockerfile into its stages (the instructions
// before the first FROM, ARGs only, are dropped).
func parseDockerfile(path string) ([]stage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var (
		stages  []stage
		pending strings.Builder
		start   int
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue // comments may sit inside continued instructions too
		}
		if pending.Len() == 0 {
			start = n
		} else {
			pending.WriteByte(' ')
		}
		if body, ok := strings.CutSuffix(line, `\`); ok {
			pending.WriteString(strings.TrimSpace(body))
			continue
		}
		pending.WriteString(line)
		cmd, args, _ := strings.Cut(pending.String(), " ")
		pending.Reset()
		in := instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			stages = append(stages, stage{from: in.args})
			continue
		}
		if len(stages) > 0 {
			stages[len(stages)-1].instructions = append(stages[len(stages)-1].instructions, in)
		}
	}
	if pending.Len() > 0 {
		return nil, fmt.Errorf("%s: the last instruction ends in a continuation", path)
	}
	return stages, sc.Err()
}

// execForm reads an instruction's JSON-array (exec) form. An image with no
// shell cannot run the shell form, so it is an error.
func execForm(in instruction) ([]string, error) {
	var words []string
	if err := json.Unmarshal([]byte(in.args), &words); err != nil {
		return nil, fmt.Errorf("line %d: %s %s: want the exec form [\"...\"]: a scratch image has no shell", in.line, in.cmd, in.args)
	}
	return words, nil
}

// declared is what a stage's instructions declare.
func declared(st stage) (config, error) {
	c := config{Env: map[string]string{}}
	for _, in := range st.instructions {
		var err error
		switch in.cmd {
		case "USER":
			c.User = in.args
		case "EXPOSE":
			for _, p := range strings.Fields(in.args) {
				if !strings.Contains(p, "/") {
					p += "/tcp"
				}
				c.ExposedPorts = append(c.ExposedPorts, p)
			}
		case "VOLUME":
			if strings.HasPrefix(in.args, "[") {
				var v []string
				if err = json.Unmarshal([]byte(in.args), &v); err == nil {
					c.Volumes = append(c.Volumes, v...)
				}
			} else {
				c.Volumes = append(c.Volumes, strings.Fields(in.args)...)
			}
		case "ENV":
			for _, kv := range strings.Fields(in.args) {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return c, fmt.Errorf("line %d: ENV %s: want KEY=VALUE pairs", in.line, in.args)
				}
				if strings.HasPrefix(k, "IDPOOL_") {
					c.Env[k] = strings.Trim(v, `"`)
				}
			}
		case "ENTRYPOINT":
			c.Entrypoint, err = execForm(in)
		case "CMD":
			c.Cmd, err = execForm(in)
		case "HEALTHCHECK":
			c.Healthcheck, err = parseHealthcheck(in)
		}
		if err != nil {
			return c, err
		}
	}
	slices.Sort(c.ExposedPorts)
	slices.Sort(c.Volumes)
	return c, nil
}

// parseHealthcheck reads HEALTHCHECK [--option=value ...] CMD [...].
func parseHealthcheck(in instruction) (health, error) {
	var h health
	rest := in.args
	for strings.HasPrefix(rest, "--") {
		var opt string
		opt, rest, _ = strings.Cut(rest, " ")
		rest = strings.TrimSpace(rest)
		name, value, _ := strings.Cut(strings.TrimPrefix(opt, "--"), "=")
		var err error
		switch name {
		case "interval":
			h.Interval, err = time.ParseDuration(value)
		case "timeout":
			h.Timeout, err = time.ParseDuration(value)
		case "start-period":
			h.StartPeriod, err = time.ParseDuration(value)
		case "retries":
			h.Retries, err = strconv.Atoi(value)
		default:
			err = fmt.Errorf("unknown option")
		}
		if err != nil {
			return h, fmt.Errorf("line %d: HEALTHCHECK %s: %v", in.line, opt, err)
		}
	}
	cmd, args, _ := strings.Cut(rest, " ")
	if cmd != "CMD" {
		return h, fmt.Errorf("line %d: HEALTHCHECK %s: want CMD [...]", in.line, in.args)
	}
	words, err := execForm(instruction{line: in.line, cmd: "HEALTHCHECK CMD", args: strings.TrimSpace(args)})
	if err != nil {
		return h, err
	}
	h.Test = append([]string{"CMD"}, words...)
	return h, nil
}

// goBuild is the go build command of the Dockerfile's build stage.
type goBuild struct {
	run     string // the whole RUN
	ldflags string // -ldflags' value, ${VERSION} unexpanded
}

var ldflagsRE = regexp.MustCompile(`-ldflags "([^"]*)"`)

func findGoBuild(stages []stage) (goBuild, bool) {
	for _, st := range stages[:len(stages)-1] {
		for _, in := range st.instructions {
			if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
				b := goBuild{run: in.args}
				if m := ldflagsRE.FindStringSubmatch(in.args); m != nil {
					b.ldflags = m[1]
				}
				return b, true
			}
		}
	}
	return goBuild{}, false
}

// TestDockerfile reads the Dockerfile, which needs no tool: a build stage
// that makes a static binary without the builder's paths, and a final
// stage FROM scratch that declares exactly the wanted image and copies
// only from the build stage's /out, which scripts/image relies on.
func TestDockerfile(t *testing.T) {
	stages, err := parseDockerfile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if len(stages) < 2 {
		t.Fatalf("%d stage(s), want a build stage and a final one", len(stages))
	}
	final := stages[len(stages)-1]
	if final.from != "scratch" {
		t.Errorf("final stage FROM %s, want FROM scratch", final.from)
	}
	got, err := declared(final)
	if err != nil {
		t.Fatal(err)
	}
	checkConfig(t, "the Dockerfile", got)

	b, ok := findGoBuild(stages)
	if !ok {
		t.Fatal("no RUN ... go build in the build stage")
	}
	for _, w := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/idpool"} {
		if !strings.Contains(b.run, w) {
			t.Errorf("the build stage's go build lacks %s: %s", w, b.run)
		}
	}
	if !strings.Contains(b.ldflags, "-X main.version=${VERSION}") {
		t.Errorf("-ldflags %q: want -X main.version=${VERSION}", b.ldflags)
	}

	// scripts/image builds the binary on the host: with the same flags.
	script, err := os.ReadFile(filepath.Join(root, "scripts", "image"))
	if err != nil {
		t.Fatal(err)
	}
	var hostBuild string
	for _, line := range strings.Split(string(script), "\n") {
		if strings.Contains(line, "go build") && !strings.HasPrefix(strings.TrimSpace(line), "#") {
			hostBuild = line
		}
	}
	for _, w := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/idpool", `-ldflags "` + strings.ReplaceAll(b.ldflags, "${VERSION}", "$version") + `"`} {
		if !strings.Contains(hostBuild, w) {
			t.Errorf("scripts/image's go build lacks %s, which the Dockerfile's has: %q", w, hostBuild)
		}
	}

	copied := 0
	for _, in := range final.instructions {
		switch in.cmd {
		case "COPY":
			copied++
			if !strings.HasPrefix(in.args, "--from=build ") || !strings.Contains(in.args, " /out/") {
				t.Errorf("line %d: COPY %s: the final stage must copy only from the build stage's /out (scripts/image provides nothing else)", in.line, in.args)
			}
		case "ADD", "RUN":
			t.Errorf("line %d: %s in the final stage: a scratch image has no shell, and scripts/image provides only /out", in.line, in.cmd)
		}
	}
	if copied == 0 {
		t.Error("the final stage copies nothing")
	}
}
