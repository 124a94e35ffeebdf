/**
 * Incremental decoders for the two streaming wire formats: server-sent events
 * (OpenAI) and newline-delimited JSON (Ollama). Both take raw chunks as they
 * arrive and return only complete items, keeping the remainder for next time.
 * Upstream bytes are untrusted: any line ending (LF, CRLF, CR) ends a line, a
 * leading byte-order mark is dropped, and a line (or SSE event) longer than the
 * cap stops the decoder with a `failure` instead of growing without bound.
 */

const LF = 0x0a;
const CR = 0x0d;

/** The default cap on one line, and on one SSE event's data: 1 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

/**
 * Splits a byte stream into lines, each byte looked at once. Lines are cut on bytes, before
 * decoding: LF and CR never occur inside a multi-byte UTF-8 character, so a line's bytes are
 * decoded whole and a character split between chunks needs no decoder state. A line left
 * incomplete at the end of a chunk is copied into a buffer that doubles as it grows (at most the
 * cap), then dropped once the line is complete, so a held stream keeps nothing between events.
 */
abstract class LineDecoder {
  /** Why the stream cannot be read further (a line or event over the cap); nothing is returned once set. */
  failure: string | null = null;
  private partial: Buffer | null = null;
  private partialLength = 0;
  /** The last chunk ended with CR: an LF starting the next one belongs to it. */
  private isAfterCr = false;
  private isAtStart = true;

  constructor(protected readonly maxBytes: number) {}

  /** Feeds one chunk; returns the items it completed. */
  push(chunk: Uint8Array): string[] {
    const out: string[] = [];
    if (this.failure !== null) return out;
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const size = bytes.length;
    let start = 0;
    if (this.isAfterCr) {
      this.isAfterCr = false;
      if (size > 0 && bytes[0] === LF) start = 1;
    }
    // The next LF and CR at or after `start`; -1 once there is none left in this chunk. Each is searched
    // again only when passed, so a chunk of CR-only (or LF-only) lines is still scanned once.
    let nextLf = -2;
    let nextCr = -2;
    while (start < size) {
      if (nextLf !== -1 && nextLf < start) nextLf = bytes.indexOf(LF, start);
      if (nextCr !== -1 && nextCr < start) nextCr = bytes.indexOf(CR, start);
      const end = nextCr === -1 ? nextLf : nextLf === -1 ? nextCr : Math.min(nextLf, nextCr);
      if (end === -1) break;
      this.completeLine(bytes, start, end, out);
      if (this.failure !== null) return out;
      if (bytes[end] === CR) {
        if (end + 1 === size) this.isAfterCr = true;
        start = bytes[end + 1] === LF ? end + 2 : end + 1;
      } else {
        start = end + 1;
      }
    }
    if (start < size) this.keep(bytes, start, size);
    return out;
  }

  /** The stream ended: returns the items a last line without an ending completes. */
  end(): string[] {
    const out: string[] = [];
    if (this.failure !== null) return out;
    if (this.partial !== null) {
      const text = this.partial.toString('utf8', 0, this.partialLength);
      this.partial = null;
      this.partialLength = 0;
      this.emit(text, out);
    }
    if (this.failure === null) this.finish(out);
    return out;
  }

  /** Handles one complete line (without its ending). */
  protected abstract line(text: string, out: string[]): void;

  /** Flushes what the format holds when the stream ends. */
  protected abstract finish(out: string[]): void;

  /** Stops the decoder: `what` (a line, an event) went over the cap. */
  protected fail(what: string): void {
    this.failure = `upstream sent ${what} longer than ${this.maxBytes} bytes`;
    this.partial = null;
    this.partialLength = 0;
  }

  private completeLine(bytes: Buffer, start: number, end: number, out: string[]): void {
    let text: string;
    if (this.partial === null) {
      if (end - start > this.maxBytes) return this.fail('a line');
      text = start === end ? '' : bytes.toString('utf8', start, end);
    } else {
      this.keep(bytes, start, end);
      if (this.partial === null) return;
      text = this.partial.toString('utf8', 0, this.partialLength);
      this.partial = null;
      this.partialLength = 0;
    }
    this.emit(text, out);
  }

  private emit(text: string, out: string[]): void {
    if (this.isAtStart) {
      this.isAtStart = false;
      // A byte-order mark may start the stream (SSE says to drop it; NDJSON producers add it too).
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    this.line(text, out);
  }

  /** Appends bytes of an incomplete line; fails past the cap. */
  private keep(bytes: Buffer, start: number, end: number): void {
    const needed = this.partialLength + (end - start);
    if (needed > this.maxBytes) return this.fail('a line');
    if (this.partial === null || needed > this.partial.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.maxBytes, Math.max(needed, (this.partial?.length ?? 0) * 2, 256)));
      this.partial?.copy(grown, 0, 0, this.partialLength);
      this.partial = grown;
    }
    bytes.copy(this.partial, this.partialLength, start, end);
    this.partialLength = needed;
  }
}

/** Splits an SSE byte stream into the `data` payloads of complete events. */
export class SseDecoder extends LineDecoder {
  private data: string[] | null = null;
  private dataLength = 0;

  constructor(maxBytes = DEFAULT_MAX_LINE_BYTES) {
    super(maxBytes);
  }

  protected line(line: string, out: string[]): void {
    if (line === '') {
      this.dispatch(out);
    } else if (line.startsWith('data:')) {
      const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
      this.dataLength += value.length + 1;
      if (this.dataLength > this.maxBytes) return this.fail('an event');
      (this.data ??= []).push(value);
    }
    // Comments (`:`), `event:`, `id:` and `retry:` lines carry nothing OpenAI-compatible servers need.
  }

  /** Flushes an event left unterminated when the stream ended. */
  protected finish(out: string[]): void {
    this.dispatch(out);
  }

  private dispatch(out: string[]): void {
    if (this.data === null) return;
    const payload = this.data.length === 1 ? this.data[0]! : this.data.join('\n');
    this.data = null;
    this.dataLength = 0;
    // An event whose data is empty is not dispatched (as EventSource does).
    if (payload !== '') out.push(payload);
  }
}

/** Splits a newline-delimited JSON byte stream into complete, non-blank lines. */
export class NdjsonDecoder extends LineDecoder {
  constructor(maxBytes = DEFAULT_MAX_LINE_BYTES) {
    super(maxBytes);
  }

  protected line(line: string, out: string[]): void {
    const trimmed = line.trim();
    if (trimmed !== '') out.push(trimmed);
  }

  protected finish(): void {
    // Nothing is held between lines.
  }
}
