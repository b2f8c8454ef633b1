package config

import "fmt"

// origin says where a setting's value came from. The order is the
// precedence: a later origin overrides an earlier one.
type origin int

const (
	fromDefault origin = iota
	fromFile
	fromEnv
	fromFlag
)

// value is one setting's text and where it came from, so that every
// message about it can say which flag, variable or line to fix.
type value struct {
	text string
	key  string // the setting's long flag name, also its key in the file
	env  string // its environment variable
	from origin
	file string // the config file, when from is fromFile
	line int    // the line in file, when from is fromFile
	// show is how messages print text (the store URL hides its password);
	// nil prints it as it is.
	show func(string) string
}

// String names the value and its origin: `--max-pools "x" (flag)`,
// `IDPOOL_MAX_POOLS "x" (environment)`, `max-pools "x" (config file
// idpool.yaml, line 4)` or `--max-pools "x" (default)`.
func (v value) String() string {
	text := v.text
	if v.show != nil {
		text = v.show(text)
	}
	switch v.from {
	case fromFlag:
		return fmt.Sprintf("--%s %q (flag)", v.key, text)
	case fromEnv:
		return fmt.Sprintf("%s %q (environment)", v.env, text)
	case fromFile:
		return fmt.Sprintf("%s %q (config file %s, line %d)", v.key, text, v.file, v.line)
	default:
		return fmt.Sprintf("--%s %q (default)", v.key, text)
	}
}

// errorf is an error about the value: its description, a colon, and the
// formatted problem (which may wrap an error with %w).
func (v value) errorf(format string, a ...any) error {
	return fmt.Errorf("%s: "+format, append([]any{v}, a...)...)
}
