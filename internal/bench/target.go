package bench

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// CheckLoopback returns an error unless rawURL is an http URL whose host is
// localhost or a loopback address (127.0.0.0/8 or ::1). The generator only
// loads servers on this machine.
func CheckLoopback(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("target %q: %w", rawURL, err)
	}
	if u.Scheme != "http" {
		return fmt.Errorf("target %q: only http:// targets are supported", rawURL)
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("target %q: refusing a non-loopback host; only 127.0.0.0/8, ::1 and localhost are allowed", rawURL)
	}
	return nil
}
