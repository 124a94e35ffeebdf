import { errorFrom, scriptedRequestHeader } from './http';
import { readChunk, SseParser, type ChunkEvent } from './sse';

/** An OpenAI chat message as sent upstream. */
export interface OutgoingMessage {
  role: 'system' | 'user' | 'assistant';
  content: string | ({ type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } })[];
}

/** The body of a saved, streamed chat completion. */
export interface CompletionRequest {
  model: string;
  messages: OutgoingMessage[];
  chat_id: string;
  parent_id: string | null;
  user_message_id?: string;
  regenerate?: boolean;
  files?: unknown[];
}

/** Callbacks of a streaming completion. */
export interface StreamHandlers {
  /** The generation id, for stopping and resuming it. */
  onStart?(generationId: string | null): void;
  onEvent(event: ChunkEvent): void;
  /**
   * A batch ended with this SSE id: a resume from it replays nothing received
   * so far. Text after the last id may be replayed, so it is not yet settled.
   */
  onEventId?(id: number): void;
}

/** How the stream ended: the server's [DONE], or the connection closing without it. */
export type StreamEnd = 'done' | 'closed';

/** Feeds an event stream's chunks and ids to `handlers` until [DONE] or the end of the body. */
async function readEvents(body: NonNullable<Response['body']>, handlers: StreamHandlers): Promise<StreamEnd> {
  const parser = new SseParser();
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    const events = done ? parser.end() : parser.push(value);
    for (const event of events) {
      if (event.type === 'done') return 'done';
      for (const chunk of readChunk(event.data)) handlers.onEvent(chunk);
      const id = Number(event.id);
      if (event.id !== undefined && Number.isSafeInteger(id)) handlers.onEventId?.(id);
    }
    if (done) return 'closed';
  }
}

/**
 * Posts a streamed completion and feeds its chunks to `handlers`. Throws an
 * ApiError when the server refuses before streaming, and the network error
 * when the connection drops mid-stream.
 */
export async function streamCompletion(request: CompletionRequest, handlers: StreamHandlers, signal?: AbortSignal): Promise<StreamEnd> {
  const response = await fetch('/api/chat/completions', {
    method: 'POST',
    credentials: 'same-origin',
    signal,
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ ...request, stream: true, stream_options: { include_usage: true } }),
  });
  if (!response.ok || !response.body) throw await errorFrom(response);
  handlers.onStart?.(response.headers.get('x-parley-generation-id'));
  return readEvents(response.body, handlers);
}

/**
 * Follows a saved generation (on any instance) from after batch `lastEventId`
 * (0: from the start): what was missed is replayed, then it goes on live until
 * [DONE]. Throws an ApiError (404 once the generation's log has expired) or the
 * network error, like streamCompletion.
 */
export async function resumeCompletion(generationId: string, lastEventId: number, handlers: StreamHandlers, signal?: AbortSignal): Promise<StreamEnd> {
  const response = await fetch(`/api/chat/completions/${encodeURIComponent(generationId)}/stream`, {
    credentials: 'same-origin',
    signal,
    cache: 'no-store',
    headers: { accept: 'text/event-stream', 'last-event-id': String(lastEventId) },
  });
  if (!response.ok || !response.body) throw await errorFrom(response);
  handlers.onStart?.(generationId);
  return readEvents(response.body, handlers);
}

/** Asks the server to stop a generation; the partial answer is kept. */
export async function stopGeneration(generationId: string): Promise<void> {
  const response = await fetch(`/api/chat/completions/${encodeURIComponent(generationId)}/stop`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: scriptedRequestHeader,
  });
  if (!response.ok && response.status !== 404) throw await errorFrom(response);
}
