package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"debug/buildinfo"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// buildTimeout bounds scripts/image and the export: the binary's build
// takes about 90s on two cores with a cold cache (-trimpath and
// CGO_ENABLED=0 share no cache with go test's own builds), the image a
// few seconds. It is below scripts/test's 4m per test binary, so a hang
// is reported here, with the build's output.
const buildTimeout = 3*time.Minute + 30*time.Second

// imageTool is $IDPOOL_IMAGE_TOOL when set, else buildah when installed,
// else podman, as for scripts/image. Without either the test skips, except
// under CI=true, where it fails.
func imageTool(t *testing.T) string {
	t.Helper()
	tools := []string{"buildah", "podman"}
	if tool := os.Getenv("IDPOOL_IMAGE_TOOL"); tool != "" {
		tools = []string{tool}
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err == nil {
			return tool
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s: not installed; under CI=true the image must be built and checked (.ci/run installs buildah and podman)", strings.Join(tools, ", "))
	}
	t.Skipf("%s: not installed (apt-get install buildah podman)", strings.Join(tools, ", "))
	return ""
}

// imageFile is one entry of the image's file system.
type imageFile struct {
	hdr  *tar.Header
	data []byte // regular files only
}

// builtImage is an image read back from a docker-archive export.
type builtImage struct {
	arch, os string
	config   config
	labels   map[string]string
	files    map[string]imageFile // by path without a leading slash
}

// TestImage builds the image with scripts/image, exports it, and checks
// its configuration, its files and the binary it ships, which it runs here.
func TestImage(t *testing.T) {
	tool := imageTool(t)
	suffix := make([]byte, 6)
	rand.Read(suffix)
	tag := "localhost/idpool-imagetest:" + hex.EncodeToString(suffix)
	version := "imagetest-" + hex.EncodeToString(suffix)

	ctx, cancel := context.WithTimeout(t.Context(), buildTimeout)
	defer cancel()
	start := time.Now()
	build := exec.CommandContext(ctx, filepath.Join(root, "scripts", "image"), tag)
	build.Env = append(os.Environ(), "IDPOOL_IMAGE_TOOL="+tool, "IDPOOL_VERSION="+version)
	var buildLog bytes.Buffer
	build.Stdout, build.Stderr = &buildLog, &buildLog
	build.WaitDelay = 5 * time.Second // go build may outlive a killed script
	err := build.Run()
	// Removed even after a failed build, which may have tagged it.
	t.Cleanup(func() { removeImage(t, tool, tag) })
	if err != nil {
		t.Fatalf("scripts/image %s: %v\n%s", tag, err, buildLog.String())
	}
	t.Logf("scripts/image built %s with %s in %s", tag, tool, time.Since(start).Round(100*time.Millisecond))

	archive := filepath.Join(t.TempDir(), "image.tar")
	var save *exec.Cmd
	if tool == "buildah" {
		save = exec.CommandContext(ctx, "buildah", "push", "--quiet", tag, "docker-archive:"+archive)
	} else {
		save = exec.CommandContext(ctx, "podman", "save", "--quiet", "--format", "docker-archive", "-o", archive, tag)
	}
	if out, err := save.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", save, err, out)
	}
	img, err := readArchive(archive)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("config", func(t *testing.T) {
		checkConfig(t, "the built image", img.config)
		if img.os != "linux" || img.arch != runtime.GOARCH {
			t.Errorf("platform %s/%s, want linux/%s", img.os, img.arch, runtime.GOARCH)
		}
		for k, v := range map[string]string{"org.opencontainers.image.title": "idpool", "org.opencontainers.image.version": version} {
			if img.labels[k] != v {
				t.Errorf("label %s = %q, want %q", k, img.labels[k], v)
			}
		}
	})
	t.Run("files", func(t *testing.T) { checkFiles(t, img.files) })

	f, ok := img.files["idpool"]
	if !ok || f.hdr.Typeflag != tar.TypeReg {
		t.Fatal("the image has no /idpool to run")
	}
	bin := filepath.Join(t.TempDir(), "idpool-from-image")
	if err := os.WriteFile(bin, f.data, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Run("static binary", func(t *testing.T) { checkBinary(t, bin) })
	if runtime.GOOS != "linux" {
		t.Skip("the image's binary runs on linux only")
	}
	t.Run("version", func(t *testing.T) {
		out, err := exec.CommandContext(ctx, bin, "version").CombinedOutput()
		// "idpool <version>", perhaps followed by more (the Go version).
		if err != nil || !strings.HasPrefix(string(out), "idpool "+version) {
			t.Errorf("%s version: %v, output %q; want it to start with \"idpool %s\"", bin, err, out, version)
		}
	})
	t.Run("healthcheck", func(t *testing.T) { checkHealthcheck(ctx, t, bin, img.config) })
}

// removeImage removes the test's image; a failure is an error, so that no
// test leaves images behind unnoticed. (Building and exporting make no
// containers: the build's own are removed by the build.)
func removeImage(t *testing.T, tool, tag string) {
	out, err := exec.Command(tool, "rmi", tag).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "image not known") && !strings.Contains(string(out), "image not found") {
		t.Errorf("%s rmi %s: %v\n%s", tool, tag, err, out)
	}
}

// readArchive reads a docker-archive export: manifest.json names the
// image's configuration and layers; later layers override earlier ones.
func readArchive(name string) (*builtImage, error) {
	entries, err := tarEntries(name)
	if err != nil {
		return nil, err
	}
	var manifest []struct {
		Config string
		Layers []string
	}
	if err := json.Unmarshal(entries["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		return nil, fmt.Errorf("%s: manifest.json: want one image (%v)", name, err)
	}
	var raw struct {
		Architecture string `json:"architecture"`
		OS           string `json:"os"`
		Config       struct {
			User         string
			ExposedPorts map[string]struct{}
			Env          []string
			Entrypoint   []string
			Cmd          []string
			Volumes      map[string]struct{}
			Healthcheck  *struct {
				Test                           []string
				Interval, Timeout, StartPeriod time.Duration // nanoseconds
				Retries                        int
			}
			Labels map[string]string
		} `json:"config"`
	}
	if err := json.Unmarshal(entries[manifest[0].Config], &raw); err != nil {
		return nil, fmt.Errorf("%s: image configuration %s: %v", name, manifest[0].Config, err)
	}
	rc := raw.Config
	img := &builtImage{arch: raw.Architecture, os: raw.OS, labels: rc.Labels, files: map[string]imageFile{}}
	img.config = config{User: rc.User, Entrypoint: rc.Entrypoint, Cmd: rc.Cmd, Env: map[string]string{}}
	for p := range rc.ExposedPorts {
		img.config.ExposedPorts = append(img.config.ExposedPorts, p)
	}
	for v := range rc.Volumes {
		img.config.Volumes = append(img.config.Volumes, v)
	}
	slices.Sort(img.config.ExposedPorts)
	slices.Sort(img.config.Volumes)
	for _, kv := range rc.Env {
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "IDPOOL_") {
			img.config.Env[k] = v
		}
	}
	if h := rc.Healthcheck; h != nil {
		img.config.Healthcheck = health{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, Retries: h.Retries}
	}
	for _, layer := range manifest[0].Layers {
		data, ok := entries[layer]
		if !ok {
			return nil, fmt.Errorf("%s: layer %s is missing", name, layer)
		}
		if err := readLayer(data, img.files); err != nil {
			return nil, fmt.Errorf("%s: layer %s: %v", name, layer, err)
		}
	}
	return img, nil
}

// tarEntries reads every regular file of a tar archive into memory (an
// image of one static binary is small).
func tarEntries(name string) (map[string][]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return entries, nil
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if entries[path.Clean(h.Name)], err = io.ReadAll(tr); err != nil {
			return nil, err
		}
	}
}

// readLayer adds a layer's entries to files, gzip-compressed or not.
func readLayer(data []byte, files map[string]imageFile) error {
	var r io.Reader = bytes.NewReader(data)
	if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return err
		}
		r = zr
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		if name == "" {
			continue // the root itself
		}
		f := imageFile{hdr: h}
		if h.Typeflag == tar.TypeReg {
			if f.data, err = io.ReadAll(tr); err != nil {
				return err
			}
		}
		files[name] = f
	}
}

// checkFiles checks the image's whole file system: the binary, owned by
// root and not writable by the user it runs as; /data, the volume, and
// /tmp, for SQLite's temporary files, the user's own and writable by no
// one else; the CA certificates verify mode needs; their parent
// directories, and nothing else.
func checkFiles(t *testing.T, files map[string]imageFile) {
	type wantFile struct {
		typ      byte
		uid, gid int
		mode     fs.FileMode // exact for files; for directories, the owner's rwx and no write by others
	}
	wants := map[string]wantFile{
		"idpool":                            {tar.TypeReg, 0, 0, 0o755},
		"data":                              {tar.TypeDir, 65532, 65532, 0o700},
		"tmp":                               {tar.TypeDir, 65532, 65532, 0o700},
		"etc/ssl/certs/ca-certificates.crt": {tar.TypeReg, 0, 0, 0o644},
	}
	for name, w := range wants {
		f, ok := files[name]
		if !ok {
			t.Errorf("/%s is missing", name)
			continue
		}
		h := f.hdr
		mode := h.FileInfo().Mode().Perm()
		modeOK := mode == w.mode
		if w.typ == tar.TypeDir {
			modeOK = mode&0o700 == 0o700 && mode&0o022 == 0
		}
		if h.Typeflag != w.typ || !modeOK || h.Uid != w.uid || h.Gid != w.gid {
			t.Errorf("/%s: type %q mode %s owner %d:%d; want type %q mode %s owner %d:%d",
				name, h.Typeflag, mode, h.Uid, h.Gid, w.typ, w.mode, w.uid, w.gid)
		}
	}
	if ca := files["etc/ssl/certs/ca-certificates.crt"].data; !bytes.Contains(ca, []byte("-----BEGIN CERTIFICATE-----")) {
		t.Error("/etc/ssl/certs/ca-certificates.crt holds no certificate")
	}
	for name, f := range files {
		if _, ok := wants[name]; ok {
			continue
		}
		parent := false
		for w := range wants {
			parent = parent || strings.HasPrefix(w, name+"/")
		}
		if !parent || f.hdr.Typeflag != tar.TypeDir {
			t.Errorf("unexpected /%s in the image (type %q)", name, f.hdr.Typeflag)
		}
	}
}

// checkBinary checks that the shipped binary is static and was built as
// the Dockerfile builds it: no cgo, -trimpath, stripped (-s -w). (Go
// leaves -ldflags out of the build information under -trimpath; the
// version the binary reports shows its -X.)
func checkBinary(t *testing.T, bin string) {
	ef, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has an ELF interpreter: it is dynamically linked and cannot run in a scratch image")
		}
	}
	if libs, _ := ef.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v", libs)
	}
	if ef.Section(".symtab") != nil {
		t.Error("the binary has a symbol table: it was not linked with -s")
	}

	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	for k, v := range map[string]string{"CGO_ENABLED": "0", "-trimpath": "true", "GOOS": "linux"} {
		if settings[k] != v {
			t.Errorf("built with %s=%q, want %q (the Dockerfile's build stage)", k, settings[k], v)
		}
	}
	if bi.Path != "github.com/idpool/idpool/cmd/idpool" {
		t.Errorf("the binary is %s, want cmd/idpool", bi.Path)
	}
}

// checkHealthcheck runs the image's HEALTHCHECK command with the binary
// from the image and the image's environment, with only the port changed,
// against a stand-in for the server: the wildcard listen address must turn
// into a probe of 127.0.0.1, and the exit status must follow /ready.
func checkHealthcheck(ctx context.Context, t *testing.T, bin string, cfg config) {
	test := cfg.Healthcheck.Test
	if len(test) < 2 || test[0] != "CMD" || test[1] != "/idpool" {
		t.Fatalf("health check %q: want CMD /idpool ...", test)
	}
	for _, tt := range []struct {
		name   string
		status int
		code   int
	}{
		{"ready", http.StatusOK, 0},
		{"not ready", http.StatusServiceUnavailable, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/ready" {
					http.NotFound(w, r)
					return
				}
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()
			_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
			listenHost, _, err := net.SplitHostPort(cfg.Env["IDPOOL_LISTEN"])
			if err != nil {
				t.Fatalf("IDPOOL_LISTEN %q: %v", cfg.Env["IDPOOL_LISTEN"], err)
			}
			cmd := exec.CommandContext(ctx, bin, test[2:]...)
			cmd.Env = []string{"IDPOOL_LISTEN=" + net.JoinHostPort(listenHost, port), "IDPOOL_DATA_DIR=" + t.TempDir()}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err = cmd.Run()
			code := cmd.ProcessState.ExitCode()
			if strings.Contains(stderr.String(), `unknown command "healthcheck"`) {
				t.Fatal("the image's HEALTHCHECK cannot work: cmd/idpool's run() does not dispatch \"healthcheck\" (cmd/idpool/healthcheck.go)")
			}
			if code != tt.code {
				t.Fatalf("%s: exit %d (%v), want %d; stdout %q, stderr %q", strings.Join(test[1:], " "), code, err, tt.code, stdout.String(), stderr.String())
			}
			if tt.code != 0 {
				if strings.Count(stderr.String(), "\n") != 1 || !strings.Contains(stderr.String(), "503") {
					t.Errorf("stderr %q: want one line with the status", stderr.String())
				}
			}
		})
	}
}
