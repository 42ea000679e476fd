package guardedottl_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	stockredaction "github.com/open-telemetry/opentelemetry-collector-contrib/processor/redactionprocessor"
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/transformprocessor"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/mcp-audit/mcp-audit/collector/otelcol-mcp/guardedottl"
	guardedredaction "github.com/mcp-audit/mcp-audit/collector/otelcol-mcp/redactionprocessor"
)

// The shipped config's two redaction processors, built once from the stock factories and once
// from the distribution's guarded ones, must turn the same spans into the same spans.

func shippedConfig(t *testing.T) *confmap.Conf {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// `$$` is the collector's escape for `$`; the two processors use no env placeholders.
	retrieved, err := confmap.NewRetrievedFromYAML([]byte(strings.ReplaceAll(string(raw), "$$", "$")))
	if err != nil {
		t.Fatal(err)
	}
	conf, err := retrieved.AsConf()
	if err != nil {
		t.Fatal(err)
	}
	return conf
}

func pipeline(t *testing.T, conf *confmap.Conf, transform, redaction processor.Factory) (processor.Traces, *consumertest.TracesSink) {
	t.Helper()
	sink := &consumertest.TracesSink{}
	build := func(f processor.Factory, key string, next processor.Traces) processor.Traces {
		sub, err := conf.Sub("processors::" + key)
		if err != nil {
			t.Fatal(err)
		}
		cfg := f.CreateDefaultConfig()
		if err := sub.Unmarshal(cfg); err != nil {
			t.Fatal(err)
		}
		var p processor.Traces
		if next == nil {
			p, err = f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), cfg, sink)
		} else {
			p, err = f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), cfg, next)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Start(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
		return p
	}
	return build(transform, "transform/redact", build(redaction, "redaction", nil)), sink
}

func fixtureStrings(t *testing.T) []string {
	t.Helper()
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, name := range []string{"secrets-corpus.json", "independent-corpus.json", "redaction-regressions.json"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "..", "test", "fixtures", name))
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		walk(v)
	}
	return out
}

// One span per corpus string, the string (and encoded and JSON-embedded forms of it) in the
// name, the status message, plain and secret-named attributes, a map attribute, an event and
// the resource; ordinary attributes beside them.
func corpusTraces(values []string) ptrace.Traces {
	td := ptrace.NewTraces()
	for i, v := range values {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "equivalence")
		rs.Resource().Attributes().PutStr("process.command_line", "node app.js --token "+v)
		sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		sp.SetName("tools/call " + v)
		sp.Status().SetMessage("failed: " + v)
		a := sp.Attributes()
		a.PutStr("mcp.method.name", "tools/call")
		a.PutStr("gen_ai.conversation.id", fmt.Sprintf("run-1733050000-%d", i))
		a.PutStr("enduser.id", v)
		a.PutStr("gen_ai.tool.call.arguments", `{"query":"`+strings.ReplaceAll(v, `"`, `\"`)+`","apiKey":"`+v+`"}`)
		a.PutStr("foreign.sdk.raw", v)
		a.PutStr("foreign.sdk.encoded", url.QueryEscape(v))
		a.PutStr("http.request.header.authorization", v)
		a.PutInt("mcp_audit.result.size", int64(len(v)))
		m := a.PutEmptyMap("foreign.sdk.map")
		m.PutStr("inner", v)
		s := a.PutEmptySlice("foreign.sdk.list")
		s.AppendEmpty().SetStr(v)
		ev := sp.Events().AppendEmpty()
		ev.SetName("exception " + v)
		ev.Attributes().PutStr("exception.message", "boom: "+v)
	}
	return td
}

func TestGuardedRedactionGivesTheStockResult(t *testing.T) {
	conf := shippedConfig(t)
	stock, stockOut := pipeline(t, conf, transformprocessor.NewFactory(), stockredaction.NewFactory())
	guarded, guardedOut := pipeline(t, conf, guardedottl.NewFactory(), guardedredaction.NewFactory())

	values := fixtureStrings(t)
	values = append(values, "tools/call db_query", "call 555-867-5309", "nothing to see", "")
	if len(values) < 100 {
		t.Fatalf("only %d corpus strings", len(values))
	}
	for start := 0; start < len(values); start += 200 {
		chunk := values[start:min(start+200, len(values))]
		if err := stock.ConsumeTraces(context.Background(), corpusTraces(chunk)); err != nil {
			t.Fatal(err)
		}
		if err := guarded.ConsumeTraces(context.Background(), corpusTraces(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	var marshaler ptrace.JSONMarshaler
	want, got := stockOut.AllTraces(), guardedOut.AllTraces()
	if len(want) != len(got) || len(want) == 0 {
		t.Fatalf("%d batches from the stock processors, %d from the guarded ones", len(want), len(got))
	}
	masked := 0
	for i := range want {
		w, _ := marshaler.MarshalTraces(want[i])
		g, _ := marshaler.MarshalTraces(got[i])
		if string(w) != string(g) {
			t.Fatalf("batch %d differs:\nstock:   %.2000s\nguarded: %.2000s", i, w, g)
		}
		masked += strings.Count(string(w), "[REDACTED:")
	}
	if masked < len(values) {
		t.Fatalf("only %d masks over %d corpus strings: the comparison proves little", masked, len(values))
	}
	t.Logf("%d corpus strings, %d masks, stock and guarded output identical", len(values), masked)
}
