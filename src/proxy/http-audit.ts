// The audit side of the HTTP proxy: which ProxySession a request belongs to, and what the
// session makes of a request body and of the response messages. One MCP session (Mcp-Session-Id,
// or the legacy transport's sessionId) is one ProxySession, so ids are correlated within it and the
// server identity learned from its initialize result applies to its later calls. The spans
// themselves are made by ProxySession through the shared recorder, as for `wrap`.

import { type Attributes, type Tracer } from '@opentelemetry/api';
import type { Recorder } from '../instrumentation/recorder.js';
import { classify, oversizedResponseId, parseLine, reserialisable, type JsonRpcId } from './jsonrpc.js';
import { ProxySession, type Direction, type RequestScope } from './session.js';
import type { BodySink } from './http-sse.js';

export interface HttpAuditOptions {
  tracer: Tracer;
  recorder: Recorder;
  /** Attributes of every span: `network.transport`, `mcp_audit.proxy`, the target's address. */
  connection: Attributes;
  /** Configured audit session (flag or MCP_AUDIT_SESSION). */
  sessionId?: string;
  serverName?: string;
  inject: boolean;
  /** Bound on the sessions remembered; the least recently used is closed past it. */
  maxSessions?: number;
  onError: (err: unknown) => void;
}

/** What to do with a request body the audit has read. */
export interface BodyDecision {
  /** Bytes to forward instead of the original (trace context injected, refused requests removed). */
  rewritten?: Buffer;
  /** Nothing left to forward: answer the client with `denials` alone. */
  answerOnly: boolean;
  /** JSON-RPC errors for the requests refused by policy. */
  denials: Record<string, unknown>[];
  batch: boolean;
  /** Ids of the requests forwarded (to end their spans if the target cannot be reached). */
  forwardedIds: JsonRpcId[];
  /** Records the requests' content (redaction): run once the body is on its way. */
  afterForward: (() => void)[];
}

export class HttpAudit {
  private readonly sessions = new Map<string, ProxySession>();

  constructor(private readonly options: HttpAuditOptions) {}

  /** The session of `key` (an MCP or legacy session id), or a new one (registered when keyed). */
  session(key: string | undefined): ProxySession {
    if (key !== undefined) {
      const known = this.sessions.get(key);
      if (known) {
        // Most recently used last: the map's order is the eviction order.
        this.sessions.delete(key);
        this.sessions.set(key, known);
        return known;
      }
    }
    const { tracer, recorder, connection, sessionId, serverName, inject } = this.options;
    const session = new ProxySession({ tracer, recorder, connection, sessionId, serverName, inject });
    if (key !== undefined) this.adopt(key, session);
    return session;
  }

  /** The server named the session this request started (initialize's Mcp-Session-Id). */
  adopt(key: string, session: ProxySession): void {
    if (this.sessions.get(key) === session) return;
    this.sessions.set(key, session);
    if (this.sessions.size > (this.options.maxSessions ?? 1024)) {
      const [oldestKey, oldest] = this.sessions.entries().next().value as [string, ProxySession];
      this.sessions.delete(oldestKey);
      oldest.close('session evicted by the proxy (too many sessions)');
    }
  }

  /** The session ended (DELETE, or the server no longer knows it): calls still waiting end. */
  forget(key: string, reason: string): void {
    const session = this.sessions.get(key);
    if (!session) return;
    this.sessions.delete(key);
    session.close(reason);
  }

  close(reason: string): void {
    for (const session of this.sessions.values()) session.close(reason);
  }

  async settled(timeoutMs: number): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.settled(timeoutMs)));
  }

  /** Reads a POSTed JSON-RPC body (within the parse limit) and decides what is forwarded. */
  requestBody(session: ProxySession, body: Buffer, scope: RequestScope): BodyDecision {
    const decision: BodyDecision = {
      answerOnly: false,
      denials: [],
      batch: false,
      forwardedIds: [],
      afterForward: [],
    };
    const parsed = parseLine(body.subarray(skipLeadingBlank(body)));
    if (!parsed) {
      if (body.length > 0) session.stats.unparsedLines++;
      return decision;
    }
    decision.batch = parsed.batch;
    const kept: unknown[] = [];
    const keptOriginal: unknown[] = [];
    let rewrite = false;
    parsed.messages.forEach((message, i) => {
      const value = parsed.values[i];
      if (message?.kind === 'request') {
        const d = session.request('to_server', message, value as Record<string, unknown>, scope);
        if (d.deny) {
          decision.denials.push(d.deny);
          rewrite = true;
          return;
        }
        decision.forwardedIds.push(message.id);
        if (d.content) decision.afterForward.push(d.content);
        if (d.rewrite) rewrite = true;
        kept.push(d.rewrite ?? value);
        keptOriginal.push(value);
        return;
      }
      if (message?.kind === 'response') session.response('to_server', message);
      else if (message?.method === 'notifications/cancelled')
        session.cancelled('to_server', message.params?.requestId);
      kept.push(value);
      keptOriginal.push(value);
    });
    if (kept.length === 0) {
      decision.answerOnly = true;
      return decision;
    }
    // Injection is skipped when re-serialising could change a value; a refusal is not.
    if (!rewrite || (decision.denials.length === 0 && !reserialisable(body))) return decision;
    const values = reserialisable(body) ? kept : keptOriginal;
    decision.rewritten = Buffer.from(JSON.stringify(parsed.batch ? values : values[0]));
    return decision;
  }

  /** Where the copy of a response body goes: messages toward the client. */
  responseSink(session: ProxySession, scope: RequestScope, onEndpoint: (data: string) => void): BodySink {
    return {
      message: (data, eventType) =>
        this.guard(() => {
          if (eventType === 'endpoint') onEndpoint(data.toString('utf8').trim());
          else observeToClient(session, data, scope);
        }),
      oversized: (bytes, head, tail) =>
        this.guard(() => {
          session.stats.oversizedLines++;
          const id = oversizedResponseId(head, tail);
          if (id !== undefined) session.oversizedResponse('to_client', id, bytes);
        }),
    };
  }

  guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.options.onError(err);
    }
  }
}

function skipLeadingBlank(body: Buffer): number {
  let i = 0;
  while (i < body.length && (body[i] === 0x0a || body[i] === 0x0d)) i++;
  return i;
}

const TO_CLIENT: Direction = 'to_client';

function observeToClient(session: ProxySession, data: Buffer, scope: RequestScope): void {
  const parsed = parseLine(data.subarray(skipLeadingBlank(data)));
  if (!parsed) {
    if (data.length > 0) session.stats.unparsedLines++;
    return;
  }
  parsed.values.forEach((value, i) => {
    const message = parsed.messages[i] ?? classify(value);
    if (!message) return;
    if (message.kind === 'request') {
      session.request(TO_CLIENT, message, value as Record<string, unknown>, { connection: scope.connection });
    } else if (message.kind === 'response') session.response(TO_CLIENT, message);
    else if (message.method === 'notifications/cancelled')
      session.cancelled(TO_CLIENT, message.params?.requestId);
  });
}
