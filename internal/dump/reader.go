package dump

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/idpool/idpool/internal/store"
)

// maxLine bounds one line of a stream: far more than any pool's
// configuration, and a limit on what garbage input can make a reader hold.
const maxLine = 16 << 20

// LineError is a problem with one line of a stream.
type LineError struct {
	Line int // 1 is the header
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

func (e *LineError) Unwrap() error { return e.Err }

// Reader reads a stream line by line, checking each line as it comes: its
// shape, its place in the order of the format, and at the end the
// trailer's counts.
type Reader struct {
	sc     *bufio.Scanner
	line   int
	header Header

	keys     []*store.SigningKey
	keysRead bool
	pending  *record // the line after the keys, read by Keys

	pool    string // the pool whose identities may follow
	read    Counts // records read so far
	endSeen bool   // the trailer was read: the input must end there
	ended   bool   // ...and it did
}

// record is one line after the keys: a pool or an identity.
type record struct {
	line     int
	pool     *store.Pool
	identity *store.Identity
}

// NewReader reads and checks the header of the stream in r: it must name
// the format and a version this package reads.
func NewReader(r io.Reader) (*Reader, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	rd := &Reader{sc: sc}
	b, err := rd.scan()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("dump: empty input: not an idpool export (no header line)")
	}
	if err != nil {
		return nil, err
	}
	// The version is checked before the rest of the header, so that a
	// newer stream is refused for its version, not for a field that
	// version added.
	var probe struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(b, &probe); err != nil || probe.Format != Format {
		return nil, rd.errorf("not an idpool export: the first line must be a header {\"format\":%q,...}", Format)
	}
	if probe.Version != Version {
		return nil, rd.errorf("export format version %d; this idpool reads version %d only", probe.Version, Version)
	}
	if err := strict(b, &rd.header); err != nil {
		return nil, rd.errorf("header: %v", err)
	}
	if rd.header.Exported.IsZero() {
		return nil, rd.errorf("header: no export time (\"exported\")")
	}
	return rd, nil
}

// Header returns the stream's header.
func (r *Reader) Header() Header { return r.header }

// Line returns the number of the last line read (1 is the header).
func (r *Reader) Line() int { return r.line }

// Keys reads the signing keys, which come first in a stream, and returns
// them still sealed. It reads them once; later calls return the same keys.
func (r *Reader) Keys() ([]*store.SigningKey, error) {
	if r.keysRead {
		return r.keys, nil
	}
	seen := map[string]bool{}
	for {
		typ, b, err := r.nextLine()
		if err != nil {
			return nil, err
		}
		if typ != typeKey {
			// The first pool, or the trailer of a stream without pools.
			rec, err := r.decode(typ, b)
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			r.pending, r.keysRead = rec, true
			return r.keys, nil
		}
		var k keyRecord
		if err := strict(b, &k); err != nil {
			return nil, r.errorf("key: %v", err)
		}
		switch {
		case k.ID == "":
			return nil, r.errorf("key: no id")
		case seen[k.ID]:
			return nil, r.errorf("key %s: a second time", k.ID)
		case len(k.Sealed) == 0:
			return nil, r.errorf("key %s: no sealed key material", k.ID)
		case k.Created.IsZero():
			return nil, r.errorf("key %s: no creation time", k.ID)
		}
		seen[k.ID] = true
		r.keys = append(r.keys, k.key())
		r.read.Keys++
	}
}

// next returns the next pool or identity, or io.EOF once the trailer has
// been read, its counts checked, and nothing follows it.
func (r *Reader) next() (*record, error) {
	if _, err := r.Keys(); err != nil {
		return nil, err
	}
	if r.pending != nil {
		rec := r.pending
		r.pending = nil
		return rec, nil
	}
	if r.ended {
		return nil, io.EOF
	}
	typ, b, err := r.nextLine()
	if err != nil {
		return nil, err
	}
	if typ == typeKey {
		return nil, r.errorf("a signing key after the first pool: the keys come first")
	}
	return r.decode(typ, b)
}

// decode checks a line that is not a key. The trailer is checked here, and
// then so is the end of the input; decode returns io.EOF for it.
func (r *Reader) decode(typ string, b []byte) (*record, error) {
	switch typ {
	case typePool:
		var p poolRecord
		if err := strict(b, &p); err != nil {
			return nil, r.errorf("pool: %v", err)
		}
		switch {
		case p.ID == "":
			return nil, r.errorf("pool: no id")
		case p.Account == "" || p.Region == "":
			return nil, r.errorf("pool %s: no account or region", p.ID)
		case p.Created.IsZero() || p.Updated.IsZero():
			return nil, r.errorf("pool %s: no creation or update time", p.ID)
		}
		r.pool = p.ID
		r.read.Pools++
		return &record{line: r.line, pool: p.pool()}, nil
	case typeIdentity:
		var id identityRecord
		if err := strict(b, &id); err != nil {
			return nil, r.errorf("identity: %v", err)
		}
		switch {
		case id.ID == "":
			return nil, r.errorf("identity: no id")
		case id.Pool == "" || id.Pool != r.pool:
			return nil, r.errorf("identity %s of pool %q does not follow its pool's line", id.ID, id.Pool)
		case id.Created.IsZero() || id.Updated.IsZero():
			return nil, r.errorf("identity %s: no creation or update time", id.ID)
		case id.Disabled && len(id.Logins) > 0:
			return nil, r.errorf("identity %s: disabled, yet it holds logins", id.ID)
		}
		for _, l := range id.Logins {
			if l.Provider == "" || l.Subject == "" {
				return nil, r.errorf("identity %s: a login without a provider or subject", id.ID)
			}
		}
		r.read.Identities++
		r.read.Logins += len(id.Logins)
		return &record{line: r.line, identity: id.identity()}, nil
	case typeEnd:
		var end endRecord
		if err := strict(b, &end); err != nil {
			return nil, r.errorf("end: %v", err)
		}
		if end.Counts != r.read {
			return nil, r.errorf("the end line counts %v, but the stream holds %v: it was changed or cut", end.Counts, r.read)
		}
		r.endSeen = true
		if _, _, err := r.nextLine(); !errors.Is(err, io.EOF) {
			if err == nil {
				err = r.errorf("a line after the end line")
			}
			return nil, err
		}
		r.ended = true
		return nil, io.EOF
	default:
		return nil, r.errorf("unknown record type %q", typ)
	}
}

// nextLine reads the next line and its record type. At the end of the
// input before the trailer, the error says the stream was cut short;
// after it, nextLine returns io.EOF.
func (r *Reader) nextLine() (string, []byte, error) {
	b, err := r.scan()
	if errors.Is(err, io.EOF) {
		if r.endSeen {
			return "", nil, io.EOF
		}
		return "", nil, &LineError{Line: r.line + 1, Err: errors.New("the input ends without the end line: the export was cut short")}
	}
	if err != nil {
		return "", nil, err
	}
	var probe struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return "", nil, r.errorf("not a JSON object: %v", err)
	}
	if probe.Type == "" {
		return "", nil, r.errorf("no record type")
	}
	return probe.Type, b, nil
}

// scan reads one line; io.EOF at the end of the input.
func (r *Reader) scan() ([]byte, error) {
	if !r.sc.Scan() {
		if err := r.sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				return nil, &LineError{Line: r.line + 1, Err: fmt.Errorf("longer than %d bytes", maxLine)}
			}
			return nil, fmt.Errorf("dump: reading line %d: %w", r.line+1, err)
		}
		return nil, io.EOF
	}
	r.line++
	b := r.sc.Bytes()
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, r.errorf("empty line")
	}
	return b, nil
}

func (r *Reader) errorf(format string, a ...any) error {
	return &LineError{Line: r.line, Err: fmt.Errorf(format, a...)}
}

// strict decodes one JSON object into v, refusing fields v does not have
// and anything after the object: a line this version does not fully
// understand is refused rather than partly imported.
func strict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON object")
	}
	return nil
}
