import { context, createContextKey, type Context } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { ATTR_CLIENT_ADDRESS, ATTR_CLIENT_PORT } from '../semconv.js';

// The SDK hands request handlers the HTTP headers but not the peer's socket. The Node HTTP entry
// points of the server transports see the socket; they put its address on the context, which the
// request's async chain carries to `_onrequest`.
const PEER = createContextKey('mcp-audit http peer');

interface Peer {
  address?: string;
  port?: number;
}

interface NodeRequestLike {
  socket?: { remoteAddress?: string; remotePort?: number };
}

export type HttpEntryFn = (this: unknown, req: NodeRequestLike, ...rest: unknown[]) => Promise<unknown>;

/** Patch for `StreamableHTTPServerTransport.handleRequest` / `SSEServerTransport.handlePostMessage`. */
export function createHttpEntryPatch(isEnabled: () => boolean) {
  return (original: HttpEntryFn): HttpEntryFn =>
    function handleHttp(this: unknown, req: NodeRequestLike, ...rest: unknown[]) {
      let ctx: Context | undefined;
      try {
        if (isEnabled() && req?.socket) {
          const address = req.socket.remoteAddress?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
          ctx = context.active().setValue(PEER, { address, port: req.socket.remotePort } satisfies Peer);
        }
      } catch {
        ctx = undefined;
      }
      return ctx
        ? context.with(ctx, () => original.apply(this, [req, ...rest]))
        : original.apply(this, [req, ...rest]);
    };
}

export function peerAttributes(attrs: Attributes): void {
  const peer = context.active().getValue(PEER) as Peer | undefined;
  if (!peer) return;
  if (peer.address) attrs[ATTR_CLIENT_ADDRESS] = peer.address;
  if (typeof peer.port === 'number') attrs[ATTR_CLIENT_PORT] = peer.port;
}
