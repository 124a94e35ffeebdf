// "Full service" after a dependency returns: every instance, asked directly,
// signs a user in, creates a chat, streams an answer into it to its end,
// streams a relay-only answer, and stores a file. The time from the
// dependency's return to the start of the first such try that succeeded, on the
// slowest instance, is the recovery the report shows.
import type { Instance } from './instances.js';
import { sleep } from './services.js';

/** A user the probe signs in as (not one of the load's, so its figures stay the load's). */
export interface ProbeUser {
  email: string;
  password: string;
}

const stepTimeoutMs = 2000;
const pollMs = 100;

async function post(url: string, token: string | undefined, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(stepTimeoutMs),
  });
}

/** Reads an event stream to its end: true when it ended with [DONE] and no error event. */
async function endsWell(response: Response): Promise<boolean> {
  if (!response.ok) return (await response.arrayBuffer(), false);
  const text = await response.text();
  return text.includes('data: [DONE]') && !text.includes('"error"');
}

/** One try of everything against one instance. */
export async function servesFully(baseUrl: string, user: ProbeUser): Promise<boolean> {
  const signin = await post(`${baseUrl}/api/v1/auths/signin`, undefined, user);
  if (!signin.ok) return (await signin.arrayBuffer(), false);
  const { token } = (await signin.json()) as { token: string };
  const chat = await post(`${baseUrl}/api/v1/chats/new`, token, { chat: { title: 'probe' } });
  if (!chat.ok) return (await chat.arrayBuffer(), false);
  const { id } = (await chat.json()) as { id: string };
  const question = `probe ${Date.now()}`;
  const ask = (extra: object) => post(`${baseUrl}/api/chat/completions`, token, { model: 'fake-model', messages: [{ role: 'user', content: question }], stream: true, max_tokens: 2, ...extra });
  if (!(await endsWell(await ask({ chat_id: id, parent_id: null })))) return false;
  if (!(await endsWell(await ask({})))) return false;
  const form = new FormData();
  form.append('file', new Blob([question], { type: 'text/plain' }), 'probe.txt');
  const file = await fetch(`${baseUrl}/api/v1/files/`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form, signal: AbortSignal.timeout(stepTimeoutMs) });
  await file.arrayBuffer();
  return file.ok;
}

/** Milliseconds from `since` until every instance served fully (Infinity when one did not within `limitMs`). */
export async function timeToFullService(instances: readonly Instance[], user: ProbeUser, since: number, limitMs = 30_000): Promise<number> {
  const times = await Promise.all(
    instances.map(async (instance) => {
      while (performance.now() - since < limitMs) {
        // A client that began then was served fully: the probe's own duration is not recovery.
        const began = performance.now();
        if (await servesFully(instance.url, user).catch(() => false)) return began - since;
        await sleep(pollMs);
      }
      return Infinity;
    }),
  );
  return Math.max(...times);
}
