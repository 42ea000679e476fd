// The byte relay between an MCP client (our stdin/stdout) and the wrapped server (the child's
// stdin/stdout). Server → client: every chunk is written on as it arrives, then a copy is parsed.
// Client → server: each line is forwarded, unchanged, once complete; only two things ever change
// what the server receives: a request refused by policy (not forwarded; the client gets the
// JSON-RPC error instead) and trace context injected into a request that carries none (that one
// line is re-serialised from its parsed value, so its key order and spacing may differ; every
// other line keeps its bytes). The audit never throws into the relay: a failure there forwards
// the original bytes.

import type { Readable, Writable } from 'node:stream';
import { LineGate, LineTap } from './lines.js';
import { oversizedResponseId, parseLine, reserialisable, type ParsedLine } from './jsonrpc.js';
import type { ClientRequestDecision, Direction, ProxySession } from './session.js';

export interface RelayOptions {
  clientIn: Readable;
  clientOut: Writable;
  serverIn: Writable;
  serverOut: Readable;
  session: ProxySession | undefined;
  parseLimit: number;
  /** Diagnostics (stderr): never the protocol stream. */
  onAuditError: (err: unknown) => void;
  /** The client closed its side (stdin EOF) or cannot be written to any more. */
  onClientGone: (reason: string) => void;
}

export interface Relay {
  /** Resolves when the server's stdout has ended and everything it wrote was handed on. */
  serverDone: Promise<void>;
}

export function startRelay(options: RelayOptions): Relay {
  const { clientIn, clientOut, serverIn, serverOut, session } = options;
  const pendingAnswers: Buffer[] = [];

  const tap = new LineTap(options.parseLimit, {
    line: (line) => {
      if (session) audit(() => observe(session, 'to_client', line));
    },
    oversized: (bytes, head, tail) => {
      if (!session) return;
      session.stats.oversizedLines++;
      audit(() => {
        const id = oversizedResponseId(head, tail);
        if (id !== undefined) session.oversizedResponse('to_client', id, bytes);
      });
    },
  });

  // Content recording (redaction) of the requests in a chunk, run once the chunk is forwarded.
  const afterForward: (() => void)[] = [];
  const gate = new LineGate(
    options.parseLimit,
    (line, raw) => {
      if (!session) return raw;
      try {
        return decideClientLine(session, line, raw, (answer) => answerClient(answer), afterForward);
      } catch (err) {
        options.onAuditError(err);
        return raw;
      }
    },
    () => {
      if (session) session.stats.oversizedLines++;
    },
  );

  function audit(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      options.onAuditError(err);
    }
  }

  // A refusal is a whole line of its own; it may only enter the client's stream between two lines
  // of the server's output, never inside one.
  function answerClient(answer: Buffer): void {
    if (tap.atBoundary && pendingAnswers.length === 0) writeClient(answer);
    else pendingAnswers.push(answer);
  }

  let clientWritable = true;
  function writeClient(bytes: Buffer): boolean {
    if (!clientWritable) return true;
    return clientOut.write(bytes);
  }
  clientOut.on('error', (err: NodeJS.ErrnoException) => {
    clientWritable = false;
    options.onClientGone(`client output closed (${err.code ?? err.message})`);
  });

  serverOut.on('data', (chunk: Buffer) => {
    if (!writeClient(chunk)) {
      serverOut.pause();
      clientOut.once('drain', () => serverOut.resume());
    }
    tap.push(chunk);
    while (pendingAnswers.length > 0 && tap.atBoundary) writeClient(pendingAnswers.shift()!);
  });

  clientIn.on('data', (chunk: Buffer) => {
    const out = gate.push(chunk);
    if (out.length > 0) {
      const ok = serverIn.write(out.length === 1 ? out[0]! : Buffer.concat(out));
      if (!ok) {
        clientIn.pause();
        serverIn.once('drain', () => clientIn.resume());
      }
    }
    for (const record of afterForward.splice(0)) audit(record);
  });
  clientIn.on('end', () => {
    const rest = gate.flush();
    if (rest) serverIn.write(rest);
    options.onClientGone('client closed stdin');
  });
  clientIn.on('error', () => options.onClientGone('client input failed'));
  // The server may exit while we write to it: its exit is handled where the child is watched.
  serverIn.on('error', () => undefined);

  const serverDone = new Promise<void>((resolve) => {
    serverOut.on('end', () => {
      for (const answer of pendingAnswers.splice(0)) writeClient(answer);
      resolve();
    });
    serverOut.on('error', () => resolve());
    serverOut.on('close', () => resolve());
  });
  return { serverDone };
}

function lineEnding(line: Buffer, raw: Buffer): string {
  return raw.length - line.length === 2 ? '\r\n' : '\n';
}

/** Feeds every message of a line to the session (the direction is the line's). */
function observe(session: ProxySession, direction: Direction, line: Buffer): ClientRequestDecision[] {
  const parsed = parseLine(line);
  if (!parsed) {
    if (line.length > 0) session.stats.unparsedLines++;
    return [];
  }
  return observeParsed(session, direction, parsed);
}

function observeParsed(
  session: ProxySession,
  direction: Direction,
  parsed: ParsedLine,
): ClientRequestDecision[] {
  return parsed.messages.map((message, i) => {
    if (!message) return {};
    if (message.kind === 'request') {
      return session.request(direction, message, parsed.values[i] as Record<string, unknown>);
    }
    if (message.kind === 'response') session.response(direction, message);
    else if (message.method === 'notifications/cancelled')
      session.cancelled(direction, message.params?.requestId);
    return {};
  });
}

function decideClientLine(
  session: ProxySession,
  line: Buffer,
  raw: Buffer,
  answer: (bytes: Buffer) => void,
  afterForward: (() => void)[],
): Buffer | null {
  const parsed = parseLine(line);
  if (!parsed) {
    if (line.length > 0) session.stats.unparsedLines++;
    return raw;
  }
  const decisions = observeParsed(session, 'to_server', parsed);
  for (const d of decisions) if (d.content && !d.deny) afterForward.push(d.content);
  const denied = decisions.some((d) => d.deny);
  const rewritten = decisions.some((d) => d.rewrite);
  if (!denied && !rewritten) return raw;
  const ending = lineEnding(line, raw);
  for (const d of decisions) if (d.deny) answer(Buffer.from(`${JSON.stringify(d.deny)}${ending}`));
  // Injection is skipped when re-serialising could change a value (integers past 2^53); a refusal
  // is not: policy wins over byte fidelity.
  const useRewrites = reserialisable(line);
  if (!denied && !useRewrites) return raw;
  const values = parsed.values.flatMap((value, i) => {
    const d = decisions[i]!;
    if (d.deny) return [];
    return [useRewrites && d.rewrite ? d.rewrite : value];
  });
  if (values.length === 0) return null;
  const text = parsed.batch ? JSON.stringify(values) : JSON.stringify(values[0]);
  return Buffer.from(`${text}${ending}`);
}
