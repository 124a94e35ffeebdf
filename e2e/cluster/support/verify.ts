// Reading back every acknowledged write through nginx once the faults are over:
// sessions still sign requests in, chats have their titles, files their bytes,
// every streamed answer is saved in its chat (exactly as the model said it),
// and every poisoned answer is saved as failed.
import { createHash } from 'node:crypto';
import { jsonInit, type Answer, type Recorder } from './client.js';
import type { LoadContext } from './load.js';
import { sleep } from './services.js';
import type { StreamRecord } from './stream-client.js';

/** A write that was acknowledged and cannot be read back as it was acknowledged. */
export interface LostWrite {
  phase: string;
  what: string;
  detail: string;
}

/** A saved answer that is not exactly the model's. */
export interface InexactAnswer extends LostWrite {
  /** Finished, without error, and the model's answer preceded by something (a repeated start after a takeover). */
  isRepeatedPrefix: boolean;
}

/** What the read-back found. */
export interface Verification {
  /** Acknowledged writes gone or changed: sessions, chats, titles, files, saved questions and answers. */
  lost: LostWrite[];
  /** Saved answers that are there but not exactly the model's answer, finished (e.g. repeated text after a takeover). */
  inexact: InexactAnswer[];
  /** Poisoned answers not saved as finished with an error. */
  poisonNotFailed: LostWrite[];
  /** How much was read back. */
  counts: { sessions: number; chats: number; files: number; answers: number };
}

/** Runs `work` over `items` with at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/**
 * A read-back is patient, unlike the load: an instance may still be down (a
 * crash loop), so anything but a definite answer (2xx, 401, 403, 404) is asked
 * again for up to ~10 s. A read-back is not part of the load's figures.
 */
async function readBack(recorder: Recorder, url: string, token: string): Promise<Answer> {
  let answer: Answer = { ok: false };
  for (let attempt = 0; attempt < 20; attempt++) {
    answer = await recorder.send('verify', url, jsonInit('GET', token), { isUnrecorded: true });
    if (answer.ok || (answer.status !== undefined && [401, 403, 404].includes(answer.status))) return answer;
    await sleep(500);
  }
  return answer;
}

/** Reads back the acknowledged writes of the phases in `phases` (every phase when omitted). */
export async function verifyLedger(ctx: LoadContext, phases?: ReadonlySet<string>): Promise<Verification> {
  const { baseUrl, recorder, ledger } = ctx;
  const isIn = (phase: string) => !phases || phases.has(phase);
  const result: Verification = { lost: [], inexact: [], poisonNotFailed: [], counts: { sessions: 0, chats: 0, files: 0, answers: 0 } };
  const sessions = ledger.sessions.filter((s) => isIn(s.phase));
  await eachLimited(sessions, 6, async ({ token, userId, phase }) => {
    const answer = await readBack(recorder, `${baseUrl}/api/v1/auths/`, token);
    if (!answer.ok || answer.body.id !== userId) result.lost.push({ phase, what: `session of ${userId}`, detail: `${answer.status} ${JSON.stringify(answer.body)}` });
  });
  const streamsByChat = new Map<string, { stream: StreamRecord; isPoisoned: boolean }>();
  for (const stream of ledger.streams) streamsByChat.set(stream.chatId, { stream, isPoisoned: false });
  for (const stream of ledger.poisoned) streamsByChat.set(stream.chatId, { stream, isPoisoned: true });
  const chats = [...ledger.chats.values()].filter((c) => isIn(c.phase));
  await eachLimited(chats, 6, async (chat) => {
    const answer = await readBack(recorder, `${baseUrl}/api/v1/chats/${chat.id}`, chat.token);
    const lose = (what: string, detail: string) => void result.lost.push({ phase: chat.phase, what, detail });
    if (!answer.ok) return lose(`chat ${chat.id}`, `${answer.status} ${JSON.stringify(answer.body)}`);
    if (answer.body.title !== chat.title && !chat.unacknowledged.includes(answer.body.title)) {
      lose(`title of chat ${chat.id}`, `"${answer.body.title}", acknowledged "${chat.title}"`);
    }
    const entry = streamsByChat.get(chat.id);
    const generationId = entry?.stream.generationId;
    if (!entry || !generationId) return;
    const { stream, isPoisoned } = entry;
    const messages = answer.body.chat.history.messages;
    const saved = messages[generationId];
    const question = saved ? messages[saved.parentId] : undefined;
    const got = saved ? `done=${saved.done} error=${JSON.stringify(saved.error)} content=${JSON.stringify(saved.content)}` : 'missing';
    if (!saved) return lose(`answer ${generationId} in chat ${chat.id}`, 'missing');
    if (question?.content !== stream.prompt) lose(`question of ${generationId}`, JSON.stringify(question));
    if (isPoisoned) {
      // A failed answer carries its error (and `done: false`, as Parley saves every answer that did not finish well).
      if (!saved.error) void result.poisonNotFailed.push({ phase: stream.phase, what: `poisoned answer ${generationId}`, detail: got });
      return;
    }
    result.counts.answers++;
    if (saved.content !== stream.expected || !saved.done || saved.error) {
      const isRepeatedPrefix = saved.done === true && !saved.error && typeof saved.content === 'string' && saved.content.endsWith(stream.expected);
      result.inexact.push({ phase: stream.phase, what: `answer ${generationId} in chat ${chat.id}`, detail: `${got}; expected ${JSON.stringify(stream.expected)}`, isRepeatedPrefix });
    }
  });
  const files = ledger.files.filter((f) => isIn(f.phase));
  await eachLimited(files, 6, async (file) => {
    const meta = await readBack(recorder, `${baseUrl}/api/v1/files/${file.id}`, file.token);
    const content = await readBack(recorder, `${baseUrl}/api/v1/files/${file.id}/content`, file.token);
    const isSame = content.ok && content.bytes !== undefined && sha256Of(content.bytes) === file.sha256;
    if (!meta.ok || meta.body.filename !== file.filename || !isSame) {
      result.lost.push({ phase: file.phase, what: `file ${file.id}`, detail: `meta ${meta.status} ${meta.body?.filename}, content ${content.status} ${content.bytes?.length} bytes (expected ${file.size})` });
    }
  });
  result.counts = { ...result.counts, sessions: sessions.length, chats: chats.length, files: files.length };
  return result;
}

const sha256Of = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
