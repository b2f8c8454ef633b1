package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/store/sqlite"
	"github.com/idpool/idpool/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "idpool.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
