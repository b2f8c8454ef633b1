package image

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// loadYAML reads a YAML file as JSON-shaped data (through yaml.v3, then
// a JSON round trip, so that the test reads it with encoding/json's
// types).
func loadYAML(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s is not valid YAML: %v", name, err)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	doc = nil
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("%s: want a mapping at the top: %v", name, err)
	}
	return doc
}

// service is the part of a compose service the test reads.
type service struct {
	Image       string
	Build       any // a context path, or {context, dockerfile}
	Environment any // a mapping, or a list of KEY=VALUE
	DependsOn   any `json:"depends_on"`
	Healthcheck *struct{ Test any }
	Volumes     []string
}

// env is the service's environment as written, variables not substituted.
func (s service) env() map[string]string {
	env := map[string]string{}
	switch e := s.Environment.(type) {
	case map[string]any:
		for k, v := range e {
			s, _ := v.(string)
			env[k] = s
		}
	case []any:
		for _, kv := range e {
			s, _ := kv.(string)
			k, v, _ := strings.Cut(s, "=")
			env[k] = v
		}
	}
	return env
}

var variableRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}`)

// interpolate substitutes ${VAR}, ${VAR:-default} and ${VAR:?message}
// (and their forms without the colon) as compose does, from vars; a
// required variable missing from vars is an error.
func interpolate(t *testing.T, s string, vars map[string]string) string {
	t.Helper()
	return variableRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := variableRE.FindStringSubmatch(m)
		v, set := vars[sub[1]]
		empty := !set || (strings.HasPrefix(sub[2], ":") && v == "")
		switch strings.TrimPrefix(sub[2], ":") {
		case "-":
			if empty {
				return sub[3]
			}
		case "?":
			if empty {
				t.Errorf("%s: required variable %s is not set", s, sub[1])
			}
		}
		return v
	})
}

// TestCompose checks examples/compose.yaml: two idpool replicas of the
// image this repository builds, sharing one server secret, one issuer and
// the PostgreSQL service, started once it is healthy, each probed by the
// image's health check; PostgreSQL 16 with a health check and its data on
// a named volume.
func TestCompose(t *testing.T) {
	name := filepath.Join(root, "examples", "compose.yaml")
	doc := loadYAML(t, name)
	raw, err := json.Marshal(doc["services"])
	if err != nil {
		t.Fatal(err)
	}
	var services map[string]service
	if err := json.Unmarshal(raw, &services); err != nil {
		t.Fatalf("services: %v", err)
	}
	volumes, _ := doc["volumes"].(map[string]any)

	var replicas []string
	for n, s := range services {
		if s.Image == "idpool:dev" || s.Build != nil {
			replicas = append(replicas, n)
		}
	}
	slices.Sort(replicas)
	if len(replicas) != 2 {
		t.Fatalf("idpool services %v, want two replicas", replicas)
	}
	pg, ok := services["postgres"]
	if !ok {
		t.Fatal("no postgres service")
	}

	// What the comment at the top of the file asks to export.
	vars := map[string]string{"IDPOOL_SECRET": "c2VjcmV0LWZvci10aGUtdGVzdA==", "POSTGRES_PASSWORD": "pw"}
	first := services[replicas[0]].env()
	for _, n := range replicas {
		s := services[n]
		env := s.env()
		// A placeholder that compose refuses to start without, never a
		// secret in the file.
		if secret := env["IDPOOL_SECRET"]; !strings.HasPrefix(secret, "${IDPOOL_SECRET:?") {
			t.Errorf("%s: IDPOOL_SECRET %q, want ${IDPOOL_SECRET:?...}", n, secret)
		}
		if s.Image != "idpool:dev" {
			t.Errorf("%s: image %q, want idpool:dev (what scripts/image tags)", n, s.Image)
		}
		if b, ok := s.Build.(map[string]any); ok {
			ctx, _ := b["context"].(string)
			file, _ := b["dockerfile"].(string)
			if file == "" {
				file = "Dockerfile"
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(name), ctx, file)); err != nil {
				t.Errorf("%s: build %v: %v", n, b, err)
			}
		}
		for _, k := range []string{"IDPOOL_SECRET", "IDPOOL_ISSUER", "IDPOOL_STORE"} {
			if env[k] == "" {
				t.Errorf("%s: %s is not set", n, k)
			} else if env[k] != first[k] {
				t.Errorf("%s: %s = %q, want the same as %s's %q: replicas must share it", n, k, env[k], replicas[0], first[k])
			}
		}
		if u, err := url.Parse(interpolate(t, env["IDPOOL_STORE"], vars)); err != nil || u.Scheme != "postgres" || u.Hostname() != "postgres" {
			t.Errorf("%s: IDPOOL_STORE %q, want a postgres:// URL of the postgres service (%v)", n, env["IDPOOL_STORE"], err)
		}
		if issuer, err := url.Parse(interpolate(t, env["IDPOOL_ISSUER"], vars)); err != nil || (issuer.Scheme != "http" && issuer.Scheme != "https") {
			t.Errorf("%s: IDPOOL_ISSUER %q, want an http(s) URL (%v)", n, env["IDPOOL_ISSUER"], err)
		}
		if deps, _ := s.DependsOn.(map[string]any); deps == nil || deps["postgres"] == nil {
			t.Errorf("%s: depends_on %v, want postgres (condition: service_healthy)", n, s.DependsOn)
		} else if cond, _ := deps["postgres"].(map[string]any); cond["condition"] != "service_healthy" {
			t.Errorf("%s: depends on postgres with %v, want condition: service_healthy", n, deps["postgres"])
		}
		if s.Healthcheck == nil || !slices.Equal(words(s.Healthcheck.Test), []string{"CMD", "/idpool", "healthcheck"}) {
			t.Errorf("%s: healthcheck %+v, want test: [CMD, /idpool, healthcheck]", n, s.Healthcheck)
		}
	}

	if pg.Image != "postgres:16" {
		t.Errorf("postgres: image %q, want postgres:16", pg.Image)
	}
	if pg.Healthcheck == nil || len(words(pg.Healthcheck.Test)) == 0 {
		t.Error("postgres: no healthcheck, so the replicas cannot wait for it")
	}
	mounted := false
	for _, v := range pg.Volumes {
		src, dst, _ := strings.Cut(v, ":")
		dst, _, _ = strings.Cut(dst, ":")
		if _, declared := volumes[src]; declared && dst == "/var/lib/postgresql/data" {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("postgres: volumes %v, want a named volume (declared under volumes:) on /var/lib/postgresql/data", pg.Volumes)
	}
	// The replicas log in as the user the postgres service creates.
	pgEnv := pg.env()
	store, err := url.Parse(interpolate(t, first["IDPOOL_STORE"], vars))
	if err != nil {
		t.Fatal(err)
	}
	password, _ := store.User.Password()
	wantUser, wantPassword, wantDB := interpolate(t, pgEnv["POSTGRES_USER"], vars), interpolate(t, pgEnv["POSTGRES_PASSWORD"], vars), interpolate(t, pgEnv["POSTGRES_DB"], vars)
	if wantUser == "" {
		wantUser = "postgres"
	}
	if wantDB == "" {
		wantDB = wantUser
	}
	if store.User.Username() != wantUser || password != wantPassword || store.Path != "/"+wantDB {
		t.Errorf("IDPOOL_STORE %q: user %q, password %q, database %q; want postgres' %q, %q, %q",
			first["IDPOOL_STORE"], store.User.Username(), password, store.Path, wantUser, wantPassword, wantDB)
	}
}

// words is a compose command: a list, or a string (shell form).
func words(v any) []string {
	switch c := v.(type) {
	case string:
		return []string{c}
	case []any:
		var w []string
		for _, x := range c {
			s, _ := x.(string)
			w = append(w, s)
		}
		return w
	}
	return nil
}
