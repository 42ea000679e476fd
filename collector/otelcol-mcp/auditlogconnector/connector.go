package auditlogconnector

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

const scopeName = "github.com/mcp-audit/mcp-audit/collector/otelcol-mcp/auditlogconnector"

// EventName of every record, so a log backend can select audit records without parsing.
const EventName = "mcp_audit.call"

// Attributes added to each record next to the span's own (which are copied unchanged).
const (
	AttrOutcome    = "mcp_audit.outcome"
	AttrRecordedBy = "mcp_audit.recorded_by"
	AttrLatencyMs  = "mcp_audit.latency_ms"
)

// The log record attributes the syslog exporter builds its RFC 5424 header and body from.
const (
	syslogAppName        = "appname"
	syslogHostname       = "hostname"
	syslogProcID         = "proc_id"
	syslogMsgID          = "msg_id"
	syslogPriority       = "priority"
	syslogStructuredData = "structured_data"
	syslogMessage        = "message"
)

// RFC 5424 severities.
const (
	syslogError   = 3
	syslogWarning = 4
	syslogInfo    = 6
)

// Outcomes where the server answered and the call ended as the protocol intends: a warning.
// Any other error (timeout, transport, an unclassified failure) is an error.
var handledErrors = map[string]bool{"tool_error": true, "policy_denied": true, "cancelled": true}

type auditLog struct {
	config *Config
	next   consumer.Logs
	component.StartFunc
	component.ShutdownFunc
}

func (*auditLog) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

func (c *auditLog) ConsumeTraces(ctx context.Context, traces ptrace.Traces) error {
	logs := c.toLogs(traces, pcommon.NewTimestampFromTime(time.Now()))
	if logs.LogRecordCount() == 0 {
		return nil
	}
	return c.next.ConsumeLogs(ctx, logs)
}

// toLogs maps every span carrying mcp.method.name to one record; other spans (the app's
// HTTP or database spans in the same batch) have no audit record and are left out.
func (c *auditLog) toLogs(traces ptrace.Traces, observed pcommon.Timestamp) plog.Logs {
	logs := plog.NewLogs()
	for i := 0; i < traces.ResourceSpans().Len(); i++ {
		resourceSpans := traces.ResourceSpans().At(i)
		var records plog.LogRecordSlice
		started := false
		for j := 0; j < resourceSpans.ScopeSpans().Len(); j++ {
			spans := resourceSpans.ScopeSpans().At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				if stringAttr(span.Attributes(), "mcp.method.name") == "" {
					continue
				}
				if !started {
					resourceLogs := logs.ResourceLogs().AppendEmpty()
					resourceSpans.Resource().CopyTo(resourceLogs.Resource())
					scopeLogs := resourceLogs.ScopeLogs().AppendEmpty()
					scopeLogs.Scope().SetName(scopeName)
					records = scopeLogs.LogRecords()
					started = true
				}
				c.record(resourceSpans.Resource(), span, observed, records.AppendEmpty())
			}
		}
	}
	return logs
}

func (c *auditLog) record(resource pcommon.Resource, span ptrace.Span, observed pcommon.Timestamp, out plog.LogRecord) {
	attrs := span.Attributes()
	method := stringAttr(attrs, "mcp.method.name")
	errorType := stringAttr(attrs, "error.type")
	if errorType == "" && span.Status().Code() == ptrace.StatusCodeError {
		errorType = "_OTHER"
	}
	outcome := "ok"
	severity := syslogInfo
	out.SetSeverityNumber(plog.SeverityNumberInfo)
	out.SetSeverityText("INFO")
	if errorType != "" {
		outcome = "error"
		severity = syslogError
		out.SetSeverityNumber(plog.SeverityNumberError)
		out.SetSeverityText("ERROR")
		if handledErrors[errorType] {
			severity = syslogWarning
			out.SetSeverityNumber(plog.SeverityNumberWarn)
			out.SetSeverityText("WARN")
		}
	}
	recordedBy := "client"
	if span.Kind() == ptrace.SpanKindServer {
		recordedBy = "server"
	}
	latencyMs := float64(0)
	if span.EndTimestamp() > span.StartTimestamp() {
		latencyMs = float64(span.EndTimestamp()-span.StartTimestamp()) / 1e6
	}

	out.SetTimestamp(span.EndTimestamp())
	out.SetObservedTimestamp(observed)
	out.SetTraceID(span.TraceID())
	out.SetSpanID(span.SpanID())
	out.SetEventName(EventName)

	tool := stringAttr(attrs, "gen_ai.tool.name")
	caller := stringAttr(attrs, "enduser.id")
	session := stringAttr(attrs, "gen_ai.conversation.id")
	line := summaryLine(method, tool, outcome, errorType, caller, session)
	out.Body().SetStr(line)

	// The span's attributes are the audit record (already redacted upstream); copied whole.
	record := out.Attributes()
	attrs.CopyTo(record)
	record.PutStr(AttrOutcome, outcome)
	record.PutStr(AttrRecordedBy, recordedBy)
	record.PutDouble(AttrLatencyMs, latencyMs)

	record.PutStr(syslogAppName, c.config.AppName)
	record.PutStr(syslogMsgID, headerField(method, 32))
	record.PutInt(syslogPriority, int64(c.config.Facility*8+severity))
	if host := stringAttr(resource.Attributes(), "host.name"); host != "" {
		record.PutStr(syslogHostname, headerField(host, 255))
	}
	if pid, ok := resource.Attributes().Get("process.pid"); ok {
		record.PutStr(syslogProcID, headerField(pid.AsString(), 128))
	}
	message := line
	if arguments := stringAttr(attrs, "gen_ai.tool.call.arguments"); arguments != "" && c.config.MaxArgumentsBytes > 0 {
		message += " arguments=" + oneLine(truncate(arguments, c.config.MaxArgumentsBytes))
	}
	record.PutStr(syslogMessage, message)

	fields := map[string]string{
		"method":      method,
		"tool":        tool,
		"outcome":     outcome,
		"error_type":  errorType,
		"caller":      caller,
		"session":     session,
		"server":      stringAttr(attrs, "mcp_audit.server.name"),
		"service":     stringAttr(resource.Attributes(), "service.name"),
		"recorded_by": recordedBy,
		"latency_ms":  strconv.FormatFloat(latencyMs, 'f', 3, 64),
		"result_size": valueString(attrs, "mcp_audit.result.size"),
		"pii_count":   valueString(attrs, "mcp_audit.result.pii.count"),
		"pii_classes": valueString(attrs, "mcp_audit.result.pii.classes"),
		"risk":        valueString(attrs, "mcp_audit.arguments.risk"),
		"redacted":    valueString(attrs, "mcp_audit.redacted.count"),
		"turn_id":     stringAttr(attrs, "mcp_audit.turn.id"),
		"request_id":  valueString(attrs, "jsonrpc.request.id"),
		"trace_id":    span.TraceID().String(),
		"span_id":     span.SpanID().String(),
	}
	element := record.PutEmptyMap(syslogStructuredData).PutEmptyMap(c.config.StructuredDataID)
	for name, value := range fields {
		if value != "" {
			element.PutStr(name, paramValue(value))
		}
	}
}

func summaryLine(method, tool, outcome, errorType, caller, session string) string {
	var b strings.Builder
	b.WriteString(method)
	if tool != "" {
		b.WriteString(" " + tool)
	}
	if errorType != "" {
		b.WriteString(" " + outcome + "=" + errorType)
	} else {
		b.WriteString(" " + outcome)
	}
	if caller != "" {
		b.WriteString(" caller=" + caller)
	}
	if session != "" {
		b.WriteString(" session=" + session)
	}
	return oneLine(b.String())
}

func stringAttr(attrs pcommon.Map, key string) string {
	if value, ok := attrs.Get(key); ok && value.Type() == pcommon.ValueTypeStr {
		return value.Str()
	}
	return ""
}

// valueString renders a scalar as text and a list (pii classes, risk tags) comma-separated.
func valueString(attrs pcommon.Map, key string) string {
	value, ok := attrs.Get(key)
	if !ok {
		return ""
	}
	if value.Type() != pcommon.ValueTypeSlice {
		return value.AsString()
	}
	items := make([]string, 0, value.Slice().Len())
	for i := 0; i < value.Slice().Len(); i++ {
		items = append(items, value.Slice().At(i).AsString())
	}
	return strings.Join(items, ",")
}

// paramValue makes a value safe inside an RFC 5424 PARAM-VALUE as the syslog exporter writes
// it (Go %q quoting): that escapes '"' and '\' but not ']', which would end the element early,
// so ']' becomes U+FF3D (a printable look-alike) rather than cutting the record short.
func paramValue(value string) string {
	return strings.ReplaceAll(oneLine(value), "]", "\uff3d")
}

// headerField keeps an RFC 5424 header field within its rules: printable ASCII, no spaces.
func headerField(value string, maxLen int) string {
	var b strings.Builder
	for _, r := range value {
		if b.Len() == maxLen {
			break
		}
		if r > ' ' && r <= '~' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

// oneLine keeps a record on one line whatever framing the receiver uses.
func oneLine(value string) string {
	return strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(value)
}

// truncate cuts at a UTF-8 boundary and says how much was left out.
func truncate(value string, maxBytes int) string {
	if len(value) <= maxBytes {
		return value
	}
	cut := maxBytes
	for cut > 0 && !utf8.RuneStart(value[cut]) {
		cut--
	}
	return value[:cut] + fmt.Sprintf("…(%d bytes more)", len(value)-cut)
}
