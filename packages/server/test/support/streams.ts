/** One event's data: an OpenAI chunk, an error, one of Parley's own events, or `[DONE]`. */
// any: events come in many shapes, and each assertion reads the one it expects.
export type SseData = any;

/** One server-sent event: its data (JSON parsed, `[DONE]` kept as a string) and its id, if any. */
export interface SseEvent {
  data: SseData;
  id?: string;
}

/** Splits SSE text into events. */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.split('\n\n')) {
    const lines = block.split('\n');
    const data = lines.filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trim()).join('\n');
    const id = lines.find((line) => line.startsWith('id:'))?.slice(3).trim();
    if (data) events.push({ data: data === '[DONE]' ? data : JSON.parse(data), ...(id !== undefined ? { id } : {}) });
  }
  return events;
}

/** Reads an SSE response into its `data` payloads (JSON parsed, `[DONE]` kept as a string). */
export async function readSse(response: Response): Promise<SseData[]> {
  return parseSse(await response.text()).map((event) => event.data);
}

/** Joins the content deltas of OpenAI chunks. */
export function contentOf(events: SseData[]): string {
  return events
    .filter((event) => typeof event === 'object' && event.choices?.[0]?.delta?.content)
    .map((event) => event.choices[0].delta.content)
    .join('');
}

/** Polls `check` until it returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Reads a resumable stream until `count` events with ids have arrived. Returns what a client that
 * stops there would resume from: the last id it saw whole, and the text up to and including it.
 */
export async function readUntilEventIds(reader: ReadableStreamDefaultReader<Uint8Array>, count: number): Promise<{ lastId: string; textSoFar: string }> {
  const decoder = new TextDecoder();
  let seen = '';
  while (parseSse(seen).filter((event) => event.id).length < count) seen += decoder.decode((await reader.read()).value, { stream: true });
  // Only whole events count: a client resumes after the last id it received.
  const complete = parseSse(seen.slice(0, seen.lastIndexOf('\n\n') + 2));
  const lastId = complete.filter((event) => event.id).at(-1)!.id!;
  const textSoFar = contentOf(complete.slice(0, complete.findIndex((event) => event.id === lastId) + 1).map((event) => event.data));
  return { lastId, textSoFar };
}
