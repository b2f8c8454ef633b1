package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/awsjson"
	"github.com/idpool/idpool/internal/cognito"
	"github.com/idpool/idpool/internal/model"
	"github.com/idpool/idpool/internal/seed"
)

// ResetPath is the endpoint that empties the store and applies the seed
// again (POST).
const ResetPath = "/_idpool/reset"

// ResetPolicy says who may call POST /_idpool/reset.
type ResetPolicy int

const (
	// ResetAuto lets anyone reset a permissive server (where anyone may
	// delete any pool anyway) and nobody reset a strict one.
	ResetAuto ResetPolicy = iota
	// ResetOn lets anyone reset a permissive server, and a strict one
	// only for a request signed (SigV4, service cognito-identity) with one
	// of its configured long-term keys.
	ResetOn
	// ResetOff refuses every reset.
	ResetOff
)

// resetOperation is what the strict authenticator is told a reset is: an
// operation that must be signed.
var resetOperation = &model.Operation{Name: "Reset", Signed: true}

// maxResetBody bounds the body of a reset request (it needs none; a signed
// one may carry {}).
const maxResetBody = 64 << 10

// resetTimeout bounds one reset.
const resetTimeout = 5 * time.Minute

// reset serves POST /_idpool/reset: 200 {"reset":true,"pools":N,
// "deleted":M} once every pool and identity is deleted and the seed is
// applied again (N is the number of seeded pools, M of pools deleted), 403
// with an error body when the policy refuses the caller.
func (s *Server) reset(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxResetBody))
	if err != nil {
		awsjson.WriteError(w, apierr.New(apierr.Serialization, "The request body could not be read."), http.StatusBadRequest)
		return
	}
	if err := s.mayReset(r, body); err != nil {
		ae, _ := apierr.From(err)
		s.log.WarnContext(r.Context(), "reset refused", "error_type", string(ae.Code), "client", clientHost(r.RemoteAddr))
		awsjson.WriteError(w, ae, http.StatusForbidden)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), resetTimeout)
	defer cancel()
	res, err := s.Reset(ctx)
	if err != nil {
		ae, unexpected := apierr.From(err)
		if unexpected {
			s.log.ErrorContext(ctx, "reset failed", "err", err)
		}
		awsjson.WriteError(w, ae, ae.Code.Status())
		return
	}
	out, _ := json.Marshal(struct {
		Reset   bool `json:"reset"`
		Pools   int  `json:"pools"`
		Deleted int  `json:"deleted"`
	}{true, res.Pools, res.Deleted})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(out)
}

// mayReset applies the reset policy to a request.
func (s *Server) mayReset(r *http.Request, body []byte) error {
	switch {
	case s.resetPolicy == ResetOff:
		return apierr.New(apierr.AccessDenied, "POST "+ResetPath+" is disabled on this server (--allow-reset off).")
	case s.strict == nil:
		return nil
	case s.resetPolicy != ResetOn:
		return apierr.New(apierr.AccessDenied, "POST "+ResetPath+" is disabled in strict mode: start the server with --allow-reset on, "+
			"and sign the request with one of its access keys.")
	}
	// Strict mode: the same verification as a developer operation's
	// (a configured long-term key; idpool's temporary credentials are
	// refused).
	_, err := s.strict.Authenticate(r, body, resetOperation)
	return err
}

// Reset deletes every pool and identity of the store and applies the
// server's seed again; signing keys stay. It is what POST /_idpool/reset
// does once the caller is allowed, without the policy: for tests that
// hold the Server.
func (s *Server) Reset(ctx context.Context) (seed.ResetResult, error) {
	res, err := seed.Reset(ctx, s.svc, s.seed, s.defaultAccount)
	if err != nil {
		return res, err
	}
	s.log.InfoContext(ctx, "store reset", "pools_deleted", res.Deleted, "pools_seeded", res.Pools)
	return res, nil
}

// ResetStore resets a store that no server is serving (`idpool reset`):
// it deletes every pool and identity and applies o.Seed, with the rules
// and the code POST /_idpool/reset uses. Of the options it reads Store,
// Clock, Rand, Logger, DefaultAccount, DefaultRegion, MaxPools and Seed.
func ResetStore(ctx context.Context, o Options) (seed.ResetResult, error) {
	if o.Store == nil {
		return seed.ResetResult{}, errors.New("server: a store is required")
	}
	if o.DefaultAccount == "" {
		o.DefaultAccount = DefaultAccount
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	svc := cognito.New(cognito.Config{
		Store:         o.Store,
		Clock:         o.Clock,
		Rand:          o.Rand,
		DefaultRegion: o.DefaultRegion,
		MaxPools:      o.MaxPools,
		Logger:        o.Logger,
	})
	return seed.Reset(ctx, svc, o.Seed, o.DefaultAccount)
}

// applySeed applies a seed at start and logs what it changed.
func applySeed(ctx context.Context, svc *cognito.Service, sd *seed.Seed, account string, log *slog.Logger) error {
	if sd.Len() == 0 {
		return nil
	}
	res, err := sd.Apply(ctx, svc, account)
	if err != nil {
		return err
	}
	log.Info("seed applied", "file", sd.Name(), "pools", sd.Len(), "created", res.Created, "updated", res.Updated,
		"unchanged", res.Unchanged, "developer_users_linked", res.Linked)
	return nil
}
