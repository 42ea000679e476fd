// The Grafana dashboards (dashboards/mcp-audit/*.json) are generated from typed code with
// @grafana/grafana-foundation-sdk (dashboards/src/). These tests prove, without a Grafana:
// - the committed JSON is exactly what the generator produces, and the generator type-checks
//   against the SDK's dashboard types (the SDK is generated from Grafana's own schema);
// - every datasource reference resolves to a datasource variable or a provisioned uid;
// - every PromQL expression parses (promtool check rules) and reads only contract metrics
//   and labels; every link points at an existing dashboard and variable.
// test/e2e/dashboard-queries.test.ts then runs every query against a real Prometheus and Jaeger.
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { skipUnlessAvailable } from '../support/tools.js';
import { CONTRACT_LABELS, CONTRACT_SERIES, UID } from '../../dashboards/src/common.js';
import { OUTPUT_DIR, dashboards, render } from '../../dashboards/src/generate.js';
import {
  dataLinks,
  jaegerSearches,
  labelNames,
  labelValuesSelector,
  logfmtToJson,
  panels,
  promQueries,
  seriesNames,
  substitute,
  variables,
} from '../../dashboards/src/queries.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const VALUES = { session_id: 'a3f8c', tool: 'db_query', service: 'mcp-audit-demo' };

type Json = Record<string, any>;

function committed(): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const f of readdirSync(OUTPUT_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    out[f] = JSON.parse(readFileSync(join(OUTPUT_DIR, f), 'utf8'));
  }
  return out;
}

function provisionedDatasources(): Json[] {
  const dir = join(root, 'dashboards/provisioning/datasources');
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap((f) => parseYaml(readFileSync(join(dir, f), 'utf8')).datasources ?? []);
}

/** Every { datasource: ... } reference in a dashboard, with where it is. */
function datasourceRefs(d: Json): { where: string; ref: Json }[] {
  const out: { where: string; ref: Json }[] = [];
  for (const p of panels(d)) {
    if (p.datasource) out.push({ where: `panel ${p.id}`, ref: p.datasource });
    for (const t of p.targets ?? [])
      if (t.datasource) out.push({ where: `panel ${p.id} ${t.refId}`, ref: t.datasource });
  }
  for (const v of variables(d))
    if (v.datasource) out.push({ where: `variable ${v.name}`, ref: v.datasource });
  for (const a of d.annotations?.list ?? [])
    if (a.datasource) out.push({ where: `annotation ${a.name}`, ref: a.datasource });
  return out;
}

function promtool(): string | undefined {
  const r = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? 'promtool' : undefined;
}

describe('dashboards', () => {
  const files = committed();

  it('commits exactly the three generated dashboards, byte for byte', () => {
    const generated = dashboards();
    assert.deepEqual(Object.keys(files).sort(), Object.keys(generated).sort());
    for (const [name, d] of Object.entries(generated)) {
      const text = readFileSync(join(OUTPUT_DIR, name), 'utf8');
      assert.equal(
        text,
        render(d),
        `dashboards/mcp-audit/${name} is stale: run node --import tsx dashboards/src/generate.ts`,
      );
    }
    assert.deepEqual(
      Object.values(files)
        .map((d) => d.uid)
        .sort(),
      Object.values(UID).sort(),
    );
  });

  it('the generator type-checks against the foundation SDK dashboard types', () => {
    // tsc over dashboards/src: every builder call and every hand-written object
    // (data links, transformations, the Jaeger query) is checked against the SDK's types.
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'dashboards/tsconfig.json')], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
  });

  it('has the structure Grafana loads: schemaVersion, unique panel ids, panels inside the 24-column grid', () => {
    for (const [name, d] of Object.entries(files)) {
      assert.ok(Number.isInteger(d.schemaVersion) && d.schemaVersion >= 39, `${name}: schemaVersion`);
      assert.ok(
        d.title && d.uid && d.templating && d.annotations,
        `${name}: title/uid/templating/annotations`,
      );
      const ps = panels(d);
      const ids = ps.map((p) => p.id);
      assert.equal(new Set(ids).size, ids.length, `${name}: duplicate panel ids`);
      const cells = new Set<string>();
      for (const p of ps) {
        const g = p.gridPos;
        assert.ok(g && g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0, `${name}: panel ${p.id} gridPos`);
        for (let x = g.x; x < g.x + g.w; x++)
          for (let y = g.y; y < g.y + g.h; y++) {
            assert.ok(
              !cells.has(`${x},${y}`),
              `${name}: panel ${p.id} '${p.title}' overlaps another at ${x},${y}`,
            );
            cells.add(`${x},${y}`);
          }
        if (p.type === 'row') continue;
        assert.ok(p.title && p.description, `${name}: panel ${p.id} needs a title and a description`);
        assert.ok((p.targets ?? []).length > 0, `${name}: panel ${p.id} '${p.title}' has no query`);
        const refIds = p.targets.map((t: Json) => t.refId);
        assert.equal(new Set(refIds).size, refIds.length, `${name}: panel ${p.id} duplicate refIds`);
      }
    }
  });

  it('references datasources only through datasource variables whose defaults are provisioned', () => {
    const provisioned = provisionedDatasources();
    const byUid = new Map(provisioned.map((ds) => [ds.uid, ds.type]));
    assert.equal(byUid.get('prometheus'), 'prometheus');
    assert.equal(byUid.get('jaeger'), 'jaeger');
    for (const [name, d] of Object.entries(files)) {
      const dsVars = new Map(
        variables(d)
          .filter((v) => v.type === 'datasource')
          .map((v) => [v.name, v]),
      );
      for (const v of dsVars.values()) {
        assert.equal(
          byUid.get(v.current?.value),
          v.query,
          `${name}: variable ${v.name} default must be a provisioned ${v.query} uid`,
        );
      }
      const refs = datasourceRefs(d);
      assert.ok(refs.length > 0);
      for (const { where, ref } of refs) {
        const m = /^\$\{(\w+)\}$|^\$(\w+)$/.exec(ref.uid ?? '');
        assert.ok(
          m,
          `${name} ${where}: datasource ${JSON.stringify(ref)} is not a variable (dashboards must import into any Grafana)`,
        );
        const v = dsVars.get((m[1] ?? m[2])!);
        assert.ok(v, `${name} ${where}: no datasource variable ${ref.uid}`);
        assert.equal(
          ref.type,
          v.query,
          `${name} ${where}: ${ref.uid} is a ${v.query} variable, the ref says ${ref.type}`,
        );
      }
    }
  });

  it('every PromQL expression parses (promtool check rules, variables substituted)', (t) => {
    const tool = promtool();
    const skip = skipUnlessAvailable(
      !tool && 'promtool is not installed',
      'Debian package prometheus, which scripts/build.sh installs; test/e2e/dashboard-queries.test.ts still parses every query in a real Prometheus',
    );
    if (!tool) {
      t.skip(skip);
      return;
    }
    const queries = Object.entries(files).flatMap(([n, d]) => promQueries(n, d));
    // the trace → metrics query of the provisioned Jaeger datasource is PromQL too ($$ is the YAML escape of $)
    for (const ds of provisionedDatasources()) {
      for (const q of ds.jsonData?.tracesToMetrics?.queries ?? []) {
        queries.push({
          dashboard: 'provisioning',
          where: `${ds.name} tracesToMetrics '${q.name}'`,
          expr: q.query.replace(/\$\$/g, '$'),
          mayBeEmpty: false,
        });
      }
    }
    assert.ok(queries.length >= 40, `only ${queries.length} queries found`);
    const rules = queries.map((q, i) => {
      const expr = substitute(q.expr, VALUES);
      assert.ok(!expr.includes('$'), `${q.dashboard} ${q.where}: unsubstituted variable in ${expr}`);
      return { record: `dashboard:query_${i}`, expr };
    });
    const dir = mkdtempSync(join(tmpdir(), 'mcp-dashboards-'));
    try {
      const file = join(dir, 'queries.yml');
      writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard-queries', rules }] }, null, 2));
      const r = spawnSync(tool, ['check', 'rules', file], { encoding: 'utf8' });
      if (r.status !== 0) {
        const out = `${r.stdout}${r.stderr}`;
        const lines = queries
          .map((q, i) => `  query_${i}: ${q.dashboard} ${q.where}: ${rules[i]!.expr}`)
          .join('\n');
        assert.fail(`promtool rejected a dashboard query:\n${out}\n${lines}`);
      }
      assert.match(r.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads only contract metrics and labels', () => {
    for (const [name, d] of Object.entries(files)) {
      for (const q of promQueries(name, d)) {
        const series = seriesNames(q.expr);
        assert.ok(series.length > 0, `${name} ${q.where}: no series selected in ${q.expr}`);
        for (const s of series)
          assert.ok(CONTRACT_SERIES.includes(s), `${name} ${q.where}: ${s} is not a contract metric`);
        for (const l of labelNames(q.expr))
          assert.ok(CONTRACT_LABELS.includes(l), `${name} ${q.where}: label ${l} is not in the contract`);
      }
      for (const v of variables(d).filter((v) => v.type === 'query')) {
        assert.ok(
          CONTRACT_LABELS.includes(labelValuesSelector(v.query)!.label),
          `${name}: variable ${v.name}`,
        );
      }
      for (const p of panels(d)) {
        for (const t of p.targets ?? []) {
          for (const m of String(t.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
            assert.ok(CONTRACT_LABELS.includes(m[1]!), `${name} panel ${p.id}: legend label ${m[1]}`);
          }
        }
      }
    }
  });

  it('the self-checks of the query reader hold', () => {
    assert.deepEqual(
      seriesNames(
        'histogram_quantile(0.95, sum by (le, tool) (rate(mcp_audit_tool_call_duration_seconds_bucket{tool="x"}[5m])))',
      ),
      ['mcp_audit_tool_call_duration_seconds_bucket'],
    );
    assert.deepEqual(seriesNames('count(ALERTS{alertname=~"Mcp.*"}) or vector(0)'), ['ALERTS']);
    assert.deepEqual(seriesNames('sum(rate(a_total[1m])) / sum(rate(b_total[1m]))').sort(), [
      'a_total',
      'b_total',
    ]);
    assert.deepEqual(labelNames('sum by (tool, server) (x{caller="none", session_id=~"a,b"})').sort(), [
      'caller',
      'server',
      'session_id',
      'tool',
    ]);
    assert.deepEqual(logfmtToJson('gen_ai.conversation.id="a3f8c" enduser.id=user:sarah'), {
      'gen_ai.conversation.id': 'a3f8c',
      'enduser.id': 'user:sarah',
    });
    assert.equal(
      substitute('{s="$session_id"}[$__rate_interval] ${tool} [[server]]', VALUES),
      '{s="a3f8c"}[1m] db_query .*',
    );
  });

  it('covers the panels an operator needs: rates, errors, latency, sizes, top sessions, caller-less calls, firing alerts', () => {
    const exprs = (n: string) =>
      promQueries(n, files[n]!)
        .map((q) => q.expr)
        .join('\n');
    const overview = exprs('mcp-overview.json');
    assert.match(overview, /sum by \(tool, server\) \(rate\(mcp_audit_tool_calls_total/); // calls/s by tool & server
    assert.match(overview, /mcp_audit_tool_errors_total.*\/.*mcp_audit_tool_calls_total/); // error ratio
    // latency across sessions from the per-tool histogram (no session label: cheap at any scale)
    assert.match(overview, /histogram_quantile\(0\.5, .*tool_latency_seconds_bucket/);
    assert.match(overview, /histogram_quantile\(0\.95, .*tool_latency_seconds_bucket/);
    assert.doesNotMatch(overview, /tool_call_duration_seconds/);
    assert.match(overview, /sum by \(tool\) \(rate\(mcp_audit_result_bytes_total/);
    // top sessions: counted in the range, reset-aware (never the largest or a sum of counter values)
    assert.match(
      overview,
      /topk\(10, sum by \(session_id\) \(sum_over_time\(\(\(last_over_time\(mcp_audit_tool_calls_total/,
    );
    assert.match(
      overview,
      /topk\(10, sum by \(session_id\) \(sum_over_time\(\(\(last_over_time\(mcp_audit_result_bytes_total/,
    );
    assert.match(overview, /caller="none"/);
    assert.match(overview, /ALERTS\{alertname=~"Mcp\.\*", alertstate="firing"\}/);
    const session = files['mcp-session.json']!;
    assert.ok(variables(session).some((v) => v.name === 'session_id'));
    assert.match(exprs('mcp-session.json'), /session_id="\$session_id"/);
    const [search] = jaegerSearches('mcp-session.json', session);
    assert.ok(search, 'session dashboard has a Jaeger search');
    assert.deepEqual(logfmtToJson(search.tags), { 'gen_ai.conversation.id': '$session_id' });
    assert.ok(
      promQueries('mcp-session.json', session).length > 0 &&
        panels(session).some((p) => (p.targets ?? []).some((t: Json) => t.exemplar === true)),
      'session latency/size panels ask for exemplars',
    );
    assert.ok(variables(files['mcp-tool.json']!).some((v) => v.name === 'tool'));
    assert.match(exprs('mcp-tool.json'), /tool="\$tool"/);
  });

  it('the Jaeger search names a service variable fed by the session metrics', () => {
    for (const [name, d] of Object.entries(files)) {
      for (const s of jaegerSearches(name, d)) {
        const m = /^\$(\w+)$/.exec(s.service);
        assert.ok(m, `${name} ${s.where}: service must be a variable`);
        const v = variables(d).find((v) => v.name === m[1]);
        assert.ok(v, `${name} ${s.where}: no variable ${s.service}`);
        assert.match(v.query, /service_name\)$/);
        assert.match(v.query, /session_id="\$session_id"/);
      }
    }
  });

  it('links point at an existing dashboard and its variables', () => {
    const byUid = new Map(Object.values(files).map((d) => [d.uid, d]));
    let count = 0;
    for (const [name, d] of Object.entries(files)) {
      for (const l of dataLinks(name, d)) {
        count++;
        const m = /^\/d\/([\w-]+)\/[\w-]+\?(.*)$/.exec(l.url);
        assert.ok(m, `${name} ${l.where}: unexpected link ${l.url}`);
        const target = byUid.get(m[1]!);
        assert.ok(target, `${name} ${l.where}: no dashboard ${m[1]}`);
        const names = new Set(variables(target).map((v) => v.name));
        for (const part of m[2]!.split('&')) {
          const vm = /^var-(\w+)=/.exec(part);
          if (vm) assert.ok(names.has(vm[1]!), `${name} ${l.where}: ${target.uid} has no variable ${vm[1]}`);
        }
      }
    }
    assert.ok(count >= 8, `only ${count} links`);
  });
});

describe('dashboard provisioning', () => {
  it('the dashboard provider loads the folder docker-compose.yml mounts', () => {
    const dir = join(root, 'dashboards/provisioning/dashboards');
    const providers = readdirSync(dir).flatMap(
      (f) => parseYaml(readFileSync(join(dir, f), 'utf8')).providers,
    );
    assert.equal(providers.length, 1);
    assert.equal(providers[0].type, 'file');
    const compose = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
    assert.ok(
      compose.includes(`./dashboards/mcp-audit:${providers[0].options.path}:ro`),
      'compose mounts the provider path',
    );
  });

  it('the generator CLI --check agrees with the test', () => {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', join(root, 'dashboards/src/generate.ts'), '--check'],
      {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    assert.equal(out, '');
  });
});
