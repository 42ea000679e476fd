// What the demo shows of the Python path: a loopback OTLP/HTTP (JSON) listener that keeps the
// spans `mcp-audit wrap` exports, and the section that puts them next to wrap's own evidence
// records, call by call: the server's name and version as its initialize reply gave them, the
// transport, the outcome, and whether the span is the child of the agent's in-process span.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuditRecord } from '../evidence/record.js';
import { attributesToObject } from '../evidence/otlp-json.js';
import { formatBytes } from '../evidence/report.js';

export interface ListenedSpan {
  spanId: string;
  attributes: Record<string, unknown>;
}

export interface SpanListener {
  url: string;
  spans: ListenedSpan[];
  close(): Promise<void>;
}

/** Largest body kept; the demo's spans are a few KiB, anything bigger is not ours. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export async function startSpanListener(): Promise<SpanListener> {
  const spans: ListenedSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      try {
        if (req.url !== '/v1/traces' || size > MAX_BODY_BYTES) throw new Error('not a trace request');
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans?: { scopeSpans?: { spans?: { spanId: string; attributes?: unknown }[] }[] }[];
        };
        for (const rs of body.resourceSpans ?? [])
          for (const ss of rs.scopeSpans ?? [])
            for (const s of ss.spans ?? [])
              spans.push({ spanId: s.spanId, attributes: attributesToObject(s.attributes) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Where wrap's spans went when the demo did not listen to them itself. */
export type SpanSource = { spans: readonly ListenedSpan[] } | { exportedTo: string };

/**
 * The section's table: one line per tools/call wrap recorded. `agentRecords` are the agent's own
 * (in-process) records: a wrap span whose parent is one of them is the same call, seen twice.
 */
export function formatWrapCalls(
  wrapRecords: readonly AuditRecord[],
  agentRecords: readonly AuditRecord[],
  source: SpanSource,
): string {
  const agentSpans = new Set(agentRecords.map((r) => r.span_id));
  const bySpan = new Map(('spans' in source ? source.spans : []).map((s) => [s.spanId, s.attributes]));
  const header = [
    'TOOL',
    'OUTCOME',
    'BYTES',
    'SERVER (initialize)',
    'TRANSPORT',
    'SESSION',
    'CALLER',
    'PARENT',
  ];
  const rows = wrapRecords
    .filter((r) => r.method === 'tools/call')
    .map((r) => {
      const a = bySpan.get(r.span_id);
      const server = a
        ? [a['mcp_audit.server.name'], a['mcp_audit.server.version']].filter((v) => v !== undefined).join(' ')
        : (r.server_id ?? '-');
      return [
        r.tool_name ?? '-',
        r.error ? `error (${r.error})` : 'ok',
        formatBytes(r.result_size_bytes ?? 0),
        server,
        a ? String(a['network.transport'] ?? '-') : '-',
        r.session_id ?? '-',
        r.caller_identity ? `${r.caller_identity} (${r.caller_source ?? 'unknown'})` : '(none)',
        r.parent_span_id && agentSpans.has(r.parent_span_id) ? "agent's span" : (r.parent_span_id ?? 'none'),
      ];
    });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [line(header), ...rows.map(line)];
  if (!('spans' in source))
    out.push(`(server version and transport are on the spans, which went to ${source.exportedTo})`);
  return out.join('\n');
}
