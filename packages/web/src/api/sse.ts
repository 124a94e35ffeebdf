import type { CompletionChunk, StreamError, TakeoverEvent, Usage } from '@parley/wire';

/**
 * One decoded server-sent event's data, or the end marker. `id` is set when the
 * event itself carried an `id:` field (Parley puts it on the last event of a batch).
 */
export type SseData = { type: 'data'; data: string; id?: string } | { type: 'done'; id?: string };

/**
 * Incremental SSE decoder: feed it text as it arrives in arbitrary pieces and
 * it returns the complete events' `data` fields (multi-line data joined by \n).
 */
export class SseParser {
  private buffer = '';
  private dataLines: string[] = [];
  // The `id:` of the event being read, if it has one.
  private eventId: string | undefined;
  /** The id of the last event dispatched with one (what a reconnect sends as `Last-Event-ID`), as the SSE spec keeps it. */
  lastEventId = '';

  /** Adds text; returns the events completed by it. */
  push(text: string): SseData[] {
    this.buffer += text;
    const events: SseData[] = [];
    let newline: number;
    while ((newline = this.buffer.search(/\r\n|\r|\n/)) !== -1) {
      const line = this.buffer.slice(0, newline);
      const width = this.buffer.startsWith('\r\n', newline) ? 2 : 1;
      // A lone \r at the end might be the first half of \r\n: wait for more.
      if (width === 1 && this.buffer[newline] === '\r' && newline === this.buffer.length - 1) break;
      this.buffer = this.buffer.slice(newline + width);
      this.line(line, events);
    }
    return events;
  }

  /** Ends the stream; returns an event left without its blank line. */
  end(): SseData[] {
    const events: SseData[] = [];
    if (this.buffer) this.line(this.buffer, events);
    this.buffer = '';
    this.line('', events);
    return events;
  }

  private line(line: string, events: SseData[]): void {
    if (line === '') {
      // An id without data still moves lastEventId, but dispatches nothing.
      const id = this.eventId;
      this.eventId = undefined;
      if (id !== undefined) this.lastEventId = id;
      if (this.dataLines.length === 0) return;
      const data = this.dataLines.join('\n');
      this.dataLines = [];
      const event: SseData = data.trim() === '[DONE]' ? { type: 'done' } : { type: 'data', data };
      events.push(id === undefined ? event : { ...event, id });
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.dataLines.push(value);
    // The spec ignores an id containing NUL (it could not be sent back in a header).
    else if (field === 'id' && !value.includes('\0')) this.eventId = value;
  }
}

/** What one OpenAI chunk means for the answer being shown. */
export type ChunkEvent =
  | { type: 'delta'; content: string }
  | { type: 'usage'; usage: Usage }
  | { type: 'error'; message: string }
  | { type: 'finish'; reason: string }
  /** Parley's own event on a resumed stream: another instance took the answer over; `regenerate` starts the text afresh. */
  | { type: 'takeover'; mode: TakeoverEvent['parley']['mode'] }
  | { type: 'ignore' };

/** Reads one `data:` payload of an OpenAI chat completion stream. */
export function readChunk(data: string): ChunkEvent[] {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return [{ type: 'ignore' }];
  }
  if (!json || typeof json !== 'object') return [{ type: 'ignore' }];
  // Read warily: chunks relayed from the upstream as they came may lack fields, or carry an error as text.
  const chunk = json as Partial<Pick<CompletionChunk, 'choices' | 'usage'>> & {
    error?: Partial<StreamError['error']> | string;
    parley?: { event?: string; mode?: string };
  };
  if (chunk.parley?.event === 'takeover') return [{ type: 'takeover', mode: chunk.parley.mode === 'regenerate' ? 'regenerate' : 'continue' }];
  if (chunk.error) {
    const message = typeof chunk.error === 'string' ? chunk.error : (chunk.error.message ?? 'The model failed');
    return [{ type: 'error', message }];
  }
  const events: ChunkEvent[] = [];
  for (const choice of chunk.choices ?? []) {
    const content = choice.delta?.content;
    if (content) events.push({ type: 'delta', content });
    if (choice.finish_reason) events.push({ type: 'finish', reason: choice.finish_reason });
  }
  if (chunk.usage) events.push({ type: 'usage', usage: chunk.usage });
  return events.length > 0 ? events : [{ type: 'ignore' }];
}
