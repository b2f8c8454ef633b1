package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"

	"gopkg.in/yaml.v3"
)

// fileValue is a setting read from the config file, with its line.
type fileValue struct {
	text string
	line int
}

// envOnly says why key, a name a config file might be expected to take,
// cannot be set there ("" for any other key): secrets stay out of files
// that are copied around and checked in.
func envOnly(key string) string {
	switch key {
	case "secret":
		return "the server secret comes from IDPOOL_SECRET or --secret-file"
	case "credentials":
		return "strict mode's access keys come from IDPOOL_CREDENTIALS or --credentials-file"
	case "config":
		return "a config file cannot name another"
	}
	return ""
}

// readFile reads a YAML config file: one mapping whose keys are the long
// flag names of known and whose values are strings, numbers or booleans.
// It returns what it could read and every problem it found; each problem
// names the file, and the line when there is one. src says where the
// file's name came from (--config or IDPOOL_CONFIG).
func readFile(src value, known map[string]bool) (map[string]fileValue, []error) {
	path := src.text
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, []error{src.errorf("no such file")}
	}
	if err != nil {
		return nil, []error{src.errorf("%w", err)}
	}
	return parseFile(path, data, known)
}

// readable checks that the file a setting names can be read, so that a
// missing or unreadable one is refused at start naming the setting and
// where its value came from.
func readable(v value) error {
	f, err := os.Open(v.text)
	if errors.Is(err, fs.ErrNotExist) {
		return v.errorf("no such file")
	}
	if err != nil {
		return v.errorf("%w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return v.errorf("is a directory, not a file")
	}
	return nil
}

// parseFile is readFile on the file's contents.
func parseFile(path string, data []byte, known map[string]bool) (map[string]fileValue, []error) {
	at := func(line int, format string, a ...any) error {
		return fmt.Errorf("config file %s, line %d: "+format, append([]any{path, line}, a...)...)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // empty, or only comments: no settings
		}
		return nil, []error{fmt.Errorf("config file %s: %w", path, err)}
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, []error{fmt.Errorf("config file %s: %w", path, err)}
		}
		return nil, []error{at(next.Line, "more than one YAML document; want one mapping of settings")}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	top := doc.Content[0]
	if top.Kind == yaml.ScalarNode && top.Tag == "!!null" {
		return nil, nil // a document of "~" or "null": no settings
	}
	if top.Kind != yaml.MappingNode {
		return nil, []error{at(top.Line, `want a mapping of setting names to values, e.g. "listen: 127.0.0.1:4591"`)}
	}
	out := map[string]fileValue{}
	seen := map[string]int{} // the line of each key's first appearance
	var errs []error
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag != "!!str" {
			errs = append(errs, at(k.Line, "a key must be a setting name, e.g. listen"))
			continue
		}
		key := k.Value
		if why := envOnly(key); why != "" {
			errs = append(errs, at(k.Line, "key %q cannot be set in a config file: %s", key, why))
			continue
		}
		if !known[key] {
			msg := fmt.Sprintf("unknown key %q", key)
			if near := nearest(key, known); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			}
			errs = append(errs, at(k.Line, "%s", msg))
			continue
		}
		if first, ok := seen[key]; ok {
			errs = append(errs, at(k.Line, "key %q repeated (first set on line %d)", key, first))
			continue
		}
		seen[key] = k.Line
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		switch {
		case v.Kind == yaml.SequenceNode:
			errs = append(errs, at(v.Line, "key %q needs a single value (a string, number or boolean), not a list", key))
		case v.Kind == yaml.MappingNode:
			errs = append(errs, at(v.Line, "key %q needs a single value (a string, number or boolean), not a mapping", key))
		case v.Kind != yaml.ScalarNode:
			errs = append(errs, at(v.Line, "key %q needs a single value (a string, number or boolean)", key))
		case v.Tag == "!!null":
			errs = append(errs, at(v.Line, `key %q has no value (write "" for an empty one, or remove the key for the default)`, key))
		case v.Tag != "!!str" && v.Tag != "!!int" && v.Tag != "!!float" && v.Tag != "!!bool":
			errs = append(errs, at(v.Line, "key %q has a %s value; want a string, number or boolean", key, v.Tag))
		default:
			out[key] = fileValue{text: v.Value, line: v.Line}
		}
	}
	return out, errs
}

// nearest is the known key closest to key when it is close enough to be
// a likely typo (at most two edits), else "".
func nearest(key string, known map[string]bool) string {
	names := make([]string, 0, len(known))
	for k := range known {
		names = append(names, k)
	}
	sort.Strings(names) // ties resolve the same way every time
	best, bestD := "", 3
	for _, k := range names {
		if d := editDistance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the number of single-byte insertions, deletions,
// substitutions and swaps of adjacent bytes that turn a into b.
func editDistance(a, b string) int {
	// d[i][j] is the distance between a[:i] and b[:j].
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
