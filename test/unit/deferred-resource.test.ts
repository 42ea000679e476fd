// The resource redaction runs when the resource is first read (by an exporter), not at start-up.
// Whatever it is read for, it must give exactly what the redaction at start-up gave: the same
// attributes, masked the same way, with the command line dropped, and nothing unredacted if the
// redaction fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  detectResources,
  hostDetector,
  osDetector,
  processDetector,
  resourceFromAttributes,
  serviceInstanceIdDetector,
  type Resource,
} from '@opentelemetry/resources';
import { deferredResource } from '../../src/otel-setup.js';
import { createRedactor } from '../../src/redaction/redact.js';
import { redactResource } from '../../src/redaction/span-export.js';

const TOKEN = 'ghp_16C7e42F292c6912E7710c838347Ae178B4a';

interface CorpusCase {
  value?: unknown;
}

/** String values of the secrets corpus, as resource attributes (an app can put anything there). */
function corpusAttributes(): Record<string, string> {
  const corpus = JSON.parse(
    readFileSync(new URL('../fixtures/secrets-corpus.json', import.meta.url), 'utf8'),
  ) as unknown;
  const { secrets, lookalikes } = corpus as { secrets: CorpusCase[]; lookalikes: CorpusCase[] };
  const out: Record<string, string> = {};
  [...secrets, ...lookalikes].forEach((c, i) => {
    if (typeof c.value === 'string') out[`app.attr.${i}`] = c.value;
  });
  return out;
}

function startResource(): Resource {
  return detectResources({
    detectors: [hostDetector, osDetector, processDetector, serviceInstanceIdDetector],
  }).merge(
    resourceFromAttributes({
      'service.name': 'agent',
      'process.command_args': ['node', 'app.mjs', '--api-key', TOKEN],
      'deployment.owner': 'sarah@example.com',
      ...corpusAttributes(),
    }),
  );
}

test('the deferred resource redaction gives what the redaction at start-up gives', () => {
  for (const keepCommandLine of [false, true]) {
    const filter = (r: Resource) => redactResource(createRedactor(), r, { keepCommandLine });
    const eager = filter(startResource());
    let runs = 0;
    const deferred = deferredResource(startResource(), (r) => {
      runs++;
      return filter(r);
    });
    assert.equal(runs, 0, 'nothing is redacted before the resource is read');
    assert.equal(deferred.asyncAttributesPending, false);
    const eagerAttributes = { ...eager.attributes };
    const deferredAttributes = { ...deferred.attributes };
    // Per process: the service instance id is random for each detection.
    delete eagerAttributes['service.instance.id'];
    delete deferredAttributes['service.instance.id'];
    assert.ok(Object.keys(eagerAttributes).length > 20, 'the corpus is on the resource');
    assert.deepEqual(deferredAttributes, eagerAttributes);
    assert.equal(runs, 1);
    assert.deepEqual(deferred.getRawAttributes(), Object.entries(deferred.attributes));
    assert.equal(runs, 1, 'redacted once');
    assert.equal(JSON.stringify(deferred.attributes).includes(TOKEN), false);
    assert.equal('process.command_args' in deferred.attributes, keepCommandLine);
  }
});

test('the deferred resource sees the attributes of start-up, not ones that settle later', async () => {
  let settle: (id: string) => void = () => {};
  const late = new Promise<string>((resolve) => (settle = resolve));
  const raw = detectResources({
    detectors: [{ detect: () => ({ attributes: { 'service.name': 's', 'host.id': late } }) }],
  });
  const deferred = deferredResource(raw, (r) => redactResource(createRedactor(), r));
  settle('machine-1');
  await raw.waitForAsyncAttributes?.();
  assert.deepEqual(deferred.attributes, { 'service.name': 's' });
  assert.equal(deferred.merge(resourceFromAttributes({ x: 'y' })).attributes.x, 'y');
});

test('a redaction that fails leaves the resource without attributes', () => {
  const deferred = deferredResource(resourceFromAttributes({ 'process.command_line': `x ${TOKEN}` }), () => {
    throw new Error('broken');
  });
  assert.deepEqual(deferred.attributes, {});
});
