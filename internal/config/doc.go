// Package config turns the serve command's flags and IDPOOL_* environment
// variables into a validated Config, reporting every problem at once.
package config
