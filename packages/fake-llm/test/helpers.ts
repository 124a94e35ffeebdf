import { afterAll, beforeAll } from 'vitest';
import { startFakeLlm, type FakeLlm, type FakeLlmOptions } from '../src/index.js';

/** Starts one fake per test file on a random port and closes it afterwards. */
export function useFakeLlm(options: Partial<FakeLlmOptions> = {}): { readonly fake: FakeLlm } {
  const holder: { fake?: FakeLlm } = {};
  beforeAll(async () => {
    holder.fake = await startFakeLlm({ port: 0, ...options });
  });
  afterAll(async () => {
    await holder.fake?.close();
  });
  return {
    get fake(): FakeLlm {
      if (holder.fake === undefined) throw new Error('fake-llm not started yet');
      return holder.fake;
    },
  };
}

/** POSTs a JSON body. */
export function postJson(url: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  });
}

/** The `data:` payloads of an SSE body, in order ([DONE] included as a string). */
export function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .filter((event) => event.startsWith('data: '))
    .map((event) => event.slice('data: '.length));
}

/** Shape of the chunks the tests look into. */
export interface ChunkJson {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: { index: number; delta: { role?: string; content?: string }; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  error?: { message: string };
}

/** Parsed JSON chunks of an SSE body, without the [DONE] marker. */
export function sseChunks(text: string): ChunkJson[] {
  return sseData(text)
    .filter((data) => data !== '[DONE]')
    .map((data) => JSON.parse(data) as ChunkJson);
}

/** Concatenated delta contents of an OpenAI stream. */
export function streamedText(chunks: readonly ChunkJson[]): string {
  return chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
}

/** Parsed lines of an NDJSON body. */
export function ndjsonLines<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

/** Reads a streamed body until the text read so far satisfies `predicate` or the body ends. */
export async function readAtLeast(response: Response, predicate: (text: string) => boolean): Promise<string> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (predicate(text)) break;
  }
  reader.releaseLock();
  return text;
}

/** A user turn. */
export const user = (content: string): { role: 'user'; content: string } => ({ role: 'user', content });
