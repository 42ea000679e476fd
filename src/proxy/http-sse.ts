// Copies of HTTP response bodies for the audit. The bytes were relayed to the client already; these
// only reassemble what the audit reads, up to a parse limit, so a stream of any length is never
// held: Server-Sent Events are cut into events as they arrive (each event's data is one JSON-RPC
// message), a JSON body is kept until it ends. Past the limit only the first and last bytes are
// kept, enough to read a response's id.

const NL = 0x0a;
const EDGE_BYTES = 512;

export interface BodySink {
  /** A complete message body (an SSE event's data, or a whole JSON body) within the limit. */
  message(data: Buffer, eventType: string): void;
  /** A message over the limit ended: its length and its first and last bytes. */
  oversized(bytes: number, head: Buffer, tail: Buffer): void;
}

/** Keeps a bounded copy: whole up to `limit`, then only the edges and the count. */
class BoundedCopy {
  private parts: Buffer[] = [];
  private held = 0;
  private over = -1;
  private head = Buffer.alloc(0);
  private tail = Buffer.alloc(0);

  constructor(private readonly limit: number) {}

  get empty(): boolean {
    return this.held === 0 && this.over < 0;
  }

  add(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.over >= 0) {
      this.over += piece.length;
      this.keepTail(piece);
      return;
    }
    if (this.held + piece.length <= this.limit) {
      this.parts.push(Buffer.from(piece));
      this.held += piece.length;
      return;
    }
    const all = Buffer.concat([...this.parts, piece]);
    this.head = Buffer.from(all.subarray(0, EDGE_BYTES));
    this.tail = Buffer.alloc(0);
    this.keepTail(all);
    this.over = all.length;
    this.parts = [];
    this.held = 0;
  }

  /** Hands the copy to the sink and starts afresh. */
  end(sink: BodySink, eventType: string): void {
    if (this.over >= 0) sink.oversized(this.over, this.head, this.tail);
    else if (this.held > 0) sink.message(Buffer.concat(this.parts, this.held), eventType);
    this.parts = [];
    this.held = 0;
    this.over = -1;
  }

  private keepTail(piece: Buffer): void {
    const joined = Buffer.concat([this.tail, piece.subarray(-EDGE_BYTES)]);
    this.tail = Buffer.from(joined.subarray(-EDGE_BYTES));
  }
}

/** A JSON body: one message (or batch) when the response ends. */
export class JsonBodyTap {
  private readonly copy: BoundedCopy;
  constructor(
    limit: number,
    private readonly sink: BodySink,
  ) {
    this.copy = new BoundedCopy(limit);
  }
  push(chunk: Buffer): void {
    this.copy.add(chunk);
  }
  end(): void {
    this.copy.end(this.sink, 'message');
  }
}

/**
 * An event stream (text/event-stream): `data:` lines joined by newlines make an event's data,
 * `event:` names its type, a blank line ends it. Lines end in LF or CRLF (what MCP servers write;
 * a lone CR as the only line ending is not recognised, so such a stream is relayed unread).
 */
export class SseTap {
  private readonly data: BoundedCopy;
  private line: Buffer[] = [];
  private lineBytes = 0;
  /** The current line is a `data:` line past the point where its field name was read. */
  private inData = false;
  private lineOverflow = false;
  private eventType = '';
  private dataLines = 0;

  constructor(
    limit: number,
    private readonly sink: BodySink,
  ) {
    this.data = new BoundedCopy(limit);
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NL, start);
      const end = nl < 0 ? chunk.length : nl;
      this.addToLine(chunk.subarray(start, end));
      if (nl < 0) break;
      this.endLine();
      start = nl + 1;
    }
  }

  /** The stream ended: an event without its blank line is not dispatched (as EventSource does). */
  end(): void {
    this.line = [];
    this.lineBytes = 0;
  }

  private addToLine(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.inData) {
      this.data.add(piece);
      return;
    }
    if (this.lineOverflow) return;
    this.line.push(Buffer.from(piece));
    this.lineBytes += piece.length;
    const head = this.line.length === 1 ? this.line[0]! : Buffer.concat(this.line, this.lineBytes);
    if (head.length >= 5 && head.subarray(0, 5).toString('latin1') === 'data:') {
      // From here the line's bytes are the event's data: stream them into the bounded copy.
      if (this.dataLines > 0) this.data.add(Buffer.from('\n'));
      this.dataLines++;
      const skip = head.length > 5 && head[5] === 0x20 ? 6 : 5;
      this.inData = true;
      this.line = [];
      this.lineBytes = 0;
      this.data.add(head.subarray(skip));
    } else if (this.lineBytes > EDGE_BYTES) {
      // Not a data line and long: nothing the audit reads (event names and ids are short).
      this.lineOverflow = true;
      this.line = [];
      this.lineBytes = 0;
    }
  }

  private endLine(): void {
    if (this.inData) {
      // A CRLF's CR stays in the copy: JSON reads it as whitespace.
      this.inData = false;
      return;
    }
    const overflowed = this.lineOverflow;
    this.lineOverflow = false;
    let text = Buffer.concat(this.line, this.lineBytes).toString('utf8');
    this.line = [];
    this.lineBytes = 0;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (overflowed) return;
    if (text === '') {
      if (this.dataLines > 0) this.data.end(this.sink, this.eventType || 'message');
      this.eventType = '';
      this.dataLines = 0;
      return;
    }
    if (text === 'data') {
      if (this.dataLines > 0) this.data.add(Buffer.from('\n'));
      this.dataLines++;
    } else if (text.startsWith('event:')) {
      this.eventType = text.slice(6).trimStart();
    }
  }
}
