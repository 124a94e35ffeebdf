import { StringDecoder } from 'node:string_decoder';

/**
 * Incremental decoders for the two streaming wire formats: server-sent events
 * (OpenAI) and newline-delimited JSON (Ollama). Both take raw chunks as they
 * arrive and return only complete items, keeping the remainder for next time.
 */

/**
 * UTF-8 text of a byte stream, chunk by chunk. A chunk that ends on an ASCII byte splits no
 * character, and the items of both formats end with a newline, so almost every chunk is decoded
 * directly; a StringDecoder (about 140 bytes per held stream) is made only once a chunk ends
 * mid-character, and kept from then on, as it may hold the start of the next character.
 */
class Utf8Chunks {
  // StringDecoder, not TextDecoder: the latter wraps a native converter per stream that the GC must finalise.
  private decoder: StringDecoder | null = null;

  write(chunk: Uint8Array): string {
    if (this.decoder === null && (chunk.length === 0 || chunk[chunk.length - 1]! < 0x80)) {
      return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
    }
    this.decoder ??= new StringDecoder('utf8');
    return this.decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }

  end(): string {
    return this.decoder?.end() ?? '';
  }
}

/** Splits an SSE byte stream into the `data` payloads of complete events. */
export class SseDecoder {
  private readonly text = new Utf8Chunks();
  private buffer = '';
  private data: string[] = [];

  /** Feeds one chunk; returns the data payloads of the events it completed. */
  push(chunk: Uint8Array): string[] {
    this.buffer += this.text.write(chunk);
    const events: string[] = [];
    let start = 0;
    for (let end = this.buffer.indexOf('\n', start); end !== -1; end = this.buffer.indexOf('\n', start)) {
      let line = this.buffer.slice(start, end);
      start = end + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        if (this.data.length > 0) events.push(this.data.join('\n'));
        this.data = [];
      } else if (line.startsWith('data:')) {
        this.data.push(line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5));
      }
      // Comments (`:`), `event:`, `id:` and `retry:` lines carry nothing OpenAI-compatible servers need.
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  /** Flushes an event left unterminated when the stream ended. */
  end(): string[] {
    const rest = this.push(new Uint8Array());
    if (this.buffer.startsWith('data:')) this.data.push(this.buffer.slice(5).trimStart());
    this.buffer = '';
    const last = this.data.length > 0 ? [this.data.join('\n')] : [];
    this.data = [];
    return [...rest, ...last];
  }
}

/** Splits a newline-delimited JSON byte stream into complete lines. */
export class NdjsonDecoder {
  private readonly text = new Utf8Chunks();
  private buffer = '';

  /** Feeds one chunk; returns the non-empty lines it completed. */
  push(chunk: Uint8Array): string[] {
    this.buffer += this.text.write(chunk);
    const lines = this.buffer.split('\n');
    this.buffer = lines.pop() ?? '';
    return lines.map((line) => line.trim()).filter((line) => line !== '');
  }

  /** Returns a final line left without a newline. */
  end(): string[] {
    const rest = (this.buffer + this.text.end()).trim();
    this.buffer = '';
    return rest ? [rest] : [];
  }
}
