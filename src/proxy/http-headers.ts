// Headers across the HTTP proxy. End-to-end headers (Mcp-Session-Id, Mcp-Protocol-Version,
// Authorization, Last-Event-ID, Content-Type, Accept, ...) pass through unchanged in both
// directions; hop-by-hop headers (RFC 9110 section 7.6.1: Connection and the headers it names,
// Keep-Alive, Transfer-Encoding, TE, Upgrade, Proxy-*) belong to one connection and are dropped.
// Host names the target, as the target expects (servers that guard against DNS rebinding check it).

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function connectionListed(headers: IncomingHttpHeaders): Set<string> {
  const listed = new Set<string>();
  const value = headers.connection;
  if (typeof value === 'string') {
    for (const name of value.split(',')) if (name.trim()) listed.add(name.trim().toLowerCase());
  }
  return listed;
}

function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = connectionListed(headers);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Headers of the request toward the target. `bodyLength` is set when the proxy rewrote the body. */
export function upstreamRequestHeaders(
  headers: IncomingHttpHeaders,
  targetHost: string,
  peerAddress: string | undefined,
  bodyLength?: number,
): OutgoingHttpHeaders {
  const out = endToEnd(headers);
  out.host = targetHost;
  if (peerAddress) {
    const previous = headers['x-forwarded-for'];
    out['x-forwarded-for'] = previous ? `${String(previous)}, ${peerAddress}` : peerAddress;
  }
  if (bodyLength !== undefined) out['content-length'] = bodyLength;
  return out;
}

/** Headers of the response toward the client. */
export function downstreamResponseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  return endToEnd(headers);
}

/** A single-valued header (the first value of a repeated one), bounded. */
export function singleHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const raw = headers[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value ? value.slice(0, 256) : undefined;
}
