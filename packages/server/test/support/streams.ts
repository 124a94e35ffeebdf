/** One event's data: an OpenAI chunk, an error, one of Parley's own events, or `[DONE]`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- events come in many shapes, and each assertion reads the one it expects
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

/** Opens the caller's event stream (`/api/v1/events`) and collects its events until closed. */
export async function listenToEvents(app: { url: string }, token: string) {
  const controller = new AbortController();
  const response = await fetch(`${app.url}/api/v1/events`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
  const received: Array<{ type: string; chat_id: string | null; [key: string]: unknown }> = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        const blocks = buffer.split('\n\n');
        buffer = blocks.pop() ?? '';
        for (const block of blocks) {
          const data = block.split('\n').find((line) => line.startsWith('data:'));
          if (data) received.push(JSON.parse(data.slice(5)));
        }
      }
    } catch {
      // Aborted by the test.
    }
  })();
  return { response, received, close: () => controller.abort() };
}
