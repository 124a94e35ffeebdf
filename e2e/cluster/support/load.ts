// The mixed load: virtual users sign in, create and rename chats, upload small
// files, read, and stream answers into chats (resumed after a cut) or straight
// from the API (the SDK, asked again after a cut), all through nginx; API
// clients only stream. Every acknowledged write goes into a ledger that is
// checked once the faults are over (verify.ts).
import { createHash, randomBytes } from 'node:crypto';
import { jsonInit, type Recorder } from './client.js';
import { relayCompletion, type RelayRecord } from './relay-client.js';
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
export interface ChatExpectation {
  id: string;
  token: string;
  /** The phase of its creation. */
  phase: string;
  /** The title of the last acknowledged create or rename. */
  title: string;
  /** Renames tried after that one and not acknowledged: applied or not, they may show. */
  unacknowledged: string[];
}

/** Every acknowledged write of the run, and every stream, each with the phase it happened in. */
export class Ledger {
  readonly sessions: Array<{ token: string; userId: string; phase: string }> = [];
  readonly chats = new Map<string, ChatExpectation>();
  readonly files: Array<{ id: string; token: string; filename: string; sha256: string; size: number; phase: string }> = [];
  readonly streams: StreamRecord[] = [];
  readonly relays: RelayRecord[] = [];
  /** Streams from the poisoned model: expected to end with an error, never to crash anything. */
  readonly poisoned: StreamRecord[] = [];
  readonly poisonedRelays: RelayRecord[] = [];
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
  ctx.ledger.sessions.push({ token: answer.body.token, userId: answer.body.id, phase: ctx.recorder.phase });
  return { name, email, password, id: answer.body.id, token: answer.body.token };
}

async function createChat(ctx: LoadContext, user: LoadUser, title: string): Promise<string | undefined> {
  const phase = ctx.recorder.phase;
  const answer = await ctx.recorder.send('chat.create', `${ctx.baseUrl}/api/v1/chats/new`, jsonInit('POST', user.token, { chat: { title } }));
  if (!answer.ok) return undefined;
  ctx.ledger.chats.set(answer.body.id, { id: answer.body.id, token: user.token, phase, title, unacknowledged: [] });
  return answer.body.id as string;
}

/** Streams an answer of `model` into a new chat; the record goes to `into`. */
async function savedStream(ctx: LoadContext, user: LoadUser, tag: string, into: StreamRecord[], model?: string, kind?: string): Promise<void> {
  const chatId = await createChat(ctx, user, `stream ${tag}`);
  if (chatId) into.push(await streamCompletion(ctx.recorder, ctx.baseUrl, user.token, chatId, `Cluster question ${tag}`, ctx.tokens, model, kind));
}

/** One virtual user's loop: a random mix of operations until `shouldStop()` (at most `maxOps`). */
export async function virtualUser(ctx: LoadContext, user: LoadUser, shouldStop: () => boolean, maxOps = 2000): Promise<void> {
  const { baseUrl, recorder, ledger } = ctx;
  const myChats: string[] = [];
  for (let n = 1; n <= maxOps && !shouldStop(); n++) {
    const tag = `${user.name}-${recorder.phase}-${n}`;
    const phase = recorder.phase;
    const roll = Math.random();
    if (roll < 0.1) {
      const answer = await recorder.send('signin', `${baseUrl}/api/v1/auths/signin`, jsonInit('POST', undefined, { email: user.email, password: user.password }));
      if (answer.ok) ledger.sessions.push({ token: answer.body.token, userId: answer.body.id, phase });
    } else if (roll < 0.28 || myChats.length === 0) {
      const id = await createChat(ctx, user, `chat ${tag}`);
      if (id) myChats.push(id);
    } else if (roll < 0.45) {
      const chat = ledger.chats.get(pick(myChats)!)!;
      const title = `renamed ${tag}`;
      chat.unacknowledged.push(title);
      const answer = await recorder.send('chat.rename', `${baseUrl}/api/v1/chats/${chat.id}`, jsonInit('POST', user.token, { chat: { title } }));
      if (answer.ok) {
        chat.title = title;
        chat.unacknowledged = [];
      }
    } else if (roll < 0.58) {
      const bytes = randomBytes(512 + Math.floor(Math.random() * 24 * 1024));
      const filename = `${tag}.bin`;
      const answer = await recorder.send('file.upload', `${baseUrl}/api/v1/files/`, () => {
        const form = new FormData();
        form.append('file', new Blob([bytes], { type: 'application/octet-stream' }), filename);
        return { method: 'POST', headers: { authorization: `Bearer ${user.token}` }, body: form };
      });
      if (answer.ok) ledger.files.push({ id: answer.body.id, token: user.token, filename, sha256: sha256(bytes), size: bytes.length, phase });
    } else if (roll < 0.68) {
      const id = pick(myChats)!;
      await recorder.send('chat.read', `${baseUrl}/api/v1/chats/${Math.random() < 0.5 ? id : ''}`, jsonInit('GET', user.token));
    } else if (roll < 0.88) {
      await savedStream(ctx, user, tag, ledger.streams);
    } else {
      ledger.relays.push(await relayCompletion(recorder, baseUrl, user.token, `Relay question ${tag}`, ctx.tokens));
    }
    await sleep(50 + Math.random() * 100);
  }
}

/** An API client's loop: relay-only streams, one after another, until `shouldStop()`. */
export async function apiClient(ctx: LoadContext, user: LoadUser, shouldStop: () => boolean): Promise<void> {
  for (let n = 1; !shouldStop(); n++) {
    ctx.ledger.relays.push(await relayCompletion(ctx.recorder, ctx.baseUrl, user.token, `API question ${user.name}-${ctx.recorder.phase}-${n}`, ctx.tokens));
    await sleep(100 + Math.random() * 100);
  }
}

/** Request kinds of the poisoned streams, which are not part of the load's figures. */
export const POISONED_KINDS = { saved: 'poisoned.completion', relay: 'poisoned.relay' } as const;

/** Asks `model` for `count` answers saved into chats and `count` relay-only ones, all at once. */
export async function poisonedStreams(ctx: LoadContext, user: LoadUser, model: string, count: number): Promise<void> {
  const tag = (kind: string, i: number) => `${user.name}-${ctx.recorder.phase}-poisoned-${kind}-${i}`;
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      await Promise.all([
        savedStream(ctx, user, tag('saved', i), ctx.ledger.poisoned, model, POISONED_KINDS.saved),
        relayCompletion(ctx.recorder, ctx.baseUrl, user.token, `Poisoned question ${tag('relay', i)}`, ctx.tokens, model, POISONED_KINDS.relay).then((r) =>
          ctx.ledger.poisonedRelays.push(r),
        ),
      ]);
    }),
  );
}
