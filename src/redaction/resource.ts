// The resource a process exports, without the command line by default: `node app.mjs --api-key
// ghp_…` would otherwise ship the token in process.command_args. The detector list follows the
// SDK's OTEL_NODE_RESOURCE_DETECTORS (default service, host, process); the process detector's
// command attributes are dropped, or kept and redacted when MCP_AUDIT_RESOURCE_COMMAND_ARGS=true.

import type { Attributes } from '@opentelemetry/api';
import {
  hostDetector,
  osDetector,
  processDetector,
  serviceInstanceIdDetector,
  serviceNameEnvDetector,
  type ResourceDetector,
} from '@opentelemetry/resources';
import type { Redactor } from './redact.js';
import { COMMAND_ATTRIBUTES, redactAttributes } from './span-export.js';

export const ENV_RESOURCE_COMMAND_ARGS = 'MCP_AUDIT_RESOURCE_COMMAND_ARGS';

/** True when the user asked to keep the (redacted) command line on the resource. */
export function keepCommandLine(env: NodeJS.ProcessEnv): boolean {
  return /^(?:true|1|yes|on)$/i.test((env[ENV_RESOURCE_COMMAND_ARGS] ?? '').trim());
}

function redactingProcessDetector(redactor: Redactor, keep: boolean): ResourceDetector {
  return {
    detect(config) {
      const detected = processDetector.detect(config);
      const attributes = (detected.attributes ?? {}) as Attributes;
      return {
        attributes: redactAttributes(redactor, attributes, keep ? [] : COMMAND_ATTRIBUTES),
      };
    },
  };
}

/** The resource detectors to start the SDK with (see the module comment). */
export function auditResourceDetectors(env: NodeJS.ProcessEnv, redactor: Redactor): ResourceDetector[] {
  const names = (env.OTEL_NODE_RESOURCE_DETECTORS ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const chosen = names.length === 0 ? ['service', 'host', 'process'] : names;
  if (chosen.includes('none')) return [];
  const all = chosen.includes('all');
  const out: ResourceDetector[] = [];
  if (all || chosen.includes('host')) out.push(hostDetector, osDetector);
  if (all || chosen.includes('process')) out.push(redactingProcessDetector(redactor, keepCommandLine(env)));
  if (all || chosen.includes('service')) out.push(serviceInstanceIdDetector, serviceNameEnvDetector);
  return out;
}

/**
 * OTEL_RESOURCE_ATTRIBUTES, redacted, for the SDK's `resourceAttributes` (which take precedence
 * over the raw variable): only the entries redaction changed.
 */
export function redactedEnvResourceAttributes(env: NodeJS.ProcessEnv, redactor: Redactor): Attributes {
  const out: Attributes = {};
  for (const pair of (env.OTEL_RESOURCE_ATTRIBUTES ?? '').split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(pair.slice(0, eq).trim());
      value = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      continue;
    }
    const redacted = redactAttributes(redactor, { [key]: value })[key];
    if (redacted !== value) out[key] = redacted;
  }
  return out;
}
