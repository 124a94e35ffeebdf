// The mixed load: virtual users sign in, create and rename chats, upload small
// files, read, and stream answers into chats, all through nginx. Every
// acknowledged write goes into a ledger that is checked once the faults are over.
import { createHash, randomBytes } from 'node:crypto';
import { jsonInit, type Recorder } from './client.js';
import { sleep } from './services.js';
import { streamCompletion, type StreamRecord } from './stream-client.js';

/** A user of the load, signed up before any fault. */
export interface LoadUser {
  name: string;
  email: string;
  password: string;
  id: string;
  /** The sign-up session's token; later sessions are in the ledger. */
  token: string;
}

/** A chat whose creation was acknowledged, and what its title may be now. */
interface ChatExpectation {
  id: string;
  token: string;
  /** The title of the last acknowledged create or rename. */
  title: string;
  /** Renames tried after that one and not acknowledged: applied or not, they may show. */
  unacknowledged: string[];
}

/** Every acknowledged write of the run. */
export class Ledger {
  readonly sessions: Array<{ token: string; userId: string }> = [];
  readonly chats = new Map<string, ChatExpectation>();
  readonly files: Array<{ id: string; token: string; filename: string; sha256: string; size: number }> = [];
  readonly streams: StreamRecord[] = [];
}

/** What a virtual user needs. */
export interface LoadContext {
  baseUrl: string;
  recorder: Recorder;
  ledger: Ledger;
  /** Answer length of the fake model, for the expected text. */
  tokens: number;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(Math.random() * items.length)];

/** Signs a user up (before any fault); the first becomes the admin, which is fine for the load. */
export async function signUp(ctx: LoadContext, name: string): Promise<LoadUser> {
  const email = `${name}@cluster.example.com`;
  const password = `password of ${name}`;
  const answer = await ctx.recorder.send('signup', `${ctx.baseUrl}/api/v1/auths/signup`, jsonInit('POST', undefined, { email, password, name }));
  if (!answer.ok) throw new Error(`sign-up of ${name} failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  ctx.ledger.sessions.push({ token: answer.body.token, userId: answer.body.id });
  return { name, email, password, id: answer.body.id, token: answer.body.token };
}

async function createChat(ctx: LoadContext, user: LoadUser, title: string): Promise<string | undefined> {
  const answer = await ctx.recorder.send('chat.create', `${ctx.baseUrl}/api/v1/chats/new`, jsonInit('POST', user.token, { chat: { title } }));
  if (!answer.ok) return undefined;
  ctx.ledger.chats.set(answer.body.id, { id: answer.body.id, token: user.token, title, unacknowledged: [] });
  return answer.body.id as string;
}

/** One virtual user's loop: a random mix of operations until `shouldStop()` (at most `maxOps`). */
export async function virtualUser(ctx: LoadContext, user: LoadUser, shouldStop: () => boolean, maxOps = 2000): Promise<void> {
  const { baseUrl, recorder, ledger } = ctx;
  const myChats: string[] = [];
  for (let n = 1; n <= maxOps && !shouldStop(); n++) {
    const tag = `${user.name}-${recorder.phase}-${n}`;
    const roll = Math.random();
    if (roll < 0.1) {
      const answer = await recorder.send('signin', `${baseUrl}/api/v1/auths/signin`, jsonInit('POST', undefined, { email: user.email, password: user.password }));
      if (answer.ok) ledger.sessions.push({ token: answer.body.token, userId: answer.body.id });
    } else if (roll < 0.3 || myChats.length === 0) {
      const id = await createChat(ctx, user, `chat ${tag}`);
      if (id) myChats.push(id);
    } else if (roll < 0.5) {
      const chat = ledger.chats.get(pick(myChats)!)!;
      const title = `renamed ${tag}`;
      chat.unacknowledged.push(title);
      const answer = await recorder.send('chat.rename', `${baseUrl}/api/v1/chats/${chat.id}`, jsonInit('POST', user.token, { chat: { title } }));
      if (answer.ok) {
        chat.title = title;
        chat.unacknowledged = [];
      }
    } else if (roll < 0.65) {
      const bytes = randomBytes(512 + Math.floor(Math.random() * 24 * 1024));
      const filename = `${tag}.bin`;
      const answer = await recorder.send('file.upload', `${baseUrl}/api/v1/files/`, () => {
        const form = new FormData();
        form.append('file', new Blob([bytes], { type: 'application/octet-stream' }), filename);
        return { method: 'POST', headers: { authorization: `Bearer ${user.token}` }, body: form };
      });
      if (answer.ok) ledger.files.push({ id: answer.body.id, token: user.token, filename, sha256: sha256(bytes), size: bytes.length });
    } else if (roll < 0.75) {
      const id = pick(myChats)!;
      await recorder.send('chat.read', `${baseUrl}/api/v1/chats/${Math.random() < 0.5 ? id : ''}`, jsonInit('GET', user.token));
    } else {
      const chatId = await createChat(ctx, user, `stream ${tag}`);
      if (chatId) ledger.streams.push(await streamCompletion(recorder, baseUrl, user.token, chatId, `Cluster question ${tag}`, ctx.tokens));
    }
    await sleep(50 + Math.random() * 100);
  }
}

/** A write that was acknowledged and cannot be read back as it was acknowledged. */
export interface LostWrite {
  what: string;
  detail: string;
}

/** Runs `work` over `items` with at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

/**
 * Reads back every acknowledged write through nginx: sessions still sign
 * requests in, chats have their titles, files their bytes, and every streamed
 * answer is saved in its chat exactly as expected.
 */
export async function verifyLedger(ctx: LoadContext): Promise<LostWrite[]> {
  const { baseUrl, recorder, ledger } = ctx;
  const lost: LostWrite[] = [];
  await eachLimited(ledger.sessions, 6, async ({ token, userId }) => {
    const answer = await recorder.send('verify', `${baseUrl}/api/v1/auths/`, jsonInit('GET', token));
    if (!answer.ok || answer.body.id !== userId) lost.push({ what: `session of ${userId}`, detail: `${answer.status} ${JSON.stringify(answer.body)}` });
  });
  const streamsByChat = new Map(ledger.streams.map((stream) => [stream.chatId, stream]));
  await eachLimited([...ledger.chats.values()], 6, async (chat) => {
    const answer = await recorder.send('verify', `${baseUrl}/api/v1/chats/${chat.id}`, jsonInit('GET', chat.token));
    if (!answer.ok) return void lost.push({ what: `chat ${chat.id}`, detail: `${answer.status} ${JSON.stringify(answer.body)}` });
    if (answer.body.title !== chat.title && !chat.unacknowledged.includes(answer.body.title)) {
      lost.push({ what: `title of chat ${chat.id}`, detail: `"${answer.body.title}", acknowledged "${chat.title}"` });
    }
    const stream = streamsByChat.get(chat.id);
    if (!stream?.generationId) return;
    const saved = answer.body.chat.history.messages[stream.generationId];
    const question = saved ? answer.body.chat.history.messages[saved.parentId] : undefined;
    if (!saved || saved.content !== stream.expected || !saved.done || saved.error) {
      const got = saved ? `done=${saved.done} error=${JSON.stringify(saved.error)} content=${JSON.stringify(saved.content)}` : 'missing';
      lost.push({ what: `answer ${stream.generationId} in chat ${chat.id}`, detail: `${got}; expected ${JSON.stringify(stream.expected)}` });
    } else if (question?.content !== stream.prompt) {
      lost.push({ what: `question of ${stream.generationId}`, detail: JSON.stringify(question) });
    }
  });
  await eachLimited(ledger.files, 6, async (file) => {
    const meta = await recorder.send('verify', `${baseUrl}/api/v1/files/${file.id}`, jsonInit('GET', file.token));
    const content = await recorder.send('verify', `${baseUrl}/api/v1/files/${file.id}/content`, jsonInit('GET', file.token));
    if (!meta.ok || meta.body.filename !== file.filename || !content.ok || sha256(content.bytes!) !== file.sha256) {
      lost.push({ what: `file ${file.id}`, detail: `meta ${meta.status} ${meta.body?.filename}, content ${content.status} ${content.bytes?.length} bytes (expected ${file.size})` });
    }
  });
  return lost;
}
