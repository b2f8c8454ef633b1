package main

import (
	"runtime/debug"
	"testing"
)

func TestVersionLine(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i+1 < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	tests := []struct {
		name     string
		override string
		bi       *debug.BuildInfo
		want     string
	}{
		{name: "no build information", want: "idpool dev"},
		{name: "no build information, version set", override: "v1.2.3", want: "idpool v1.2.3"},
		{
			name: "module version only",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}},
			want: "idpool v1.4.0 go1.26.8",
		},
		{
			name: "devel build without VCS",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			want: "idpool dev go1.26.8",
		},
		{
			name: "clean checkout",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261204180000-1234abcd5678"},
				Settings: vcs("vcs", "git", "vcs.revision", "1234abcd5678ef901234abcd5678ef901234abcd", "vcs.time", "2026-12-04T18:00:00Z", "vcs.modified", "false")},
			want: "idpool v0.0.0-20261204180000-1234abcd5678 commit 1234abcd5678 built 2026-12-04T18:00:00Z go1.26.8",
		},
		{
			name: "dirty checkout, version set at build time",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261204180000-1234abcd5678+dirty"},
				Settings: vcs("vcs.revision", "1234abcd5678ef901234abcd5678ef901234abcd", "vcs.time", "2026-12-04T18:00:00Z", "vcs.modified", "true")},
			override: "v2.0.0-rc1",
			want:     "idpool v2.0.0-rc1 commit 1234abcd5678 (dirty) built 2026-12-04T18:00:00Z go1.26.8",
		},
		{
			name: "short revision",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Settings: vcs("vcs.revision", "abc")},
			want: "idpool dev commit abc go1.26.8",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionLine(tt.override, tt.bi); got != tt.want {
				t.Errorf("versionLine = %q, want %q", got, tt.want)
			}
		})
	}
}
