package dump_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idpool/idpool/internal/dump"
	"github.com/idpool/idpool/internal/seal"
	"github.com/idpool/idpool/internal/store"
	"github.com/idpool/idpool/internal/tokens"
)

// ring loads the token signer's key ring over s, making a first key if s
// has none.
func ring(t *testing.T, s store.Store, secrets [][]byte) *tokens.KeyRing {
	t.Helper()
	r, err := tokens.NewKeyRing(tokens.KeyRingOptions{Store: s, Secrets: secrets, Clock: func() time.Time { return base }, KIDPrefix: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

func keys(t *testing.T, s store.Store) []*store.SigningKey {
	t.Helper()
	k, err := s.ListSigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestImportKeys: the stream's keys end up in the target, where the token
// signer opens them with the target's secret and publishes the same JWKS
// as the source's.
func TestImportKeys(t *testing.T) {
	source := openSQLite(t)
	seed(t, source, 2, 1)
	stream, _ := export(t, source)
	wantJWKS := ring(t, source, secretA).JWKS()

	t.Run("a new server's first key is replaced", func(t *testing.T) {
		target := openSQLite(t)
		ring(t, target, secretA) // what a server started on it does first
		own := keys(t, target)
		res, err := importString(t, target, stream, dump.Options{Secrets: secretA})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.ReplacedKeys, []string{own[0].ID}) || res.Imported.Keys != 2 {
			t.Errorf("result %+v, want the target's key %s replaced by 2 keys", res, own[0].ID)
		}
		if got := keys(t, target); !reflect.DeepEqual(got, keys(t, source)) {
			t.Errorf("target keys %+v, want the source's", got)
		}
		if got := ring(t, target, secretA).JWKS(); !bytes.Equal(got, wantJWKS) {
			t.Errorf("the target publishes\n%s\nthe source\n%s", got, wantJWKS)
		}
	})

	t.Run("another secret is refused before anything is written", func(t *testing.T) {
		target := openSQLite(t)
		ring(t, target, secretB)
		own := keys(t, target)
		_, err := importString(t, target, stream, dump.Options{Secrets: secretB})
		if !errors.Is(err, dump.ErrKeySecret) || !strings.Contains(err.Error(), "key us-east-11") {
			t.Fatalf("error %v, want ErrKeySecret naming key us-east-11", err)
		}
		if got := keys(t, target); !reflect.DeepEqual(got, own) {
			t.Errorf("target keys changed to %+v", got)
		}
		if got, _ := export(t, target); strings.Count(got, "\n") != 3 {
			t.Errorf("the target was written to:\n%s", got)
		}
	})

	t.Run("re-sealed with the old secret", func(t *testing.T) {
		target := openSQLite(t)
		if _, err := importString(t, target, stream, dump.Options{Secrets: secretB, OldSecrets: secretA}); err != nil {
			t.Fatal(err)
		}
		got, src := keys(t, target), keys(t, source)
		for i := range got {
			if bytes.Equal(got[i].Sealed, src[i].Sealed) || got[i].ID != src[i].ID || !got[i].CreatedAt.Equal(src[i].CreatedAt) {
				t.Errorf("key %s not re-sealed as it was: %+v", src[i].ID, got[i])
			}
		}
		if got := ring(t, target, secretB).JWKS(); !bytes.Equal(got, wantJWKS) {
			t.Errorf("the target publishes\n%s\nthe source\n%s", got, wantJWKS)
		}
		if _, err := dump.PrepareKeys(got, secretA, nil, nil); !errors.Is(err, dump.ErrKeySecret) {
			t.Errorf("re-sealed keys still open with the old secret: %v", err)
		}
	})

	t.Run("keys already sealed with the target's secret stay as they are under --reseal", func(t *testing.T) {
		got, err := dump.PrepareKeys(keys(t, source), secretA, secretB, nil)
		if err != nil || !reflect.DeepEqual(got, keys(t, source)) {
			t.Errorf("PrepareKeys = %+v, %v", got, err)
		}
	})

	t.Run("a stream without keys leaves the target's", func(t *testing.T) {
		empty := openSQLite(t)
		noKeys, _ := export(t, empty)
		target := openSQLite(t)
		ring(t, target, secretA)
		own := keys(t, target)
		res, err := importString(t, target, noKeys, dump.Options{Secrets: secretA})
		if err != nil || res.ReplacedKeys != nil {
			t.Fatalf("import: %+v, %v", res, err)
		}
		if got := keys(t, target); !reflect.DeepEqual(got, own) {
			t.Errorf("target keys changed to %+v", got)
		}
	})

	t.Run("a key the signer cannot use", func(t *testing.T) {
		ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(ec)
		if err != nil {
			t.Fatal(err)
		}
		box, err := seal.New(secretA, "signing-keys", nil)
		if err != nil {
			t.Fatal(err)
		}
		sealed, err := box.Seal(der, []byte("ec1"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = dump.PrepareKeys([]*store.SigningKey{{ID: "ec1", Sealed: sealed, CreatedAt: base}}, secretA, nil, nil)
		if err == nil || !strings.Contains(err.Error(), "signing key ec1: not an RSA key") {
			t.Errorf("error %v", err)
		}
	})
}

// TestImportNotEmpty: without a merge, a store holding a pool is refused before
// anything is written.
func TestImportNotEmpty(t *testing.T) {
	source := openSQLite(t)
	seed(t, source, 2, 3)
	stream, _ := export(t, source)
	target := openSQLite(t)
	p := fullPool(50, "333333333333", "us-west-2")
	if err := target.Update(context.Background(), func(tx store.Tx) error { return tx.InsertPool(context.Background(), p) }); err != nil {
		t.Fatal(err)
	}
	before, _ := export(t, target)
	res, err := importString(t, target, stream, dump.Options{Secrets: secretA})
	if !errors.Is(err, dump.ErrNotEmpty) || !strings.Contains(err.Error(), p.ID) {
		t.Errorf("error %v, want ErrNotEmpty naming %s", err, p.ID)
	}
	if !reflect.DeepEqual(res, dump.Result{}) {
		t.Errorf("result %+v", res)
	}
	if after, _ := export(t, target); after != before {
		t.Errorf("the target changed:\n%s", after)
	}
}

// TestImportMerge: an import cut half-way reports what it committed, and the
// complete stream merged afterwards finishes it; merging refuses records
// that differ from the target's.
func TestImportMerge(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			source := b.open(t)
			want := seed(t, source, 4, 1234)
			stream, total := export(t, source)
			lines := strings.SplitAfter(stream, "\n")

			target := b.open(t)
			cut := strings.Join(lines[:700], "")
			res, err := importString(t, target, cut, dump.Options{BatchSize: 100, Secrets: secretA})
			var le *dump.LineError
			if !errors.As(err, &le) || le.Line != 701 || !strings.Contains(err.Error(), "cut short") {
				t.Fatalf("cut import: %v", err)
			}
			// Lines 1-3 are the header and keys, then 600 full batches of 100 records: lines 4-603.
			if res.Line != 603 || res.Imported.Keys != 2 || res.Imported.Pools+res.Imported.Identities != 600 {
				t.Errorf("cut import result %+v, want 2 keys and 600 records, to line 603", res)
			}
			if _, err := importString(t, target, stream, dump.Options{Secrets: secretA}); !errors.Is(err, dump.ErrNotEmpty) {
				t.Errorf("rerun without merge: %v, want ErrNotEmpty", err)
			}
			res2, err := importString(t, target, stream, dump.Options{BatchSize: 100, Merge: true, Secrets: secretA})
			if err != nil {
				t.Fatal(err)
			}
			var sum dump.Counts
			sum.Keys = res2.Imported.Keys + res2.Skipped.Keys
			sum.Pools = res2.Imported.Pools + res2.Skipped.Pools
			sum.Identities = res2.Imported.Identities + res2.Skipped.Identities
			sum.Logins = res2.Imported.Logins + res2.Skipped.Logins
			if res2.Skipped != res.Imported || sum != total {
				t.Errorf("merge skipped %v and imported %v; want %v skipped, %v in all", res2.Skipped, res2.Imported, res.Imported, total)
			}
			if again, _ := export(t, target); again != stream {
				t.Errorf("after the merge the target differs:\n%s", firstDifference(stream, again))
			}
			checkSame(t, source, target, want)

			// Merging the same stream again changes nothing.
			res3, err := importString(t, target, stream, dump.Options{Merge: true, Secrets: secretA})
			if err != nil || res3.Imported != (dump.Counts{}) || res3.Skipped != total {
				t.Errorf("merging again: %+v, %v", res3, err)
			}
		})
	}
}

// TestImportMergeConflicts: a record whose id the target holds with other
// contents, or a login held by another identity there, stops a merge at
// its line.
func TestImportMergeConflicts(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			source := b.open(t)
			c := seed(t, source, 2, 3)
			stream, _ := export(t, source)
			// Line 4 is pool 0, lines 5-7 its identities (the second with a
			// Facebook login fb-1), line 8 pool 1.
			tests := []struct {
				name   string
				change func(tx store.Tx) error
				line   int
				want   string
			}{
				{"a pool changed", func(tx store.Tx) error {
					p, err := tx.GetPool(ctx, c.pools[1].ID)
					if err != nil {
						return err
					}
					p.Name = "renamed"
					return tx.UpdatePool(ctx, p)
				}, 8, "pool eu-west-1:00000000-0000-4000-8000-000000000001 exists in the target with another configuration"},
				{"an identity disabled", func(tx store.Tx) error {
					id, err := tx.GetIdentity(ctx, "us-east-1:10000000-0000-4000-8000-000000000000")
					if err != nil {
						return err
					}
					id.Disabled = true
					return tx.UpdateIdentity(ctx, id)
				}, 5, "identity us-east-1:10000000-0000-4000-8000-000000000000 exists in the target with other contents"},
				{"a login held by another identity", func(tx store.Tx) error {
					if err := tx.DeleteIdentity(ctx, "us-east-1:10000000-0000-4000-8000-000000000001"); err != nil {
						return err
					}
					return tx.InsertIdentity(ctx, &store.Identity{ID: "us-east-1:other", PoolID: c.pools[0].ID, CreatedAt: base, UpdatedAt: base,
						Logins: []store.Login{{PoolID: c.pools[0].ID, Provider: "graph.facebook.com", Subject: "fb-1", IdentityID: "us-east-1:other"}}})
				}, 6, "the login graph.facebook.com of identity us-east-1:10000000-0000-4000-8000-000000000001 is linked to identity us-east-1:other"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					target := b.open(t)
					if _, err := importString(t, target, stream, dump.Options{Secrets: secretA}); err != nil {
						t.Fatal(err)
					}
					if err := target.Update(ctx, tt.change); err != nil {
						t.Fatal(err)
					}
					before, _ := export(t, target)
					_, err := importString(t, target, stream, dump.Options{Merge: true, Secrets: secretA})
					var le *dump.LineError
					if !errors.Is(err, dump.ErrConflict) || !errors.As(err, &le) || le.Line != tt.line || !strings.Contains(err.Error(), tt.want) {
						t.Errorf("error %v, want a conflict at line %d: %s", err, tt.line, tt.want)
					}
					if after, _ := export(t, target); after != before {
						t.Errorf("the target changed:\n%s", firstDifference(before, after))
					}
				})
			}

			t.Run("a key of the same id and another private key", func(t *testing.T) {
				target := b.open(t)
				ring(t, target, secretA)
				before, _ := export(t, target)
				_, err := importString(t, target, stream, dump.Options{Merge: true, Secrets: secretA})
				if !errors.Is(err, dump.ErrConflict) || !strings.Contains(err.Error(), "signing key us-east-11 exists in the target with another private key") {
					t.Errorf("error %v", err)
				}
				if after, _ := export(t, target); after != before {
					t.Errorf("the target changed:\n%s", firstDifference(before, after))
				}
			})

			t.Run("a key retired at the source since", func(t *testing.T) {
				target := b.open(t)
				if _, err := importString(t, target, stream, dump.Options{Secrets: secretA}); err != nil {
					t.Fatal(err)
				}
				if _, err := ring(t, source, secretA).Rotate(ctx); err != nil {
					t.Fatal(err)
				}
				rotated, _ := export(t, source)
				res, err := importString(t, target, rotated, dump.Options{Merge: true, Secrets: secretA})
				if err != nil || res.Imported.Keys != 1 || res.Skipped.Keys != 2 {
					t.Fatalf("merge after a rotation: %+v, %v", res, err)
				}
				if got := keys(t, target); !reflect.DeepEqual(got, keys(t, source)) {
					t.Errorf("target keys %+v, want the source's %+v", got, keys(t, source))
				}
			})
		})
	}
}

// failing is a store whose Update fails from the n-th call on.
type failing struct {
	store.Store
	calls, failFrom int
}

var errInjected = errors.New("injected failure")

func (f *failing) Update(ctx context.Context, fn func(store.Tx) error) error {
	f.calls++
	if f.calls >= f.failFrom {
		return errInjected
	}
	return f.Store.Update(ctx, fn)
}

// TestImportBatches: the records go in transactions of BatchSize; when one
// fails, the result says what the ones before it committed.
func TestImportBatches(t *testing.T) {
	source := openSQLite(t)
	seed(t, source, 3, 2500)
	stream, total := export(t, source)

	ok := &failing{Store: openSQLite(t), failFrom: 1 << 30}
	if _, err := importString(t, ok, stream, dump.Options{BatchSize: 250, Secrets: secretA}); err != nil {
		t.Fatal(err)
	}
	if want := (total.Pools+total.Identities+249)/250 + 0; ok.calls != want {
		t.Errorf("%d transactions for %d records in batches of 250, want %d", ok.calls, total.Pools+total.Identities, want)
	}

	bad := &failing{Store: openSQLite(t), failFrom: 4}
	res, err := importString(t, bad, stream, dump.Options{BatchSize: 250, Secrets: secretA})
	if !errors.Is(err, errInjected) {
		t.Fatalf("error %v", err)
	}
	// Header, two keys, then three batches of 250 records committed.
	if res.Imported.Keys != 2 || res.Imported.Pools+res.Imported.Identities != 750 || res.Line != 3+750 {
		t.Errorf("result %+v, want 2 keys and 750 records to line 753", res)
	}
}
