package auditlogconnector

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func traces() ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "agent")
	rs.Resource().Attributes().PutStr("host.name", "build host")
	rs.Resource().Attributes().PutInt("process.pid", 4242)
	spans := rs.ScopeSpans().AppendEmpty().Spans()

	ok := spans.AppendEmpty()
	ok.SetName("tools/call db_query")
	ok.SetKind(ptrace.SpanKindClient)
	ok.SetTraceID(pcommon.TraceID{1, 2, 3})
	ok.SetSpanID(pcommon.SpanID{4, 5, 6})
	ok.SetStartTimestamp(1_000_000_000)
	ok.SetEndTimestamp(1_012_500_000)
	ok.Attributes().PutStr("mcp.method.name", "tools/call")
	ok.Attributes().PutStr("gen_ai.tool.name", "db_query")
	ok.Attributes().PutStr("gen_ai.conversation.id", "a3f8c")
	ok.Attributes().PutStr("enduser.id", "user:sarah")
	ok.Attributes().PutStr("gen_ai.tool.call.arguments", `{"sql":"select 1","token":"[REDACTED:secret]"}`)
	ok.Attributes().PutInt("mcp_audit.result.size", 321)
	classes := ok.Attributes().PutEmptySlice("mcp_audit.result.pii.classes")
	classes.AppendEmpty().SetStr("email")
	classes.AppendEmpty().SetStr("card")

	failed := spans.AppendEmpty()
	failed.SetName("tools/call explode")
	failed.SetKind(ptrace.SpanKindServer)
	failed.Attributes().PutStr("mcp.method.name", "tools/call")
	failed.Attributes().PutStr("gen_ai.tool.name", "explode")
	failed.Attributes().PutStr("error.type", "transport_error")

	denied := spans.AppendEmpty()
	denied.Attributes().PutStr("mcp.method.name", "tools/call")
	denied.Attributes().PutStr("error.type", "policy_denied")

	// Not an MCP request: no record.
	spans.AppendEmpty().SetName("GET /weather")
	return td
}

func TestOneRecordPerMcpSpan(t *testing.T) {
	sink := new(consumertest.LogsSink)
	factory := NewFactory()
	cfg := factory.CreateDefaultConfig()
	conn, err := factory.CreateTracesToLogs(context.Background(), connectortest.NewNopSettings(factory.Type()), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := conn.ConsumeTraces(context.Background(), traces()); err != nil {
		t.Fatal(err)
	}
	if got := sink.LogRecordCount(); got != 3 {
		t.Fatalf("records: got %d, want 3", got)
	}
	records := sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()

	first := records.At(0)
	if got := first.Body().Str(); got != "tools/call db_query ok caller=user:sarah session=a3f8c" {
		t.Errorf("body: %q", got)
	}
	if first.SeverityNumber() != plog.SeverityNumberInfo || first.TraceID() != (pcommon.TraceID{1, 2, 3}) || first.SpanID() != (pcommon.SpanID{4, 5, 6}) {
		t.Errorf("severity %v trace %v span %v", first.SeverityNumber(), first.TraceID(), first.SpanID())
	}
	attrs := first.Attributes()
	wantStr := map[string]string{
		"gen_ai.tool.name": "db_query",
		"enduser.id":       "user:sarah",
		AttrOutcome:        "ok",
		AttrRecordedBy:     "client",
		syslogAppName:      "mcp-audit",
		syslogMsgID:        "tools/call",
		syslogHostname:     "build_host",
		syslogProcID:       "4242",
	}
	for key, want := range wantStr {
		if got, _ := attrs.Get(key); got.AsString() != want {
			t.Errorf("%s: got %q, want %q", key, got.AsString(), want)
		}
	}
	if got, _ := attrs.Get(AttrLatencyMs); got.Double() != 12.5 {
		t.Errorf("latency: %v", got.Double())
	}
	if got, _ := attrs.Get(syslogPriority); got.Int() != 13*8+6 {
		t.Errorf("priority: %d", got.Int())
	}
	message, _ := attrs.Get(syslogMessage)
	if !strings.HasSuffix(message.Str(), ` arguments={"sql":"select 1","token":"[REDACTED:secret]"}`) {
		t.Errorf("message: %q", message.Str())
	}
	sd, _ := attrs.Get(syslogStructuredData)
	element, ok := sd.Map().Get("mcp_audit@32473")
	if !ok {
		t.Fatalf("no structured-data element: %v", sd.AsRaw())
	}
	wantSD := map[string]string{
		"tool": "db_query", "session": "a3f8c", "caller": "user:sarah", "outcome": "ok",
		"service": "agent", "latency_ms": "12.500", "result_size": "321", "pii_classes": "email,card",
		"trace_id": pcommon.TraceID{1, 2, 3}.String(), "span_id": pcommon.SpanID{4, 5, 6}.String(),
	}
	for key, want := range wantSD {
		if got, _ := element.Map().Get(key); got.AsString() != want {
			t.Errorf("SD %s: got %q, want %q", key, got.AsString(), want)
		}
	}
	if _, present := element.Map().Get("error_type"); present {
		t.Error("SD error_type present on a successful call")
	}

	transport := records.At(1)
	if transport.SeverityNumber() != plog.SeverityNumberError || transport.Body().Str() != "tools/call explode error=transport_error" {
		t.Errorf("transport error: %v %q", transport.SeverityNumber(), transport.Body().Str())
	}
	if got, _ := transport.Attributes().Get(AttrRecordedBy); got.Str() != "server" {
		t.Errorf("recorded_by: %q", got.Str())
	}
	if got, _ := transport.Attributes().Get(syslogPriority); got.Int() != 13*8+3 {
		t.Errorf("priority: %d", got.Int())
	}
	if got, _ := records.At(2).Attributes().Get(syslogPriority); got.Int() != 13*8+4 || records.At(2).SeverityNumber() != plog.SeverityNumberWarn {
		t.Errorf("policy_denied: priority %d severity %v", got.Int(), records.At(2).SeverityNumber())
	}
}

func TestNoRecordsNoCall(t *testing.T) {
	sink := new(consumertest.LogsSink)
	conn := &auditLog{config: createDefaultConfig(), next: sink}
	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName("GET /")
	if err := conn.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	if len(sink.AllLogs()) != 0 {
		t.Fatalf("a batch without MCP spans produced %d log batches", len(sink.AllLogs()))
	}
}

func TestParamValueKeepsTheElementWhole(t *testing.T) {
	if got := paramValue("a]b\nc"); got != "a\uff3db\\nc" {
		t.Errorf("got %q", got)
	}
	if got := truncate("ééé", 3); got != "é…(4 bytes more)" {
		t.Errorf("got %q", got)
	}
}

func TestValidate(t *testing.T) {
	cfg := createDefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := &Config{AppName: "has space", Facility: 24, StructuredDataID: "a=b", MaxArgumentsBytes: -1}
	err := bad.Validate()
	for _, want := range []string{"facility", "app_name", "structured_data_id", "max_arguments_bytes"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %s in %v", want, err)
		}
	}
	var _ component.Config = cfg
}
