// One HTTP exchange through the proxy. The response is relayed chunk by chunk as the target writes
// it (an SSE stream reaches the client event by event) and the audit reads a copy afterwards. A
// POSTed JSON-RPC body is held until complete, up to the parse limit, for the two decisions the
// audit may take before it leaves (as the stdio relay holds a line): refuse a request (policy) or
// add trace context; a larger body is forwarded as it comes and left unread. Every other body
// (GET, DELETE, anything not JSON) streams straight through.

import { request as httpRequest, type Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Attributes } from '@opentelemetry/api';
import { ATTR_CLIENT_ADDRESS, ATTR_CLIENT_PORT, ATTR_MCP_SESSION_ID } from '../semconv.js';
import { identifyCaller, type CallerSources } from './http-caller.js';
import { downstreamResponseHeaders, singleHeader, upstreamRequestHeaders } from './http-headers.js';
import { collectBounded, mergeDenials } from './http-body.js';
import { JsonBodyTap, SseTap } from './http-sse.js';
import type { BodyDecision, HttpAudit } from './http-audit.js';
import type { ProxySession, RequestScope } from './session.js';

export interface ForwardOptions {
  target: URL;
  agent: Agent;
  /** Undefined: a plain relay (OTEL_SDK_DISABLED=true). */
  audit: HttpAudit | undefined;
  callers: CallerSources;
  parseLimit: number;
  onError: (message: string, err?: unknown) => void;
}

interface Exchange {
  session: ProxySession;
  scope: RequestScope;
  /** The session key this request was sent under, if any. */
  key: string | undefined;
  decision?: BodyDecision;
}

const UPSTREAM_FAILED = -32000;

function peerAddress(req: IncomingMessage): string | undefined {
  return req.socket.remoteAddress?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
}

/** The path at the target: a request for `/` goes to the target URL's own path, others keep theirs. */
function targetPath(target: URL, url: string | undefined): string {
  if (!url || url === '/') return `${target.pathname}${target.search}`;
  if (url.startsWith('/?')) return `${target.pathname}${url.slice(1)}`;
  return url;
}

function legacySessionParam(url: string | undefined): string | undefined {
  const query = url?.indexOf('?') ?? -1;
  if (query < 0) return undefined;
  return new URLSearchParams(url!.slice(query + 1)).get('sessionId')?.slice(0, 256) || undefined;
}

function isJson(contentType: string | undefined): boolean {
  return typeof contentType === 'string' && /^application\/([\w.+-]+\+)?json\b/i.test(contentType);
}

export function createForwarder(
  options: ForwardOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { target, audit } = options;
  const targetHost = target.host;

  function exchangeFor(req: IncomingMessage): Exchange | undefined {
    if (!audit) return undefined;
    const sessionHeader = singleHeader(req.headers, 'mcp-session-id');
    const legacy = sessionHeader ? undefined : legacySessionParam(req.url);
    const key = sessionHeader ? `mcp:${sessionHeader}` : legacy ? `sse:${legacy}` : undefined;
    const identified = identifyCaller(req.headers, options.callers);
    const connection: Attributes = { ...identified.attributes };
    const address = peerAddress(req);
    if (address) connection[ATTR_CLIENT_ADDRESS] = address;
    if (req.socket.remotePort !== undefined) connection[ATTR_CLIENT_PORT] = req.socket.remotePort;
    if (sessionHeader) connection[ATTR_MCP_SESSION_ID] = sessionHeader;
    const scope: RequestScope = {
      connection,
      transportSessionId: sessionHeader ?? legacy,
      authenticatedCaller: identified.caller,
    };
    return { session: audit.session(key), scope, key };
  }

  function send(
    req: IncomingMessage,
    res: ServerResponse,
    exchange: Exchange | undefined,
    body?: Buffer[],
    rest?: boolean,
  ): void {
    const decision = exchange?.decision;
    const replaced = decision?.rewritten;
    const headers = upstreamRequestHeaders(req.headers, targetHost, peerAddress(req), replaced?.length);
    if (replaced) delete headers['transfer-encoding'];
    const upstream = (target.protocol === 'https:' ? httpsRequest : httpRequest)({
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port || (target.protocol === 'https:' ? 443 : 80),
      method: req.method,
      path: targetPath(target, req.url),
      headers,
      agent: options.agent,
    });
    upstream.on('response', (answer) => {
      // The target dropped the connection mid-response: the client's connection drops too, and
      // the calls this request carried end as transport errors.
      const lost = () => {
        failForwarded(
          exchange,
          `mcp-audit proxy: the MCP server at ${target.origin} closed the connection mid-response`,
        );
        res.destroy();
      };
      answer.once('aborted', lost);
      answer.once('error', lost);
      relayResponse(req, res, answer, exchange);
    });
    upstream.on('error', (err) => upstreamFailed(res, exchange, err));
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    if (replaced) {
      upstream.end(replaced);
    } else if (body && !rest) {
      upstream.end(body.length === 1 ? body[0] : Buffer.concat(body));
    } else {
      for (const chunk of body ?? []) upstream.write(chunk);
      req.pipe(upstream);
      req.resume();
    }
    for (const record of decision?.afterForward ?? []) audit?.guard(record);
  }

  function relayResponse(
    req: IncomingMessage,
    res: ServerResponse,
    answer: IncomingMessage,
    exchange: Exchange | undefined,
  ): void {
    const status = answer.statusCode ?? 502;
    const contentType = singleHeader(answer.headers, 'content-type') ?? '';
    const stream = contentType.startsWith('text/event-stream');
    const tap =
      exchange && audit ? auditResponse(req, answer, exchange, status, stream, contentType) : undefined;
    const denials = exchange?.decision?.denials ?? [];
    if (denials.length > 0 && !stream) {
      mergeDenials(res, answer, denials, options.parseLimit);
    } else {
      res.writeHead(status, answer.statusMessage, downstreamResponseHeaders(answer.headers));
      for (const denial of denials) res.write(`event: message\ndata: ${JSON.stringify(denial)}\n\n`);
      corkPerTurn(answer, res);
      answer.pipe(res);
    }
    // Listening after `pipe` does: each chunk is written on to the client before the tap reads it.
    if (tap) {
      answer.on('data', (chunk: Buffer) => audit!.guard(() => tap.push(chunk)));
      answer.on('end', () => audit!.guard(() => tap.end()));
    }
  }

  function auditResponse(
    req: IncomingMessage,
    answer: IncomingMessage,
    exchange: Exchange,
    status: number,
    stream: boolean,
    contentType: string,
  ): SseTap | JsonBodyTap | undefined {
    const { session, scope, key } = exchange;
    const created = singleHeader(answer.headers, 'mcp-session-id');
    if (created && key === undefined) audit!.adopt(`mcp:${created}`, session);
    if (key && (status === 404 || (req.method === 'DELETE' && status < 300))) {
      audit!.forget(key, status === 404 ? 'session unknown to the server' : 'session deleted');
    }
    const sink = audit!.responseSink(session, scope, (endpoint) => {
      const legacy = legacySessionParam(endpoint);
      if (legacy) audit!.adopt(`sse:${legacy}`, session);
    });
    if (stream) return new SseTap(options.parseLimit, sink);
    return isJson(contentType) ? new JsonBodyTap(options.parseLimit, sink) : undefined;
  }

  /** Ends the calls a request carried whose responses never came (a no-op for answered ones). */
  function failForwarded(exchange: Exchange | undefined, message: string): void {
    for (const id of exchange?.decision?.forwardedIds ?? [])
      audit?.guard(() =>
        exchange!.session.response('to_client', {
          kind: 'response',
          id,
          error: { code: UPSTREAM_FAILED, message },
        }),
      );
  }

  function upstreamFailed(
    res: ServerResponse,
    exchange: Exchange | undefined,
    err: NodeJS.ErrnoException,
  ): void {
    const message = `mcp-audit proxy: the MCP server at ${target.origin} could not be reached (${err.code ?? err.message})`;
    failForwarded(exchange, message);
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const ids = exchange?.decision?.forwardedIds ?? [];
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: ids.length === 1 ? ids[0] : null,
      error: { code: UPSTREAM_FAILED, message },
    });
    res
      .writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
      .end(body);
  }

  return (req, res) => {
    // Either side may go away at any moment; that ends this exchange, never the proxy.
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    try {
      const exchange = exchangeFor(req);
      if (!exchange || req.method !== 'POST' || !isJson(req.headers['content-type'])) {
        send(req, res, exchange);
        return;
      }
      collectBounded(req, options.parseLimit).then(
        ({ chunks, complete }) => {
          if (!complete) {
            exchange.session.stats.oversizedLines++;
            send(req, res, exchange, chunks, true);
            return;
          }
          const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
          try {
            exchange.decision = audit!.requestBody(exchange.session, body, exchange.scope);
          } catch (err) {
            options.onError('audit error (request forwarded unchanged)', err);
          }
          if (exchange.decision?.answerOnly) {
            const denials = exchange.decision.denials;
            const json = JSON.stringify(exchange.decision.batch ? denials : denials[0]);
            res
              .writeHead(200, {
                'content-type': 'application/json',
                'content-length': Buffer.byteLength(json),
              })
              .end(json);
            return;
          }
          send(req, res, exchange, [body]);
        },
        () => res.destroy(),
      );
    } catch (err) {
      options.onError('proxy error', err);
      if (!res.headersSent) res.writeHead(500).end();
    }
  };
}

/**
 * Chunks that arrive in one turn (an SSE event and the end of the stream, often one TCP read) leave
 * in one write: on loopback each write costs the sender the receiver's network processing too.
 */
function corkPerTurn(answer: IncomingMessage, res: ServerResponse): void {
  let corked = false;
  const uncork = () => {
    corked = false;
    res.uncork();
  };
  // Before pipe's own listener, so the cork is in place when pipe writes the chunk.
  answer.on('data', () => {
    if (corked) return;
    corked = true;
    res.cork();
    process.nextTick(uncork);
  });
}
