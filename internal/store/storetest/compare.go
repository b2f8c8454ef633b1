package storetest

import (
	"reflect"
	"testing"

	"github.com/idpool/idpool/internal/store"
)

// assertPoolEqual compares every field of two pools; times are compared as
// instants, since backends may return another location.
func assertPoolEqual(t *testing.T, got, want *store.Pool) {
	t.Helper()
	g, w := *got, *want
	if !g.CreatedAt.Equal(w.CreatedAt) || !g.UpdatedAt.Equal(w.UpdatedAt) {
		t.Errorf("times = %v/%v, want %v/%v", g.CreatedAt, g.UpdatedAt, w.CreatedAt, w.UpdatedAt)
	}
	g.CreatedAt, g.UpdatedAt = w.CreatedAt, w.UpdatedAt
	if !reflect.DeepEqual(g, w) {
		t.Errorf("pool round trip:\n got %+v\nwant %+v", g, w)
	}
}
