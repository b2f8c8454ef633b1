package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/awsjson"
	"github.com/idpool/idpool/internal/console"
	"github.com/idpool/idpool/internal/reqinfo"
)

// exposed are the response headers browsers may show to scripts.
const exposed = "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date"

var (
	allowOrigin   = []string{"*"}
	exposeHeaders = []string{exposed}
)

// dateHeader keeps the Date header of the current second, formatted once.
type dateHeader struct{ cur atomic.Pointer[dateValue] }

type dateValue struct {
	sec int64
	v   []string
}

func (d *dateHeader) value(t time.Time) []string {
	sec := t.Unix()
	if v := d.cur.Load(); v != nil && v.sec == sec {
		return v.v
	}
	v := &dateValue{sec, []string{t.UTC().Format(http.TimeFormat)}}
	d.cur.Store(v)
	return v.v
}

// allowedHeaders answers a preflight that lists no headers: what the SDKs
// and Amplify send.
const allowedHeaders = "content-type,x-amz-target,x-amz-user-agent,x-amz-date,authorization," +
	"x-amz-security-token,x-amz-content-sha256,amz-sdk-invocation-id,amz-sdk-request,cache-control"

// middleware wraps every request: request id, Date and CORS headers,
// preflight answers, panic recovery, and, once the request is answered,
// its metrics and its access log line (finish).
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		id := s.requestID()
		// Keys already in canonical form, and values shared between
		// responses (net/http only reads them): no work per request
		// beyond the request id and, once a second, the Date.
		hdr := w.Header()
		hdr["X-Amzn-Requestid"] = []string{id}
		hdr["Date"] = s.date.value(start)
		hdr["Access-Control-Allow-Origin"] = allowOrigin
		hdr["Access-Control-Expose-Headers"] = exposeHeaders

		// One allocation holds the response recorder and what the
		// handlers report.
		ex := &exchange{statusRecorder: statusRecorder{ResponseWriter: w, status: http.StatusOK}}
		if r.Method == http.MethodOptions {
			preflight(&ex.statusRecorder, r)
			s.finish(r.Context(), r, ex, id, start)
			return
		}
		ctx := reqinfo.WithOutcome(reqinfo.WithRequestID(r.Context(), id), &ex.outcome)
		ctx = context.WithValue(ctx, exchangeKey{}, ex)
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					// The connection is dropped: log what was sent, and
					// let net/http abort it.
					s.finish(ctx, r, ex, id, start)
					panic(v)
				}
				s.log.ErrorContext(ctx, "panic serving request", "request_id", id, "op", ex.outcome.Operation, "panic", v)
				if !ex.wrote {
					awsjson.WriteError(&ex.statusRecorder, apierr.New(apierr.InternalError, "An internal error occurred. Please try again."), http.StatusInternalServerError)
				}
				ex.outcome.Code = string(apierr.InternalError)
			}
			s.finish(ctx, r, ex, id, start)
		}()
		next.ServeHTTP(&ex.statusRecorder, r.WithContext(ctx))
	})
}

// maxLoggedText bounds the path and operation name of an access log line:
// both can come from the client.
const maxLoggedText = 256

// finish records an answered request: in the metrics if it reached an
// operation (the protocol handlers record an operation or an error code
// for every request they serve; the health, readiness, key and metrics
// endpoints record nothing), and in the access log when it is on.
//
// The access log line holds no secret: the path without its query (an
// STS call may carry a token there), the client's address, the account,
// the operation, the status, the error code, the duration and the request
// id; never headers, bodies, Logins or tokens.
func (s *Server) finish(ctx context.Context, r *http.Request, ex *exchange, id string, start time.Time) {
	d := s.now().Sub(start)
	if ex.outcome.Operation != "" || ex.outcome.Code != "" {
		s.metrics.Operation(ex.outcome.Operation).Observe(ex.status, ex.outcome.Code, d)
		if s.activity != nil {
			s.activity.Record(console.Entry{
				Time: start, RequestId: id, Account: ex.account,
				Operation: clip(ex.outcome.Operation, maxLoggedText), Status: ex.status, ErrorType: ex.outcome.Code,
				DurationMs: float64(d) / float64(time.Millisecond),
			})
		}
	}
	if !s.accessLog {
		return
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "request",
		slog.String("request_id", id),
		slog.String("method", r.Method),
		slog.String("path", clip(r.URL.Path, maxLoggedText)),
		slog.String("client", clientHost(r.RemoteAddr)),
		slog.String("account", ex.account),
		slog.String("operation", clip(ex.outcome.Operation, maxLoggedText)),
		slog.Int("status", ex.status),
		slog.String("error_type", ex.outcome.Code),
		slog.Float64("duration_ms", float64(d)/float64(time.Millisecond)),
	)
}

// clientHost is the host part of a remote address ("" stays "").
func clientHost(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// clip cuts s to at most n bytes.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (s *Server) requestID() string {
	u, err := uuid.NewRandomFromReader(s.rand)
	if err != nil {
		return uuid.NewString()
	}
	return u.String()
}

// preflight answers a CORS preflight on any path, as AWS does: the method
// asked for is allowed (POST for every API call); a preflight that names
// none gets the API's methods.
func preflight(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	if m := r.Header.Get("Access-Control-Request-Method"); isToken(m) {
		hdr.Set("Access-Control-Allow-Methods", m)
	} else {
		hdr.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	}
	if h := r.Header.Get("Access-Control-Request-Headers"); h != "" {
		hdr.Set("Access-Control-Allow-Headers", h)
	} else {
		hdr.Set("Access-Control-Allow-Headers", allowedHeaders)
	}
	hdr.Set("Access-Control-Max-Age", "172800")
	hdr.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// isToken reports whether s is an HTTP method name: 1 to 32 token
// characters (RFC 9110).
func isToken(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// statusRecorder remembers the status a handler sent.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (to flush an
// event stream).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}
