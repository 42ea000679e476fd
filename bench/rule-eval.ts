// Cost of alert expressions in a real Prometheus, per number of live sessions: a loopback target
// serves the collector's series for N synthetic sessions (exposition names and labels of the
// contract), Prometheus scrapes it and evaluates two groups side by side, the rules as generated
// now and as they were. Prints series count and /api/v1/rules evaluation times.
//   --rules latency   McpLatencySpike on the per-tool histogram against the per-session one;
//   --rules ordering  McpErrorThenRetry and McpDataThenEgress with their recording rules against
//                     one 1 s subquery over the whole window (the form before the recordings).
//
//   node --import tsx bench/rule-eval.ts --sessions 10000 --minutes 6
//   node --import tsx bench/rule-eval.ts --rules ordering --sessions 10000 --minutes 11
//   ... --only ordering-recorded   one group alone
//
// Measures only these two groups, not the whole alert file, the collector or the scrape path.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadThresholds } from '../scripts/generate-rules.js';
import { renderRules } from '../src/detection/rules/build.js';
import { DEFAULT_OPTIONS, ruleContext, type RuleContext } from '../src/detection/rules/rule.js';
import { dataThenEgress, errorThenRetry, orderingRecordings } from '../src/detection/rules/sequence-rules.js';
import { freePorts, REPO_ROOT, waitFor } from '../test/support/stack.js';

const { values: args } = parseArgs({
  options: {
    sessions: { type: 'string', default: '10000' },
    minutes: { type: 'string', default: '6' },
    interval: { type: 'string', default: '10' },
    rules: { type: 'string', default: 'latency' },
    // one group alone (its name), so the other does not compete for the cores
    only: { type: 'string' },
  },
});
const RULES = args.rules;
if (RULES !== 'latency' && RULES !== 'ordering') throw new Error(`--rules latency|ordering, not ${RULES}`);
const SESSIONS = Number(args.sessions);
const MINUTES = Number(args.minutes);
const INTERVAL_S = Number(args.interval);
const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const LE = [...BOUNDS.map(String), '+Inf'];
const TOOLS = [
  'db_query',
  'file_read',
  'file_write',
  'http_post',
  'slack_send',
  'email_send',
  'search',
  'report_export',
  'calendar',
  'crm_lookup',
];
const SERVERS = ['db', 'fs', 'web'];
const started = Date.now();

/** Calls of session i so far: one at start, one more every two minutes (staggered). */
const callsOf = (i: number, elapsedMs: number): number =>
  1 + Math.floor((elapsedMs + (i % 120) * 1000) / 120_000);

function exposition(): string {
  const elapsed = Date.now() - started;
  const out: string[] = [];
  const perTool = new Map<string, { labels: string; buckets: number[]; sum: number; count: number }>();
  out.push('# TYPE mcp_audit_tool_call_duration_seconds histogram');
  for (let i = 0; i < SESSIONS; i++) {
    const tool = TOOLS[i % TOOLS.length]!;
    const server = SERVERS[i % SERVERS.length]!;
    const base = `tool="${tool}",server="${server}",service_name="agent"`;
    const labels = `session_id="s-${i}",caller="user-${i % 50}",error_type="none",${base}`;
    const n = callsOf(i, elapsed);
    const bucket = i % BOUNDS.length; // every call of a session lands in one bucket
    for (let j = 0; j < LE.length; j++) {
      out.push(`mcp_audit_tool_call_duration_seconds_bucket{${labels},le="${LE[j]}"} ${j >= bucket ? n : 0}`);
    }
    const sum = n * BOUNDS[bucket]!;
    out.push(`mcp_audit_tool_call_duration_seconds_sum{${labels}} ${sum}`);
    out.push(`mcp_audit_tool_call_duration_seconds_count{${labels}} ${n}`);
    const agg = perTool.get(base) ?? { labels: base, buckets: LE.map(() => 0), sum: 0, count: 0 };
    for (let j = bucket; j < LE.length; j++) agg.buckets[j]! += n;
    agg.sum += sum;
    agg.count += n;
    perTool.set(base, agg);
  }
  out.push('# TYPE mcp_audit_tool_latency_seconds histogram');
  for (const a of perTool.values()) {
    for (let j = 0; j < LE.length; j++)
      out.push(`mcp_audit_tool_latency_seconds_bucket{${a.labels},le="${LE[j]}"} ${a.buckets[j]}`);
    out.push(`mcp_audit_tool_latency_seconds_sum{${a.labels}} ${a.sum}`);
    out.push(`mcp_audit_tool_latency_seconds_count{${a.labels}} ${a.count}`);
  }
  return out.join('\n') + '\n';
}

/**
 * The counters the ordering rules read: every session calls one tool (one call at start, one more
 * every two minutes); every tenth session also has a failed db_query (a new failure every five
 * minutes); data tools return 20,000 bytes a call; every twentieth data session found personal data.
 */
function orderingExposition(): string {
  const elapsed = Date.now() - started;
  const calls: string[] = ['# TYPE mcp_audit_tool_calls_total counter'];
  const errors: string[] = ['# TYPE mcp_audit_tool_errors_total counter'];
  const bytes: string[] = ['# TYPE mcp_audit_result_bytes_total counter'];
  const pii: string[] = ['# TYPE mcp_audit_pii_result_calls_total counter'];
  for (let i = 0; i < SESSIONS; i++) {
    const tool = TOOLS[i % TOOLS.length]!;
    const server = SERVERS[i % SERVERS.length]!;
    const who = `session_id="s-${i}",caller="user-${i % 50}",service_name="agent"`;
    const labels = `${who},tool="${tool}",server="${server}",error_type="none"`;
    const n = callsOf(i, elapsed);
    calls.push(`mcp_audit_tool_calls_total{${labels}} ${n}`);
    if (tool === 'db_query' || tool === 'file_read') {
      bytes.push(`mcp_audit_result_bytes_total{${labels}} ${n * 20000}`);
      if (i % 20 === 0) pii.push(`mcp_audit_pii_result_calls_total{${labels}} ${n}`);
    }
    if (i % 10 === 3) {
      const failed = `${who},tool="db_query",server="db",error_type="tool_error"`;
      const f = 1 + Math.floor((elapsed + (i % 300) * 1000) / 300_000);
      calls.push(`mcp_audit_tool_calls_total{${failed}} ${f}`);
      errors.push(`mcp_audit_tool_errors_total{${failed}} ${f}`);
    }
  }
  return [...calls, ...errors, ...bytes, ...pii].join('\n') + '\n';
}

/** The rules of a generated file after `rules:`, re-indented under another group. */
function groupBody(yaml: string): string {
  return yaml.slice(yaml.indexOf('    rules:\n') + '    rules:\n'.length).trimEnd();
}

/** The ordering alerts as generated (with their recordings) and by one subquery over the window. */
function orderingGroups(): string {
  const ctx = ruleContext(loadThresholds(), DEFAULT_OPTIONS);
  const alerts = (c: RuleContext) => [...errorThenRetry(c), ...dataThenEgress(c)];
  const recorded = renderRules(alerts(ctx), orderingRecordings(ctx));
  const subquery = renderRules(alerts({ ...ctx, orderingByWindowSubquery: true }));
  return `groups:\n  - name: ordering-recorded\n    rules:\n${groupBody(recorded)}\n  - name: ordering-subquery\n    rules:\n${groupBody(subquery)}\n`;
}

/** The generated McpLatencySpike rules, as they are and rewritten to the per-session histogram. */
function latencyGroups(): string {
  const file = readFileSync(join(REPO_ROOT, 'collector', 'rules', 'mcp-audit-alerts.yml'), 'utf8');
  const rules = file
    .split(/\n(?=      - alert: |      - record: |  - name: )/)
    .filter((r) => r.startsWith('      - alert: McpLatencySpike'));
  if (rules.length === 0) throw new Error('no McpLatencySpike in the rules file');
  const body = rules.join('\n');
  const before = body.replaceAll('mcp_audit_tool_latency_seconds', 'mcp_audit_tool_call_duration_seconds');
  return `groups:\n  - name: latency-per-tool\n    rules:\n${body}\n  - name: latency-per-session\n    rules:\n${before}\n`;
}

/** The group `name` of a rules file made by orderingGroups or latencyGroups. */
function onlyGroup(yaml: string, name: string): string {
  const group = yaml.split(/\n(?=  - name: )/).find((g) => g.startsWith(`  - name: ${name}\n`));
  if (!group) throw new Error(`no group ${name}`);
  return `groups:\n${group.trimEnd()}\n`;
}

interface RuleGroup {
  name: string;
  evaluationTime: number;
  rules: Array<{ name: string; evaluationTime: number }>;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rule-eval-'));
  const server = createServer((_req, res) => {
    res
      .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
      .end(RULES === 'ordering' ? orderingExposition() : exposition());
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const [promPort] = await freePorts(1);
  const groups = RULES === 'ordering' ? orderingGroups() : latencyGroups();
  writeFileSync(join(dir, 'rules.yml'), args.only ? onlyGroup(groups, args.only) : groups);
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: ${INTERVAL_S}s\n  scrape_timeout: ${INTERVAL_S}s\n  evaluation_interval: ${INTERVAL_S}s\nrule_files: [rules.yml]\nscrape_configs:\n  - job_name: load\n    static_configs: [{targets: ['${target}']}]\n  - job_name: self\n    static_configs: [{targets: ['127.0.0.1:${promPort}']}]\n`,
  );
  const prom = spawn(
    '/usr/bin/prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ],
    { stdio: 'ignore' },
  );
  const stop = (): void => {
    if (prom.exitCode === null) prom.kill('SIGTERM');
    server.close();
  };
  process.on('exit', stop);
  process.on('SIGINT', () => process.exit(130));
  const url = `http://127.0.0.1:${promPort}`;
  try {
    await waitFor(async () => (await fetch(`${url}/-/ready`)).ok, {
      timeoutMs: 60_000,
      message: 'Prometheus not ready',
    });
    await new Promise((r) => setTimeout(r, MINUTES * 60_000));
    const samples = new Map<string, number[]>();
    const perRule = new Map<string, number[]>();
    for (let k = 0; k < 6; k++) {
      const body = (await (await fetch(`${url}/api/v1/rules`)).json()) as { data: { groups: RuleGroup[] } };
      for (const g of body.data.groups) {
        samples.set(g.name, [...(samples.get(g.name) ?? []), g.evaluationTime]);
        g.rules.forEach((r, j) => {
          const key = `${g.name} #${j + 1} ${r.name}`;
          perRule.set(key, [...(perRule.get(key) ?? []), r.evaluationTime]);
        });
      }
      await new Promise((r) => setTimeout(r, INTERVAL_S * 1000));
    }
    const q = async (expr: string): Promise<string> => {
      const body = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as {
        data: { result: Array<{ value: [number, string] }> };
      };
      return body.data.result[0]?.value[1] ?? 'n/a';
    };
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(
      `sessions ${SESSIONS}, ${MINUTES} min of data, scrape and evaluation every ${INTERVAL_S}s, --rules ${RULES}`,
    );
    console.log(`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    console.log(`head series ${await q('prometheus_tsdb_head_series')}`);
    const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${prom.pid}/status`, 'utf8'))?.[1];
    console.log(`Prometheus RSS ${rss ? Math.round(Number(rss) / 1024) : 'n/a'} MiB`);
    console.log(`scrape duration ${Number(await q('scrape_duration_seconds{job="load"}')).toFixed(3)} s`);
    for (const g of samples.keys())
      console.log(
        `${g}: missed iterations ${await q(`sum(prometheus_rule_group_iterations_missed_total{rule_group=~".*;${g}"})`)}`,
      );
    for (const [name, xs] of samples) {
      console.log(
        `${name}: evaluation ${median(xs).toFixed(4)} s (median of ${xs.length}; ${xs.map((x) => x.toFixed(4)).join(' ')})`,
      );
    }
    for (const [name, xs] of perRule) console.log(`  ${name}: ${median(xs).toFixed(4)} s`);
    console.log(`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  } finally {
    stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
