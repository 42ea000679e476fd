// Request and response bodies the HTTP proxy must see whole before it can act: a POSTed JSON-RPC
// body (held up to the parse limit, so that a request can be refused or given trace context), and
// the rare JSON answer to a batch one of whose requests the policy refused (the refusals are added
// to the target's answers).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { downstreamResponseHeaders } from './http-headers.js';

/** Reads a body up to `limit` bytes; past it, resolves with what was read and the rest unread (paused). */
export function collectBounded(
  req: IncomingMessage,
  limit: number,
): Promise<{ chunks: Buffer[]; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let held = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      held += chunk.length;
      if (held > limit) {
        req.pause();
        cleanup();
        resolve({ chunks, complete: false });
      }
    };
    const onEnd = () => {
      cleanup();
      resolve({ chunks, complete: true });
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** Policy refusals in a batch whose other requests the target answered with JSON or 202. */
export function mergeDenials(
  res: ServerResponse,
  answer: IncomingMessage,
  denials: Record<string, unknown>[],
  limit: number,
): void {
  const chunks: Buffer[] = [];
  let held = 0;
  answer.on('data', (chunk: Buffer) => {
    held += chunk.length;
    if (held <= limit) chunks.push(chunk);
  });
  answer.on('end', () => {
    let answers: unknown[] = [];
    if (held > 0 && held <= limit) {
      try {
        const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
        answers = Array.isArray(parsed) ? parsed : [parsed];
      } catch {
        answers = [];
      }
    }
    const json = JSON.stringify([...answers, ...denials]);
    const headers = downstreamResponseHeaders(answer.headers);
    delete headers['content-length'];
    res.writeHead(200, {
      ...headers,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(json),
    });
    res.end(json);
  });
}
