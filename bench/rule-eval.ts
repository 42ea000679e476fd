// Cost of the latency alert's expressions in a real Prometheus, per number of live sessions:
// a loopback target serves the collector's duration histograms for N synthetic sessions (the
// per-session one and the per-tool one, with the exposition names and labels of the contract),
// Prometheus scrapes it and evaluates two groups side by side: McpLatencySpike as generated now
// (per-tool histogram) and the same expressions over the per-session histogram (what the rule
// read before). Prints series count and /api/v1/rules evaluation times.
//
//   node --import tsx bench/rule-eval.ts --sessions 10000 --minutes 6
//
// Measures only these two groups, not the whole alert file, the collector or the scrape path.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePorts, REPO_ROOT, waitFor } from '../test/support/stack.js';

const { values: args } = parseArgs({
  options: {
    sessions: { type: 'string', default: '10000' },
    minutes: { type: 'string', default: '6' },
    interval: { type: 'string', default: '10' },
  },
});
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

/** The generated McpLatencySpike rules, as they are and rewritten to the per-session histogram. */
function latencyGroups(): string {
  const file = readFileSync(join(REPO_ROOT, 'collector', 'rules', 'mcp-audit-alerts.yml'), 'utf8');
  const rules = file
    .split(/\n(?=      - alert: )/)
    .filter((r) => r.startsWith('      - alert: McpLatencySpike'));
  if (rules.length === 0) throw new Error('no McpLatencySpike in the rules file');
  const body = rules.join('\n');
  const before = body.replaceAll('mcp_audit_tool_latency_seconds', 'mcp_audit_tool_call_duration_seconds');
  return `groups:\n  - name: latency-per-tool\n    rules:\n${body}\n  - name: latency-per-session\n    rules:\n${before}\n`;
}

interface RuleGroup {
  name: string;
  evaluationTime: number;
  rules: Array<{ name: string; evaluationTime: number }>;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rule-eval-'));
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(exposition());
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const [promPort] = await freePorts(1);
  writeFileSync(join(dir, 'rules.yml'), latencyGroups());
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
    for (let k = 0; k < 6; k++) {
      const body = (await (await fetch(`${url}/api/v1/rules`)).json()) as { data: { groups: RuleGroup[] } };
      for (const g of body.data.groups)
        samples.set(g.name, [...(samples.get(g.name) ?? []), g.evaluationTime]);
      await new Promise((r) => setTimeout(r, INTERVAL_S * 1000));
    }
    const q = async (expr: string): Promise<string> => {
      const body = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as {
        data: { result: Array<{ value: [number, string] }> };
      };
      return body.data.result[0]?.value[1] ?? 'n/a';
    };
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(`sessions ${SESSIONS}, ${MINUTES} min of data, scrape and evaluation every ${INTERVAL_S}s`);
    console.log(`head series ${await q('prometheus_tsdb_head_series')}`);
    const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${prom.pid}/status`, 'utf8'))?.[1];
    console.log(`Prometheus RSS ${rss ? Math.round(Number(rss) / 1024) : 'n/a'} MiB`);
    console.log(`scrape duration ${Number(await q('scrape_duration_seconds{job="load"}')).toFixed(3)} s`);
    console.log(`missed iterations ${await q('sum(prometheus_rule_group_iterations_missed_total)')}`);
    for (const [name, xs] of samples) {
      console.log(
        `${name}: evaluation ${median(xs).toFixed(4)} s (median of ${xs.length}; ${xs.map((x) => x.toFixed(4)).join(' ')})`,
      );
    }
  } finally {
    stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
