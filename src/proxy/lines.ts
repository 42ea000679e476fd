// Newline-delimited framing for the stdio relay. Two shapes, one per direction:
// - LineTap (server → client): the bytes were already forwarded as they came; the tap only
//   reassembles a COPY into lines for the audit, up to a parse limit.
// - LineGate (client → server): holds the bytes of the line being received (the server cannot act
//   on half a line anyway) so that a request can be refused or get trace context before it leaves.
//   Lines over the parse limit are released as they come and never held whole.

/** Default largest line the audit parses (bigger lines are relayed untouched and counted). */
export const DEFAULT_PARSE_LIMIT = 16 * 1024 * 1024;

export interface LineSink {
  /** A complete line within the limit, without its line ending. */
  line(text: Buffer): void;
  /** A line over the limit ended; `bytes` is its whole length, `head` and `tail` its first and last bytes. */
  oversized(bytes: number, head: Buffer, tail: Buffer): void;
}

const NL = 0x0a;
const HEAD_BYTES = 512;

function withoutEnding(line: Buffer): Buffer {
  let end = line.length;
  if (end > 0 && line[end - 1] === NL) end--;
  if (end > 0 && line[end - 1] === 0x0d) end--;
  return end === line.length ? line : line.subarray(0, end);
}

/** Reassembles lines from chunks that were forwarded already. */
export class LineTap {
  private parts: Buffer[] = [];
  private held = 0;
  private overBytes = -1;
  private head: Buffer = Buffer.alloc(0);
  private tail: Buffer = Buffer.alloc(0);

  constructor(
    private readonly limit: number,
    private readonly sink: LineSink,
  ) {}

  /** True when no line is in progress: a whole line may be inserted into the stream now. */
  get atBoundary(): boolean {
    return this.held === 0 && this.overBytes < 0;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NL, start);
      const end = nl < 0 ? chunk.length : nl + 1;
      const piece = chunk.subarray(start, end);
      if (this.overBytes >= 0) {
        this.overBytes += piece.length;
        this.keepTail(piece);
      } else if (this.held + piece.length > this.limit + 2) {
        // Over the limit: stop holding the copy; remember the start for the response id.
        const first = this.parts.length ? Buffer.concat([...this.parts, piece]) : piece;
        this.head = Buffer.from(first.subarray(0, HEAD_BYTES));
        this.overBytes = this.held + piece.length;
        this.tail = Buffer.alloc(0);
        this.keepTail(first);
        this.parts = [];
        this.held = 0;
      } else {
        // Copy: the caller may reuse its chunk buffer once push returns.
        this.parts.push(nl < 0 ? Buffer.from(piece) : piece);
        this.held += piece.length;
      }
      if (nl < 0) break;
      this.endLine();
      start = end;
    }
  }

  private keepTail(piece: Buffer): void {
    const joined = this.tail.length ? Buffer.concat([this.tail, piece.subarray(-HEAD_BYTES)]) : piece;
    this.tail = Buffer.from(joined.subarray(-HEAD_BYTES));
  }

  private endLine(): void {
    if (this.overBytes >= 0) {
      const bytes = this.overBytes;
      this.overBytes = -1;
      this.sink.oversized(bytes, this.head, withoutEnding(this.tail));
      return;
    }
    const line = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.held);
    this.parts = [];
    this.held = 0;
    this.sink.line(withoutEnding(line));
  }
}

/** What to send on for one complete line: the original bytes, replacement bytes, or nothing. */
export type GateDecision = Buffer | null;

/**
 * Holds each line until it is complete, then asks `decide` what to forward. `forward` gets the
 * bytes in order. Over the limit, the held bytes and the rest of the line go through as they come.
 */
export class LineGate {
  private parts: Buffer[] = [];
  private held = 0;
  private passing = -1;
  private head: Buffer = Buffer.alloc(0);

  constructor(
    private readonly limit: number,
    private readonly decide: (line: Buffer, raw: Buffer) => GateDecision,
    private readonly oversized: (bytes: number, head: Buffer) => void,
  ) {}

  /** Returns the bytes to forward for this chunk, in order (possibly none). */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NL, start);
      const end = nl < 0 ? chunk.length : nl + 1;
      const piece = chunk.subarray(start, end);
      if (this.passing >= 0) {
        out.push(piece);
        this.passing += piece.length;
      } else if (this.held + piece.length > this.limit + 2) {
        const first = this.parts.length ? Buffer.concat([...this.parts, piece]) : piece;
        this.head = Buffer.from(first.subarray(0, HEAD_BYTES));
        out.push(first);
        this.passing = this.held + piece.length;
        this.parts = [];
        this.held = 0;
      } else if (nl >= 0) {
        const raw = this.parts.length ? Buffer.concat([...this.parts, piece]) : piece;
        this.parts = [];
        this.held = 0;
        const decision = this.decide(withoutEnding(raw), raw);
        if (decision) out.push(decision);
      } else {
        this.parts.push(Buffer.from(piece));
        this.held += piece.length;
      }
      if (nl < 0) break;
      if (this.passing >= 0) {
        const bytes = this.passing;
        this.passing = -1;
        this.oversized(bytes, this.head);
      }
      start = end;
    }
    return out;
  }

  /** At end of input: whatever partial line is held goes through as it is (no newline added). */
  flush(): Buffer | undefined {
    if (this.held === 0) return undefined;
    const rest = Buffer.concat(this.parts, this.held);
    this.parts = [];
    this.held = 0;
    return rest;
  }
}
