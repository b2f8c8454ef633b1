// Package config turns the serve command's flags, IDPOOL_* environment
// variables and YAML config file into a validated Config, in that order of
// precedence over the defaults, reporting every problem at once and
// naming, for each, the flag, variable or file line its value came from.
package config
