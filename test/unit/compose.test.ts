// docker-compose.yml, checked without a Docker engine: `docker compose config` validates
// and normalises the file (the client alone does that), then the normalised JSON is checked
// for the promises the stack makes: every long-running service has a health check, every
// dependency waits for health, ports are published on loopback only, the audit file and
// queue live on named volumes, and the env vars set the placeholders the collector and
// Jaeger configs actually read.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { skipUnlessAvailable } from '../support/tools.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
type Json = Record<string, any>;

const docker = spawnSync('docker', ['--version'], { encoding: 'utf8' });
const compose = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
const noCompose = skipUnlessAvailable(
  docker.error || docker.status !== 0
    ? 'the docker client is not installed'
    : compose.status !== 0 && 'the docker client has no compose plugin',
  '`docker compose config` needs the client and its compose plugin, no engine; .ci/run installs both, `bash docker/install-compose-plugin.sh` builds the plugin from its Go module',
);

const SERVICES = ['alertmanager', 'collector', 'demo', 'grafana', 'jaeger', 'prometheus', 'sink'];
/** One-shot services (run and exit): no health check expected. */
const ONE_SHOT = new Set(['demo']);

/** `${env:NAME:-default}` placeholders of a collector/Jaeger config file. */
function placeholders(file: string): Set<string> {
  const text = readFileSync(join(root, file), 'utf8');
  return new Set([...text.matchAll(/\$\{env:([A-Z0-9_]+)/g)].map((m) => m[1]!));
}

describe('docker-compose.yml', { skip: noCompose }, () => {
  let config: Json;

  before(() => {
    const quiet = spawnSync('docker', ['compose', '-f', 'docker-compose.yml', 'config', '--quiet'], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(quiet.status, 0, `docker compose config --quiet failed:\n${quiet.stderr}`);
    const json = spawnSync('docker', ['compose', '-f', 'docker-compose.yml', 'config', '--format', 'json'], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(json.status, 0, json.stderr);
    config = JSON.parse(json.stdout);
  });

  it('has the whole stack: collector, Jaeger, Prometheus, Alertmanager, Grafana, sink, demo', () => {
    assert.deepEqual(Object.keys(config.services).sort(), SERVICES);
  });

  it('every long-running service has a health check', () => {
    for (const [name, s] of Object.entries<Json>(config.services)) {
      if (ONE_SHOT.has(name)) {
        assert.equal(s.restart, 'no', `${name} runs once`);
        continue;
      }
      assert.ok(s.healthcheck?.test?.length > 1, `${name} has no health check`);
      assert.notEqual(s.healthcheck.disable, true, `${name} health check disabled`);
    }
  });

  it('every dependency waits for the other service to be healthy', () => {
    let edges = 0;
    for (const [name, s] of Object.entries<Json>(config.services)) {
      for (const [dep, d] of Object.entries<Json>(s.depends_on ?? {})) {
        edges++;
        assert.equal(d.condition, 'service_healthy', `${name} → ${dep}`);
        assert.ok(config.services[dep].healthcheck, `${name} waits for ${dep}, which has no health check`);
      }
    }
    assert.ok(edges >= 8, `only ${edges} dependencies`);
    const deps = (n: string) => Object.keys(config.services[n].depends_on ?? {}).sort();
    assert.deepEqual(deps('demo'), ['collector', 'prometheus']);
    assert.deepEqual(deps('grafana'), ['alertmanager', 'jaeger', 'prometheus']);
    assert.deepEqual(deps('collector'), ['jaeger', 'sink']);
  });

  it('publishes ports on 127.0.0.1 only', () => {
    let count = 0;
    for (const [name, s] of Object.entries<Json>(config.services)) {
      for (const p of s.ports ?? []) {
        count++;
        assert.equal(
          p.host_ip,
          '127.0.0.1',
          `${name} publishes ${p.target} on ${p.host_ip ?? 'every interface'}`,
        );
      }
    }
    const published = (n: string) =>
      (config.services[n].ports ?? []).map((p: Json) => p.target).sort((a: number, b: number) => a - b);
    assert.deepEqual(published('collector'), [4317, 4318, 8889]);
    assert.deepEqual(published('jaeger'), [16686]);
    assert.deepEqual(published('prometheus'), [9090]);
    assert.deepEqual(published('grafana'), [3000]);
    assert.ok(count >= 7);
  });

  it('keeps the audit file, the persistent queue and the evidence log on named volumes', () => {
    const named = (n: string) =>
      Object.fromEntries(
        (config.services[n].volumes ?? [])
          .filter((v: Json) => v.type === 'volume')
          .map((v: Json) => [v.target, v.source]),
      );
    const collector = named('collector');
    const env = config.services.collector.environment;
    const audit = env.MCP_AUDIT_AUDIT_FILE as string;
    const queue = env.MCP_AUDIT_STORAGE_DIR as string;
    assert.ok(
      Object.keys(collector).some((t) => audit.startsWith(t + '/')),
      `audit file ${audit} is not on a named volume`,
    );
    assert.ok(collector[queue], `queue dir ${queue} is not a named volume`);
    assert.ok(Object.keys(named('sink')).length === 1);
    assert.ok(Object.keys(named('demo')).length === 1);
    for (const v of ['collector-audit', 'collector-queue', 'sink-evidence', 'demo-audit'])
      assert.ok(config.volumes[v], v);
  });

  it('sets only placeholders that collector/config.yaml and jaeger/config.yaml read, on all interfaces in the network', () => {
    const collectorVars = placeholders('collector/config.yaml');
    const env: Json = config.services.collector.environment;
    for (const k of Object.keys(env))
      assert.ok(collectorVars.has(k), `collector/config.yaml has no \${env:${k}}`);
    for (const k of [
      'MCP_AUDIT_OTLP_GRPC_ENDPOINT',
      'MCP_AUDIT_OTLP_HTTP_ENDPOINT',
      'MCP_AUDIT_PROMETHEUS_ENDPOINT',
      'MCP_AUDIT_HEALTH_ENDPOINT',
    ]) {
      assert.match(env[k], /^0\.0\.0\.0:\d+$/, `${k} must listen beyond the container's loopback`);
    }
    assert.equal(env.MCP_AUDIT_JAEGER_OTLP_ENDPOINT, 'jaeger:14317');
    const jaegerVars = placeholders('jaeger/config.yaml');
    const jenv: Json = config.services.jaeger.environment;
    for (const k of Object.keys(jenv)) assert.ok(jaegerVars.has(k), `jaeger/config.yaml has no \${env:${k}}`);
    // health checks probe the ports the env vars open
    assert.ok(
      config.services.collector.healthcheck.test
        .join(' ')
        .includes(`:${env.MCP_AUDIT_HEALTH_ENDPOINT.split(':')[1]}/`),
    );
    assert.ok(
      config.services.jaeger.healthcheck.test
        .join(' ')
        .includes(`:${jenv.JAEGER_HEALTH_ENDPOINT.split(':')[1]}/`),
    );
    // the sink the collector exports to is the sink service
    assert.equal(env.MCP_AUDIT_SINK_ENDPOINT, 'http://sink:4320');
  });

  it('the demo exports to the collector, and Prometheus scrapes the collector and loads collector/rules', () => {
    const demo = config.services.demo;
    assert.equal(demo.environment.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://collector:4318');
    assert.equal(demo.command[0], 'demo');
    const prom = config.services.prometheus;
    const rules = prom.volumes.find((v: Json) => v.target === '/etc/prometheus/rules');
    assert.equal(rules?.source, join(root, 'collector/rules'));
    const promYml = readFileSync(join(root, 'docker/prometheus.yml'), 'utf8');
    const port = config.services.collector.environment.MCP_AUDIT_PROMETHEUS_ENDPOINT.split(':')[1];
    assert.ok(promYml.includes(`collector:${port}`), 'prometheus.yml scrapes the collector exporter port');
    assert.ok(promYml.includes('/etc/prometheus/rules/'), 'prometheus.yml loads the mounted rules');
    assert.ok(prom.command.includes('--enable-feature=exemplar-storage'));
  });

  it('docker/prometheus.yml is a valid Prometheus config (promtool check config)', (t) => {
    const r0 = spawnSync('promtool', ['--version']);
    const skip = skipUnlessAvailable(
      r0.status !== 0 && 'promtool is not installed',
      'Debian package prometheus; scripts/build.sh installs it',
    );
    if (skip) {
      t.skip(skip);
      return;
    }
    const r = spawnSync('promtool', ['check', 'config', join(root, 'docker/prometheus.yml')], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });

  it('Grafana gets the provisioning and the dashboards', () => {
    const g = config.services.grafana;
    const binds = Object.fromEntries(
      g.volumes.filter((v: Json) => v.type === 'bind').map((v: Json) => [v.target, v.source]),
    );
    assert.equal(binds['/etc/grafana/provisioning'], join(root, 'dashboards/provisioning'));
    assert.equal(binds['/var/lib/grafana/dashboards/mcp-audit'], join(root, 'dashboards/mcp-audit'));
  });

  it('names images without a registry host, and builds the collector, Jaeger and the package from this repository', () => {
    for (const [name, s] of Object.entries<Json>(config.services)) {
      const first = String(s.image).split('/')[0]!;
      assert.ok(
        !/[.:]/.test(first) || !String(s.image).includes('/'),
        `${name}: image ${s.image} names a registry host`,
      );
    }
    assert.equal(config.services.collector.build.dockerfile, 'docker/collector.Dockerfile');
    assert.equal(config.services.jaeger.build.dockerfile, 'docker/jaeger.Dockerfile');
    assert.equal(config.services.demo.build.dockerfile, 'docker/demo.Dockerfile');
    for (const f of ['collector', 'jaeger', 'demo']) {
      const text = readFileSync(join(root, `docker/${f}.Dockerfile`), 'utf8');
      for (const m of text.matchAll(/^FROM\s+(\S+)/gm))
        assert.ok(!/^[^/]*[.:][^/]*\//.test(m[1]!), `${f}: FROM ${m[1]}`);
    }
  });
});

describe('docker-compose.yml, profile scale-out', { skip: noCompose }, () => {
  const SCALE_OUT = [
    'agent',
    'gateway-1',
    'gateway-2',
    'thanos-query',
    'thanos-receive-1',
    'thanos-receive-2',
    'thanos-rule',
    'vm-node-1',
    'vm-node-2',
    'vmagent',
    'vmalert',
    'vmauth',
  ];
  let config: Json;

  before(() => {
    const args = ['compose', '-f', 'docker-compose.yml', '--profile', 'scale-out', 'config'];
    const quiet = spawnSync('docker', [...args, '--quiet'], { cwd: root, encoding: 'utf8' });
    assert.equal(
      quiet.status,
      0,
      `docker compose --profile scale-out config --quiet failed:\n${quiet.stderr}`,
    );
    const json = spawnSync('docker', [...args, '--format', 'json'], { cwd: root, encoding: 'utf8' });
    assert.equal(json.status, 0, json.stderr);
    config = JSON.parse(json.stdout);
  });

  it('adds the gateways, the agent and the store to the whole stack, only under the profile', () => {
    assert.deepEqual(Object.keys(config.services).sort(), [...SERVICES, ...SCALE_OUT].sort());
    for (const name of SCALE_OUT) assert.deepEqual(config.services[name].profiles, ['scale-out'], name);
  });

  it('every service of the profile has a health check, waits for healthy dependencies, publishes on loopback', () => {
    for (const name of SCALE_OUT) {
      const s = config.services[name];
      assert.ok(s.healthcheck?.test?.length > 1, `${name} has no health check`);
      for (const [dep, d] of Object.entries<Json>(s.depends_on ?? {})) {
        assert.equal(d.condition, 'service_healthy', `${name} → ${dep}`);
        assert.ok(config.services[dep].healthcheck, `${name} waits for ${dep}, which has no health check`);
      }
      for (const p of s.ports ?? []) assert.equal(p.host_ip, '127.0.0.1', `${name} publishes ${p.target}`);
    }
    const hostPorts = Object.values<Json>(config.services).flatMap((s) =>
      (s.ports ?? []).map((p: Json) => Number(p.published)),
    );
    assert.equal(new Set(hostPorts).size, hostPorts.length, `a host port is published twice: ${hostPorts}`);
  });

  it('the agent balances over both gateways, which run config.yaml + scale-out.yaml and push to vmagent', () => {
    const env = (n: string): Json => config.services[n].environment;
    const agent = config.services.agent;
    assert.deepEqual(agent.command, ['--config', '/etc/otelcol-mcp/gateway.yaml']);
    const gatewayVars = placeholders('collector/gateway.yaml');
    for (const k of Object.keys(env('agent')))
      assert.ok(gatewayVars.has(k), `gateway.yaml has no \${env:${k}}`);
    const vars = new Set([
      ...placeholders('collector/config.yaml'),
      ...placeholders('collector/scale-out.yaml'),
    ]);
    const names = new Set<string>();
    for (const [i, g] of ['gateway-1', 'gateway-2'].entries()) {
      const s = config.services[g];
      assert.deepEqual(s.command, [
        '--config',
        '/etc/otelcol-mcp/config.yaml',
        '--config',
        '/etc/otelcol-mcp/scale-out.yaml',
      ]);
      const binds = s.volumes.filter((v: Json) => v.type === 'bind').map((v: Json) => v.source);
      assert.ok(binds.includes(join(root, 'collector/scale-out.yaml')), `${g} mounts the overlay`);
      for (const k of Object.keys(env(g)))
        assert.ok(vars.has(k), `config.yaml + scale-out.yaml have no \${env:${k}}`);
      assert.equal(env(g).MCP_AUDIT_REMOTE_WRITE_ENDPOINT, 'http://vmagent:8429/api/v1/write');
      const grpcPort = String(env(g).MCP_AUDIT_OTLP_GRPC_ENDPOINT).split(':')[1];
      assert.equal(env('agent')[`MCP_AUDIT_GATEWAY_${i + 1}`], `${g}:${grpcPort}`);
      names.add(env(g).MCP_AUDIT_GATEWAY_NAME);
      // Own audit file and queue per gateway.
      const volumes = s.volumes.filter((v: Json) => v.type === 'volume').map((v: Json) => v.source);
      assert.deepEqual(volumes.sort(), [`${g}-audit`, `${g}-queue`]);
    }
    assert.equal(names.size, 2, 'each gateway labels its series with its own name');
  });

  it('vmagent writes to both nodes and the first Thanos receiver, vmauth reads from both nodes, vmalert runs collector/rules on vmauth', () => {
    const command = (n: string): string[] => config.services[n].command;
    assert.deepEqual(
      command('vmagent').filter((a) => a.startsWith('-remoteWrite.url=')),
      [
        '-remoteWrite.url=http://vm-node-1:8428/api/v1/write',
        '-remoteWrite.url=http://vm-node-2:8428/api/v1/write',
        '-remoteWrite.url=http://thanos-receive-1:19291/api/v1/receive',
      ],
    );
    const vmauth = readFileSync(join(root, 'docker/vmauth.yml'), 'utf8');
    for (const node of ['vm-node-1', 'vm-node-2']) {
      assert.ok(vmauth.includes(`http://${node}:8428/`), `vmauth.yml reads from ${node}`);
      assert.ok(command(node).includes('-search.minStalenessInterval=60m'), node);
      const data = config.services[node].volumes.find((v: Json) => v.type === 'volume');
      assert.equal(data?.source, `${node}-data`);
    }
    const vmalert = command('vmalert');
    assert.ok(vmalert.includes('-datasource.url=http://vmauth:8427'));
    assert.ok(vmalert.includes('-remoteWrite.url=http://vmagent:8429'));
    assert.ok(vmalert.includes('-rule=/etc/vmalert/rules/*.yml'));
    const rules = config.services.vmalert.volumes.find((v: Json) => v.target === '/etc/vmalert/rules');
    assert.equal(rules?.source, join(root, 'collector/rules'));
    for (const n of ['vm-node-1', 'vm-node-2', 'vmagent', 'vmauth', 'vmalert'])
      assert.match(config.services[n].image, /^victoriametrics\/[a-z-]+:v1\.151\.0$/, n);
  });

  it('the Thanos receivers share one hashring (replication factor 1), the querier reads both and the ruler, the ruler runs the generated rules through it', () => {
    const command = (n: string): string[] => config.services[n].command;
    const flag = (n: string, name: string): string[] =>
      command(n)
        .filter((a) => a.startsWith(`--${name}=`))
        .map((a) => a.slice(name.length + 3));
    const hashrings = JSON.parse(readFileSync(join(root, 'docker/thanos-hashrings.json'), 'utf8')) as Array<{
      endpoints: string[];
    }>;
    assert.deepEqual(
      hashrings.flatMap((h) => h.endpoints),
      ['thanos-receive-1:10901', 'thanos-receive-2:10901'],
    );
    for (const [i, r] of ['thanos-receive-1', 'thanos-receive-2'].entries()) {
      assert.equal(command(r)[0], 'receive');
      assert.deepEqual(flag(r, 'receive.local-endpoint'), [`${r}:10901`], `${r} is its own hashring entry`);
      assert.deepEqual(flag(r, 'receive.replication-factor'), ['1']);
      assert.deepEqual(flag(r, 'label'), [`receive_replica="${i + 1}"`]);
      assert.deepEqual(flag(r, 'receive.hashrings-file'), ['/etc/thanos/hashrings.json']);
      const hashringsMount = config.services[r].volumes.find(
        (v: Json) => v.target === '/etc/thanos/hashrings.json',
      );
      assert.equal(hashringsMount?.source, join(root, 'docker/thanos-hashrings.json'));
      const data = config.services[r].volumes.find((v: Json) => v.type === 'volume');
      assert.equal(data?.source, `${r}-data`);
      assert.deepEqual(flag(r, 'remote-write.address'), ['0.0.0.0:19291']);
    }
    assert.deepEqual(flag('thanos-query', 'endpoint-strict'), [
      'thanos-receive-1:10901',
      'thanos-receive-2:10901',
    ]);
    assert.deepEqual(flag('thanos-query', 'endpoint'), ['thanos-rule:10901']);
    assert.deepEqual(flag('thanos-query', 'query.replica-label'), ['receive_replica']);
    assert.deepEqual(flag('thanos-query', 'query.lookback-delta'), ['60m']);
    assert.deepEqual(flag('thanos-rule', 'query'), ['http://thanos-query:10902']);
    assert.deepEqual(flag('thanos-rule', 'rule-file'), ['/etc/thanos/rules/mcp-audit-alerts.yml']);
    const rules = config.services['thanos-rule'].volumes.find((v: Json) => v.target === '/etc/thanos/rules');
    assert.equal(rules?.source, join(root, 'collector/rules'));
    for (const n of ['thanos-receive-1', 'thanos-receive-2', 'thanos-query', 'thanos-rule'])
      assert.equal(config.services[n].image, 'thanosio/thanos:v0.41.0', n);
  });
});
