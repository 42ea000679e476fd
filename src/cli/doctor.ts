// `mcp-audit doctor`: the MCP logging red-flag checklist as a live assessment of a deployment
// (Jaeger, Prometheus, collector config). Exit 0 below three red flags, 1 at three or more (a
// "significant logging gap"), 2 on usage errors. An unreachable endpoint is not a usage error: its
// checks are marked ? with the reason and count as ✗, because coverage nobody can see is not
// coverage (and a CI gate must not turn green when Prometheus is down).

import { GAP_THRESHOLD, runChecks, verdict } from '../doctor/checks.js';
import type { Check, Observations } from '../doctor/observations.js';
import { parseDuration } from '../doctor/duration.js';
import { readJaeger } from '../doctor/jaeger.js';
import { readPrometheus } from '../doctor/prometheus.js';
import { readPipeline, readScrapeInterval } from '../doctor/pipeline.js';
import { runPipelineChecks } from '../doctor/pipeline-checks.js';
import { endpoint, readMergedYaml, type Endpoint } from '../doctor/sources.js';
import { parse } from './args.js';
import { EXIT_FAILED, EXIT_OK, UsageError, type Command } from './command.js';

const usage = `Usage: mcp-audit doctor --prometheus URL --jaeger URL [options]

Assesses a deployment against the MCP logging red-flag checklist: each line is
✓ (in place), ✗ (red flag) or ? (could not be checked), with its evidence (counts and names;
argument values and caller ids are never printed).

  calls_recorded    tools/call spans in Jaeger and mcp_audit_tool_calls_total in Prometheus
  parameters        share of tools/call spans with gen_ai.tool.call.arguments
  caller_identity   share of spans with enduser.id, and of calls with caller!="none"
  result_size       share of spans with mcp_audit.result.size
  siem              a traces pipeline exports to something other than Jaeger, files or the
                    evidence sink (needs --collector-config)
  alert_rules       McpBulkExtraction, McpCallFrequencySpike, McpSensitiveToolWithoutCaller and
                    McpLatencySpike loaded in Prometheus (and evaluating)
  retention         Prometheus retention ≥ --app-retention (Jaeger in-memory storage is noted
                    when --jaeger-config is given)
  errors_recorded   failed tools/call spans carry error.type, or mcp_audit_tool_errors_total
                    exists (or the collector config counts errors)
  user_correlation  share of calls with both a caller and a session id
  latency_alerts    McpLatencySpike loaded in Prometheus

Pipeline health (after the checklist; it does not change the verdict): the collector's
self-telemetry is scraped, the receiver and the memory limiter refuse no spans, no exporter
fails or drops spans at a full queue, queues stay below 80% full, no SDK counted lost spans
(mcp_audit_dropped_spans_total), and each --audit-file has no torn line (a crash mid-write).
Counts over the lookback are reset-aware: a collector restart does not lower them.

Verdict: three or more lines not ✓ is a significant logging gap. A ? counts as ✗: an endpoint
that cannot be reached, or a deployment with no recent calls, shows no coverage.

Options:
  --prometheus URL          Prometheus base URL, e.g. http://127.0.0.1:9090 (required)
  --jaeger URL              Jaeger query base URL, e.g. http://127.0.0.1:16686 (required)
                            user:password@ in a URL is sent as Basic auth, never printed
  --collector-config FILE   collector config; repeat to merge overlays in order, as the
                            collector does (e.g. collector/config.yaml collector/siem.yaml)
  --jaeger-config FILE      Jaeger v2 config, to tell whether traces are kept in memory
  --audit-file FILE         the collector's audit file (file/audit) to check for torn lines;
                            repeat for several
  --service NAME            only this service.name (default: every service Jaeger knows)
  --lookback DURATION       how far back to look at spans and counters (default 1h)
  --app-retention DURATION  the application logs' retention to compare with (default 30d)
  --min-share PERCENT       share of calls that must carry an attribute (default 90)
  --limit N                 traces fetched per service from Jaeger (default 500)
  --timeout DURATION        per-request timeout (default 5s)
  --json                    print a JSON object (checks, verdict, sources) for CI
  -h, --help                show this help

Durations: 90s, 15m, 1h, 30d, 2w, 1y (Prometheus style, combinable: 1h30m).
Exit status: 0 fewer than ${GAP_THRESHOLD} red flags, 1 ${GAP_THRESHOLD} or more (significant logging gap), 2 usage error.`;

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'assess a deployment (Jaeger, Prometheus, collector config) against the MCP logging red flags',
  usage,
  async run(argv) {
    const opts = options(argv);
    const [collector, jaegerConfig] = await Promise.all([
      opts.collectorConfig.length ? readConfig(opts.collectorConfig, '--collector-config') : undefined,
      opts.jaegerConfig.length ? readConfig(opts.jaegerConfig, '--jaeger-config') : undefined,
    ]);
    // The step of the reset-aware totals: exact across collector restarts at the scrape interval.
    const scrapeSeconds = await readScrapeInterval(opts.prometheus, opts.timeoutMs);
    const [jaeger, prometheus, pipelineData] = await Promise.all([
      readJaeger(opts.jaeger, {
        service: opts.service,
        lookbackMs: opts.lookbackSeconds * 1000,
        limit: opts.limit,
        timeoutMs: opts.timeoutMs,
      }),
      readPrometheus(opts.prometheus, {
        service: opts.service,
        lookback: opts.lookback,
        lookbackSeconds: opts.lookbackSeconds,
        scrapeSeconds,
        timeoutMs: opts.timeoutMs,
      }),
      readPipeline(opts.prometheus, {
        lookback: opts.lookback,
        lookbackSeconds: opts.lookbackSeconds,
        scrapeSeconds,
        timeoutMs: opts.timeoutMs,
        auditFiles: opts.auditFiles,
      }),
    ]);
    const observations: Observations = {
      lookback: opts.lookback,
      minShare: opts.minShare,
      appRetention: opts.appRetention,
      service: opts.service,
      jaeger,
      prometheus,
      collector: collector ? { files: opts.collectorConfig, config: collector } : undefined,
      jaegerConfig,
    };
    const checks = runChecks(observations);
    const pipeline = runPipelineChecks(pipelineData, opts.lookback);
    const v = verdict(checks);
    const sources = describeSources(opts, observations);
    if (opts.json) {
      const out = {
        command: 'mcp-audit doctor',
        generatedAt: new Date().toISOString(),
        lookback: opts.lookback,
        service: opts.service ?? null,
        appRetention: opts.appRetention.text,
        minShare: opts.minShare,
        sources,
        checks: checks.map((c) => ({ ...c, status: status(c) })),
        pipeline: pipeline.map((c) => ({ ...c, status: status(c) })),
        verdict: v,
      };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    } else process.stdout.write(formatText(checks, v, sources, opts.lookback, pipeline));
    return v.significantGap ? EXIT_FAILED : EXIT_OK;
  },
};

interface Options {
  prometheus: Endpoint;
  jaeger: Endpoint;
  collectorConfig: string[];
  jaegerConfig: string[];
  auditFiles: string[];
  service: string | undefined;
  lookback: string;
  lookbackSeconds: number;
  appRetention: { text: string; seconds: number };
  minShare: number;
  limit: number;
  timeoutMs: number;
  json: boolean;
}

function options(argv: string[]): Options {
  const { values } = parse(
    argv,
    {
      prometheus: { type: 'string' },
      jaeger: { type: 'string' },
      'collector-config': { type: 'string', multiple: true },
      'jaeger-config': { type: 'string', multiple: true },
      'audit-file': { type: 'string', multiple: true },
      service: { type: 'string' },
      lookback: { type: 'string', default: '1h' },
      'app-retention': { type: 'string', default: '30d' },
      'min-share': { type: 'string', default: '90' },
      limit: { type: 'string', default: '500' },
      timeout: { type: 'string', default: '5s' },
      json: { type: 'boolean', default: false },
    },
    false,
  );
  const url = (flag: 'prometheus' | 'jaeger'): Endpoint => {
    const raw = values[flag];
    if (raw === undefined || raw === '') throw new UsageError(`--${flag} URL is required`);
    try {
      return endpoint(raw);
    } catch (err) {
      // The reason only: the raw value may hold credentials.
      throw new UsageError(`--${flag} ${(err as Error).message}`);
    }
  };
  const duration = (flag: string, raw: string): number => {
    const s = parseDuration(raw);
    if (s === null) throw new UsageError(`${flag} must be a duration like 1h, 30d or 1h30m (got '${raw}')`);
    return s;
  };
  const lookbackSeconds = duration('--lookback', values.lookback);
  if (lookbackSeconds < 1) throw new UsageError('--lookback must be at least 1s');
  const appRetention = duration('--app-retention', values['app-retention']);
  const timeout = duration('--timeout', values.timeout);
  const minShare = Number(values['min-share']);
  if (!/^\d+(\.\d+)?$/.test(values['min-share']) || minShare <= 0 || minShare > 100)
    throw new UsageError('--min-share must be a percentage in (0, 100], e.g. 90');
  const limit = Number(values.limit);
  if (!/^\d+$/.test(values.limit) || limit < 1) throw new UsageError('--limit must be a positive integer');
  if (values.service === '') throw new UsageError('--service is empty');
  return {
    prometheus: url('prometheus'),
    jaeger: url('jaeger'),
    collectorConfig: values['collector-config'] ?? [],
    jaegerConfig: values['jaeger-config'] ?? [],
    auditFiles: values['audit-file'] ?? [],
    service: values.service,
    lookback: values.lookback,
    lookbackSeconds,
    appRetention: { text: values['app-retention'], seconds: appRetention },
    minShare: minShare / 100,
    limit,
    timeoutMs: Math.max(1, Math.round(timeout * 1000)),
    json: values.json,
  };
}

/** A config the user named that cannot be read is their mistake (exit 2), unlike a down endpoint. */
async function readConfig(files: string[], flag: string): Promise<Record<string, unknown>> {
  try {
    return await readMergedYaml(files);
  } catch (err) {
    throw new UsageError(`${flag} ${(err as Error).message}`);
  }
}

interface SourceLine {
  name: string;
  url: string;
  reachable: boolean | null;
  detail: string;
}

function describeSources(opts: Options, o: Observations): SourceLine[] {
  const j = o.jaeger;
  const version = o.prometheus.version;
  const lines: SourceLine[] = [
    {
      name: 'Jaeger',
      url: opts.jaeger.display,
      reachable: j.ok,
      detail: j.ok
        ? `${j.value.spans.length} tools/call span(s) in ${j.value.searched.length} searched service(s)${
            j.value.partialErrors.length
              ? `; ${j.value.partialErrors.length} service search(es) failed: ${j.value.partialErrors[0]}`
              : ''
          }`
        : `UNREACHABLE: ${j.error}`,
    },
    {
      name: 'Prometheus',
      url: opts.prometheus.display,
      reachable: version.ok,
      detail: version.ok ? `version ${version.value}` : `UNREACHABLE: ${version.error}`,
    },
    {
      name: 'Collector',
      url: '',
      reachable: null,
      detail: o.collector
        ? o.collector.files.join(' + ')
        : 'not given (--collector-config): the SIEM line is ?',
    },
  ];
  if (o.jaegerConfig)
    lines.push({ name: 'Jaeger config', url: '', reachable: null, detail: opts.jaegerConfig.join(' + ') });
  return lines;
}

function status(c: Check): 'pass' | 'fail' | 'unknown' {
  return c.ok === true ? 'pass' : c.ok === false ? 'fail' : 'unknown';
}

const MARK = { pass: '✓', fail: '✗', unknown: '?' } as const;

export function formatText(
  checks: Check[],
  v: ReturnType<typeof verdict>,
  sources: SourceLine[],
  lookback: string,
  pipeline: Check[] = [],
): string {
  const width = Math.max(...sources.map((s) => s.name.length));
  const out = [`mcp-audit doctor: MCP logging red-flag checklist, last ${lookback}`];
  for (const s of sources) out.push(`  ${s.name.padEnd(width)}  ${s.url ? `${s.url}  ` : ''}${s.detail}`);
  const down = sources.filter((s) => s.reachable === false).map((s) => s.name);
  if (down.length)
    out.push(
      `  (${down.join(' and ')} could not be read: the checks that need ${down.length > 1 ? 'them' : 'it'} are ?, counted as ✗)`,
    );
  out.push('');
  for (const c of checks) out.push(`${MARK[status(c)]} ${c.title} [${c.id}]`, `    ${c.evidence}`);
  if (pipeline.length) {
    out.push('', `Pipeline health, last ${lookback} (not part of the verdict):`);
    for (const c of pipeline) out.push(`${MARK[status(c)]} ${c.title} [${c.id}]`, `    ${c.evidence}`);
  }
  out.push('', `${v.passed} ✓, ${v.failed} ✗, ${v.unknown} ?`, `Verdict: ${v.text}`);
  return `${out.join('\n')}\n`;
}
