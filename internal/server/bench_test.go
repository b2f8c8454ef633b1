package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/idpool/idpool/internal/server"
	"github.com/idpool/idpool/internal/store/sqlite"
)

// benchServer is a server over a fresh SQLite store, with one pool that
// admits guests.
func benchServer(b *testing.B) (http.Handler, string) {
	b.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	srv, err := server.New(server.Options{Store: st, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	rec := call(h, "CreateIdentityPool", `{"IdentityPoolName":"bench","AllowUnauthenticatedIdentities":true,"DeveloperProviderName":"login.bench"}`)
	var out struct{ IdentityPoolId string }
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 200 {
		b.Fatalf("create pool: %d %s", rec.Code, rec.Body)
	}
	return h, out.IdentityPoolId
}

func call(h http.Handler, op, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityService."+op)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// BenchmarkGetIdGuest is the whole pipeline of a durable write, without the
// network: decode, checks, a new identity group-committed to disk, encode.
func BenchmarkGetIdGuest(b *testing.B) {
	h, pool := benchServer(b)
	body := `{"IdentityPoolId":"` + pool + `"}`
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if rec := call(h, "GetId", body); rec.Code != 200 {
				b.Errorf("GetId: %d %s", rec.Code, rec.Body)
				return
			}
		}
	})
}

// BenchmarkDescribeIdentityPool is the pipeline of a read.
func BenchmarkDescribeIdentityPool(b *testing.B) {
	h, pool := benchServer(b)
	body := `{"IdentityPoolId":"` + pool + `"}`
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if rec := call(h, "DescribeIdentityPool", body); rec.Code != 200 {
				b.Errorf("DescribeIdentityPool: %d %s", rec.Code, rec.Body)
				return
			}
		}
	})
}
