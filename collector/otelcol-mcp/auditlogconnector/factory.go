// Package auditlogconnector turns the spans of MCP requests into audit log records, one per
// span it receives, for log routes such as the syslog exporter (RFC 5424) that a SIEM reads.
//
// It selects no side itself: the pipeline in front of it does, with the rule the per-session
// metrics use (collector/config.yaml: transform/native_server_spans, filter/tool_calls), so a
// call that both an instrumented client and its server recorded yields one record, as it
// yields one count. Put it after the redaction processors: it copies values, it never cleans them.
package auditlogconnector

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
)

const typeName = "auditlog"

// NewFactory returns the factory of the traces → logs auditlog connector.
func NewFactory() connector.Factory {
	return connector.NewFactory(
		component.MustNewType(typeName),
		func() component.Config { return createDefaultConfig() },
		connector.WithTracesToLogs(createTracesToLogs, component.StabilityLevelAlpha),
	)
}

func createTracesToLogs(
	_ context.Context,
	_ connector.Settings,
	cfg component.Config,
	next consumer.Logs,
) (connector.Traces, error) {
	return &auditLog{config: cfg.(*Config), next: next}, nil
}
