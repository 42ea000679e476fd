// Reading the audit's copy of a JSON-RPC line. Nothing here touches the relayed bytes.

export type JsonRpcId = string | number;

export interface RpcRequest {
  kind: 'request';
  id: JsonRpcId;
  method: string;
  params?: Record<string, unknown> & { _meta?: Record<string, unknown> };
}
export interface RpcNotification {
  kind: 'notification';
  method: string;
  params?: Record<string, unknown>;
}
export interface RpcResponse {
  kind: 'response';
  id: JsonRpcId;
  result?: unknown;
  error?: { code?: unknown; message?: unknown; data?: unknown };
}
export type RpcMessage = RpcRequest | RpcNotification | RpcResponse;

/** One parsed line: a single message or a batch; `values` are the parsed objects, in order. */
export interface ParsedLine {
  batch: boolean;
  values: unknown[];
  messages: (RpcMessage | undefined)[];
}

function isId(value: unknown): value is JsonRpcId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function classify(value: unknown): RpcMessage | undefined {
  if (!isRecord(value)) return undefined;
  const { method, id } = value;
  const params = isRecord(value.params) ? (value.params as RpcRequest['params']) : undefined;
  if (typeof method === 'string') {
    if (isId(id)) return { kind: 'request', id, method, params };
    if (id === undefined) return { kind: 'notification', method, params };
    return undefined;
  }
  if (isId(id) && ('result' in value || 'error' in value)) {
    const error = isRecord(value.error) ? (value.error as RpcResponse['error']) : undefined;
    return { kind: 'response', id, result: value.result, error };
  }
  return undefined;
}

/** Parses a line; undefined when it is not JSON (such lines are relayed and counted). */
export function parseLine(line: Buffer): ParsedLine | undefined {
  // Cheap first test: JSON-RPC is an object or an array; anything else is a stray line.
  let i = 0;
  while (i < line.length && (line[i] === 0x20 || line[i] === 0x09)) i++;
  const first = line[i];
  if (first !== 0x7b && first !== 0x5b) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch {
    return undefined;
  }
  if (Array.isArray(value)) return { batch: true, values: value, messages: value.map(classify) };
  return { batch: false, values: [value], messages: [classify(value)] };
}

const ID = String.raw`(-?\d{1,15}|"(?:[^"\\]|\\.){0,200}")`;
// `{"jsonrpc":"2.0","id":…,"result"` (Python SDK, most servers) or `…,"jsonrpc":"2.0","id":…}` (the
// TypeScript SDK writes the result first).
const ID_FIRST = new RegExp(
  String.raw`^\s*\{\s*"jsonrpc"\s*:\s*"2\.0"\s*,\s*"id"\s*:\s*${ID}\s*,\s*"(?:result|error)"`,
);
const ID_LAST = new RegExp(String.raw`[}\]]\s*,\s*"jsonrpc"\s*:\s*"2\.0"\s*,\s*"id"\s*:\s*${ID}\s*\}\s*$`);

/**
 * The id of a response too large to parse, read from its first or last bytes in the key orders
 * the SDKs write; undefined otherwise (the call then ends when the connection does).
 */
export function oversizedResponseId(head: Buffer, tail: Buffer): JsonRpcId | undefined {
  const m = ID_FIRST.exec(head.toString('utf8')) ?? ID_LAST.exec(tail.toString('utf8'));
  if (!m) return undefined;
  try {
    return JSON.parse(m[1]!) as JsonRpcId;
  } catch {
    return undefined;
  }
}

/** Integers beyond 2^53 (and long fractions) do not survive JSON.parse/stringify unchanged. */
const LOSSY_NUMBER = /[0-9]{16,}/;

/** True when re-serialising this line's parsed value keeps every value it carries. */
export function reserialisable(line: Buffer): boolean {
  return !LOSSY_NUMBER.test(line.toString('latin1'));
}
