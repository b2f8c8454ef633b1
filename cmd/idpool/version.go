package main

import (
	"runtime/debug"
	"strings"
)

// readBuildInfo is the binary's build information, nil when it has none.
func readBuildInfo() *debug.BuildInfo {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	return bi
}

// buildVersion is the version of the binary: override (main.version, set
// with -ldflags "-X main.version=...") when set, else the module version
// the go command stamped, else "dev".
func buildVersion(override string, bi *debug.BuildInfo) string {
	if override != "" {
		return override
	}
	if bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// versionLine is what `idpool version` prints: the version, then what the
// go command recorded of the checkout it built from and of itself, each
// part left out when unknown:
//
//	idpool v1.2.3 commit 1234abcd5678 (dirty) built 2026-12-04T18:00:00Z go1.26.8
func versionLine(override string, bi *debug.BuildInfo) string {
	parts := []string{"idpool", buildVersion(override, bi)}
	if bi == nil {
		return strings.Join(parts, " ")
	}
	var revision, when string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if revision != "" {
		// Twelve hex digits, as Go's pseudo-versions show a commit.
		parts = append(parts, "commit", revision[:min(len(revision), 12)])
		if dirty {
			parts = append(parts, "(dirty)")
		}
	}
	if when != "" {
		// vcs.time is the commit's time: the go command records no
		// clock of its own, so that builds stay reproducible.
		parts = append(parts, "built", when)
	}
	if bi.GoVersion != "" {
		parts = append(parts, bi.GoVersion)
	}
	return strings.Join(parts, " ")
}
