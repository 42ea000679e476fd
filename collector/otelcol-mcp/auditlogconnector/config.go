package auditlogconnector

import (
	"errors"
	"fmt"
	"strings"
)

// Config of the auditlog connector. Every field has a default (createDefaultConfig), so
// `auditlog:` with no keys is a complete configuration.
type Config struct {
	// AppName is the syslog APP-NAME of every record (RFC 5424: 1 to 48 printable ASCII characters).
	AppName string `mapstructure:"app_name"`
	// Facility is the syslog facility number (0 to 23) that PRI is built from; 13 is "log audit".
	Facility int `mapstructure:"facility"`
	// StructuredDataID is the SD-ID of the structured-data element that holds the audit fields
	// (RFC 5424: NAME@<private enterprise number> for an ID that IANA did not register).
	StructuredDataID string `mapstructure:"structured_data_id"`
	// MaxArgumentsBytes bounds the tool arguments appended to the syslog message (they are
	// already redacted); 0 leaves them out of the message.
	MaxArgumentsBytes int `mapstructure:"max_arguments_bytes"`
}

func createDefaultConfig() *Config {
	return &Config{
		AppName:  "mcp-audit",
		Facility: 13,
		// 32473 is the enterprise number RFC 5612 reserves for documentation and examples.
		StructuredDataID:  "mcp_audit@32473",
		MaxArgumentsBytes: 1024,
	}
}

// Validate rejects what an RFC 5424 receiver would refuse to parse.
func (c *Config) Validate() error {
	var errs []error
	if c.Facility < 0 || c.Facility > 23 {
		errs = append(errs, fmt.Errorf("facility %d: must be 0 to 23", c.Facility))
	}
	if !printableASCII(c.AppName, 48, "") {
		errs = append(errs, fmt.Errorf("app_name %q: 1 to 48 printable ASCII characters without spaces", c.AppName))
	}
	if !printableASCII(c.StructuredDataID, 32, "=]\"") {
		errs = append(errs, fmt.Errorf("structured_data_id %q: 1 to 32 printable ASCII characters without spaces, '=', ']' or '\"'", c.StructuredDataID))
	}
	if c.MaxArgumentsBytes < 0 {
		errs = append(errs, errors.New("max_arguments_bytes must not be negative"))
	}
	return errors.Join(errs...)
}

func printableASCII(s string, maxLen int, forbidden string) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r > '~' || strings.ContainsRune(forbidden, r) {
			return false
		}
	}
	return true
}
