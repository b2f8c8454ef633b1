package awsjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/idpool/idpool/internal/apierr"
	"github.com/idpool/idpool/internal/caller"
	"github.com/idpool/idpool/internal/model"
	"github.com/idpool/idpool/internal/reqinfo"
)

// ContentType is the media type of requests and responses.
const ContentType = "application/x-amz-json-1.1"

// contentType is the Content-Type header value of every answer, shared
// (net/http only reads it).
var contentType = []string{ContentType}

// DefaultMaxBodyBytes bounds a request body. The largest legitimate input is
// a Logins map of ten 50,000-character tokens (about 500 KB).
const DefaultMaxBodyBytes = 1 << 20

// Authenticator decides who a request comes from. It runs after the body is
// read (a SigV4 check needs its hash) and before the body is parsed.
// An error it returns is written to the client as is (an *apierr.Error) or
// as an internal error.
type Authenticator interface {
	Authenticate(r *http.Request, body []byte, op *model.Operation) (caller.Info, error)
}

// Limiter decides whether a request may run now; a non-nil error (normally
// TooManyRequestsException) is sent instead of running the operation.
type Limiter interface {
	Allow(ctx context.Context, op string, c caller.Info) error
}

// Handler is the one pipeline every operation goes through: target
// dispatch, body limit, authentication, model checks, strict decoding, rate
// limiting, the operation itself, and the writing of the result or error.
type Handler struct {
	model  *model.Model
	routes map[string]*route

	auth    Authenticator
	limiter Limiter
	log     *slog.Logger
	maxBody int64
}

type route struct {
	op   *model.Operation
	call func(ctx context.Context, body []byte) (any, error)
}

// Options configures a Handler.
type Options struct {
	Model         *model.Model
	Authenticator Authenticator // required
	Limiter       Limiter       // optional
	Logger        *slog.Logger  // optional
	MaxBodyBytes  int64         // 0 means DefaultMaxBodyBytes
}

// New returns a Handler with no operations registered yet.
func New(o Options) *Handler {
	h := &Handler{
		model:   o.Model,
		routes:  map[string]*route{},
		auth:    o.Authenticator,
		limiter: o.Limiter,
		log:     o.Logger,
		maxBody: o.MaxBodyBytes,
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	return h
}

// Register adds an operation. It panics if the model has no operation of
// that name or if it is registered twice: both are programming errors
// caught at start-up.
func Register[In, Out any](h *Handler, name string, fn func(context.Context, *In) (*Out, error)) {
	op, ok := h.model.Operations[name]
	if !ok {
		panic("awsjson: operation " + name + " is not in the model")
	}
	if _, dup := h.routes[name]; dup {
		panic("awsjson: operation " + name + " registered twice")
	}
	h.routes[name] = &route{op: op, call: func(ctx context.Context, body []byte) (any, error) {
		in := new(In)
		if err := json.Unmarshal(body, in); err != nil {
			// Model checks passed, so the input type disagrees with the
			// model: a server bug, not the client's fault.
			return nil, fmt.Errorf("decode %s input after model checks: %w", name, err)
		}
		out, err := fn(ctx, in)
		if err != nil {
			return nil, err
		}
		if out == nil {
			return struct{}{}, nil
		}
		return out, nil
	}}
}

// ServeHTTP serves one awsJson1_1 request. The request id, Date and CORS
// headers are set by the server's middleware before it gets here.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	opName, err := h.dispatch(r)
	if err != nil {
		h.fail(w, r, opName, err)
		return
	}
	rt := h.routes[opName]
	body, err := readBody(w, r, h.maxBody)
	if err != nil {
		h.fail(w, r, opName, err)
		return
	}
	who, err := h.auth.Authenticate(r, body, rt.op)
	if err != nil {
		h.fail(w, r, opName, err)
		return
	}
	ctx = caller.With(ctx, who)
	// The operation decodes the canonical body: the members the model
	// checked, exactly as checked.
	body, aerr := rt.op.Prepare(body)
	if aerr != nil {
		h.fail(w, r, opName, aerr)
		return
	}
	if h.limiter != nil {
		if err := h.limiter.Allow(ctx, opName, who); err != nil {
			h.fail(w, r, opName, err)
			return
		}
	}
	out, err := rt.call(ctx, body)
	if err != nil {
		h.fail(w, r, opName, err)
		return
	}
	payload, err := marshal(out)
	if err != nil {
		h.fail(w, r, opName, fmt.Errorf("encode %s output: %w", opName, err))
		return
	}
	reqinfo.Record(ctx, opName, "")
	hdr := w.Header()
	hdr["Content-Type"] = contentType
	hdr["Content-Length"] = []string{strconv.Itoa(len(payload))}
	w.WriteHeader(http.StatusOK)
	w.Write(payload)
}

// dispatch finds the operation named by X-Amz-Target, after checking the
// method and content type. It returns the operation name whenever one could
// be read, for logging.
func (h *Handler) dispatch(r *http.Request) (string, error) {
	target := r.Header.Get("X-Amz-Target")
	prefix, name, ok := strings.Cut(target, ".")
	if r.Method != http.MethodPost {
		return name, apierr.Errorf(apierr.UnknownOperation, "Method %s is not supported; operations are called with POST.", r.Method)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != ContentType {
		mt, _, err := mime.ParseMediaType(ct)
		// application/x-amz-json-1.1 is what SDKs send; 1.0 and plain JSON
		// are accepted as aliases, as AWS accepts them. Any other type is not
		// a request this protocol can route.
		if err != nil || (mt != ContentType && mt != "application/x-amz-json-1.0" && mt != "application/json") {
			return name, apierr.Errorf(apierr.UnknownOperation, "Content-Type %q is not supported; use %s.", ct, ContentType)
		}
	}
	if target == "" {
		return "", apierr.New(apierr.UnknownOperation, "Missing X-Amz-Target header: the requested operation is not recognized by the service.")
	}
	if !ok || prefix != h.model.TargetPrefix {
		return "", apierr.Errorf(apierr.UnknownOperation, "The requested operation %q is not recognized by the service.", target)
	}
	if _, known := h.model.Operations[name]; !known {
		return "", apierr.Errorf(apierr.UnknownOperation, "The requested operation %q is not recognized by the service.", target)
	}
	if _, built := h.routes[name]; !built {
		return name, apierr.Errorf(apierr.UnknownOperation, "The operation %s is not implemented by this version of idpool yet.", name)
	}
	return name, nil
}

// readBody reads the whole body, refusing one larger than limit.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(limit)
		}
		return nil, apierr.New(apierr.Serialization, "The request body could not be read.")
	}
	return body, nil
}

// tooLarge is the answer to an oversized body. AWS's front end refuses such
// requests before any operation sees them; idpool answers 400
// SerializationException, since the body cannot be deserialized.
func tooLarge(limit int64) error {
	return apierr.Errorf(apierr.Serialization, "The request body is larger than the limit of %d bytes.", limit)
}

// fail writes err as the response and logs unexpected failures.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, op string, err error) {
	ae, unexpected := apierr.From(err)
	if unexpected {
		h.log.ErrorContext(r.Context(), "internal error", "op", op, "request_id", reqinfo.RequestID(r.Context()), "err", err)
	}
	reqinfo.Record(r.Context(), op, string(ae.Code))
	status := ae.Code.Status()
	if r.Method != http.MethodPost {
		// Only POST reaches an operation. Which status AWS sends for other
		// methods is unknown; 405 says what is wrong.
		w.Header().Set("Allow", "POST, OPTIONS")
		status = http.StatusMethodNotAllowed
	}
	WriteError(w, ae, status)
}

// maxMessageHeader bounds x-amzn-ErrorMessage: the body carries the whole
// text, and some HTTP clients refuse header lines longer than 64 KiB.
const maxMessageHeader = 4096

// WriteError writes e as an awsJson1_1 error response with the given HTTP
// status (normally e.Code.Status()): the body's __type and message, and the
// X-Amzn-ErrorType and x-amzn-ErrorMessage headers that clients read first.
// It is the only place errors are written.
func WriteError(w http.ResponseWriter, e *apierr.Error, status int) {
	body, _ := marshal(struct {
		Type    apierr.Code `json:"__type"`
		Message string      `json:"message"`
	}{e.Code, e.Message})
	hdr := w.Header()
	hdr.Set("Content-Type", ContentType)
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	hdr.Set("X-Amzn-ErrorType", string(e.Code)+":")
	if msg := headerSafe(e.Message, maxMessageHeader); msg != "" {
		hdr.Set("X-Amzn-ErrorMessage", msg)
	}
	w.WriteHeader(status)
	w.Write(body)
}

// headerSafe drops the characters a header value cannot carry (control
// characters, CR and LF) and cuts the text to at most limit bytes on a
// character boundary.
func headerSafe(s string, limit int) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			continue
		}
		if b.Len()+len(string(r)) > limit {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// marshal encodes v as JSON without escaping <, > and & (AWS does not).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
