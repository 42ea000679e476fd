// Who an HTTP request is for. Two sources, both configured by the operator: a header that the
// gateway in front of the proxy sets after authenticating the user (trusted because only that
// gateway can reach the proxy), or a bearer token the proxy verifies itself. Anything else the
// client claims (its baggage) stays a propagated claim, never `enduser.id`. The Authorization
// header is read here and nowhere else; it is forwarded to the server unchanged by the relay.

import type { Attributes } from '@opentelemetry/api';
import type { IncomingHttpHeaders } from 'node:http';
import type { JwtVerifier } from './http-jwt.js';
import type { RequestScope } from './session.js';

/** Why a presented token gave no caller (`malformed`, `bad_signature`, `expired`, ...); never the token. */
const ATTR_CALLER_VERIFICATION = 'mcp_audit.caller.verification' as const;

export interface CallerSources {
  /** Lower-case name of the trusted header, e.g. `x-authenticated-user`. */
  header?: string;
  jwt?: JwtVerifier;
}

export interface IdentifiedCaller {
  caller?: RequestScope['authenticatedCaller'];
  /** Attributes describing the identification (a failed verification's reason). */
  attributes?: Attributes;
}

const NONE: IdentifiedCaller = {};

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const raw = headers[name];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  return value ? value.slice(0, 256) : undefined;
}

export function identifyCaller(headers: IncomingHttpHeaders, sources: CallerSources): IdentifiedCaller {
  if (sources.header) {
    const id = headerValue(headers, sources.header);
    if (id) return { caller: { id } };
  }
  if (!sources.jwt) return NONE;
  const authorization = headers.authorization;
  if (!authorization) return NONE;
  const bearer = /^Bearer[ \t]+(\S+)\s*$/i.exec(authorization);
  if (!bearer) return { attributes: { [ATTR_CALLER_VERIFICATION]: 'not_bearer' } };
  const result = sources.jwt.verify(bearer[1]!);
  if (!result.ok) return { attributes: { [ATTR_CALLER_VERIFICATION]: result.reason } };
  return { caller: result.identity, attributes: { [ATTR_CALLER_VERIFICATION]: 'verified' } };
}
