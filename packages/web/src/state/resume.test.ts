import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Chat } from '@parley/wire';
import type { History, Message } from '../lib/message';
import { initialChatState, openNewChat, useChat } from './chat';
import { sendMessage, stopAnswer } from './exchange';
import { openChat } from './open-chat';

// The server's side of the wire, played by a fetch stub: chats, completions and their resume endpoint.

/** An event stream the test writes to while the code under test reads it. */
function eventStream(headers: Record<string, string> = {}) {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  return {
    response: new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream', ...headers } }),
    send: (text: string) => controller.enqueue(encoder.encode(text)),
    /** The network drops: the reader's next read fails. */
    fail: () => controller.error(new TypeError('network error')),
  };
}

const data = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
/** One batch as Parley writes it: the id on its last event. */
const batch = (id: number, ...contents: string[]) => `${contents.map(data).join('').slice(0, -1)}id: ${id}\n\n`;
const done = 'data: [DONE]\n\n';

const user: Message = { id: 'u1', parentId: null, childrenIds: ['g1'], role: 'user', content: 'Hi', done: true };
const answer = (patch: Partial<Message> = {}): Message => ({ id: 'g1', parentId: 'u1', childrenIds: [], role: 'assistant', content: '', model: 'm', done: false, ...patch });
function chatWith(messages: Message[]): Chat {
  const history: History = { messages: Object.fromEntries(messages.map((m) => [m.id, m])), currentId: messages.at(-1)!.id };
  return { id: 'c', title: 'T', updated_at: 1, created_at: 1, pinned: false, archived: false, chat: { history } } as unknown as Chat;
}
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

interface Call {
  method: string;
  path: string;
  lastEventId: string | null;
  signal?: AbortSignal;
}

let calls: Call[];
let routes: Record<string, Array<() => Response | Promise<Response>>>;

/** Queues answers for `METHOD /path`, served in order (the last one repeats). */
function serve(route: string, ...responses: Array<() => Response | Promise<Response>>) {
  routes[route] = [...(routes[route] ?? []), ...responses];
}

const shown = () => useChat.getState().history.messages[useChat.getState().history.currentId ?? '']!;
const resumes = () => calls.filter((call) => call.path.endsWith('/stream'));

let online = true;

beforeEach(() => {
  calls = [];
  routes = {};
  online = true;
  vi.spyOn(navigator, 'onLine', 'get').mockImplementation(() => online);
  vi.stubGlobal('fetch', async (input: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET';
    const path = input.split('?')[0]!;
    calls.push({ method, path, lastEventId: new Headers(init.headers).get('last-event-id'), signal: init.signal ?? undefined });
    const queue = routes[`${method} ${path}`];
    if (!queue?.length) return json({ detail: 'Not found', code: 'not_found' }, 404);
    const next = queue.length > 1 ? queue.shift()! : queue[0]!;
    return next();
  });
});

afterEach(() => {
  vi.useRealTimers();
  openNewChat();
  useChat.setState(initialChatState);
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('an answer still being written when the chat opens (a reload)', () => {
  it('streams live from the first event, Stop reaches the server, and the saved message is loaded once at the end', async () => {
    const live = eventStream();
    serve('GET /api/v1/chats/c', () => json(chatWith([user, answer()])), () => json(chatWith([user, answer({ content: 'Hello world', done: true, usage: { completion_tokens: 2 } })])));
    serve('GET /api/chat/completions/g1/stream', () => live.response);
    serve('POST /api/chat/completions/g1/stop', () => json({ status: true }));
    await openChat('c');

    await vi.waitFor(() => expect(resumes()).toHaveLength(1));
    expect(resumes()[0]!.lastEventId).toBe('0');
    live.send(batch(1, 'Hello'));
    await vi.waitFor(() => expect(shown().content).toBe('Hello'));
    // The same state as this tab's own stream: the Stop button is shown and stops the server's generation.
    expect(useChat.getState().generation).toMatchObject({ chatId: 'c', messageId: 'g1', generationId: 'g1' });
    expect(useChat.getState().notice).toBeNull();
    await stopAnswer();
    expect(calls.some((call) => call.method === 'POST' && call.path === '/api/chat/completions/g1/stop')).toBe(true);

    live.send(batch(2, ' world') + done);
    await vi.waitFor(() => expect(shown().usage).toEqual({ completion_tokens: 2 }));
    expect(shown()).toMatchObject({ content: 'Hello world', done: true });
    expect(useChat.getState().generation).toBeNull();
    expect(calls.filter((call) => call.path === '/api/v1/chats/c')).toHaveLength(2);
  });

  it("waits for the saved answer when the generation's log is gone (404)", async () => {
    const pending = () => json(chatWith([user, answer()]));
    // Opened, then polled once while it is still being written, then saved.
    serve('GET /api/v1/chats/c', pending, pending, () => json(chatWith([user, answer({ content: 'Saved', done: true })])));
    await openChat('c');
    await vi.waitFor(() => expect(useChat.getState().notice?.text).toMatch(/still being written/));
    await vi.waitFor(() => expect(shown()).toMatchObject({ content: 'Saved', done: true }), { timeout: 3000 });
    expect(useChat.getState().notice).toBeNull();
    expect(resumes()).toHaveLength(1);
  });

  it('waits for the saved answer when reconnecting keeps failing', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const pending = () => json(chatWith([user, answer()]));
    serve('GET /api/v1/chats/c', pending, pending, () => json(chatWith([user, answer({ content: 'Saved', done: true })])));
    serve('GET /api/chat/completions/g1/stream', () => json({ detail: 'Service unavailable', code: 'unavailable' }, 503));
    await openChat('c');
    // Six attempts over 12.5 s (waits of 0.5, 1, 2, 4 and 5 s), then the poll of the saved chat.
    await vi.advanceTimersByTimeAsync(12_400);
    expect(resumes()).toHaveLength(5);
    await vi.advanceTimersByTimeAsync(600);
    expect(resumes()).toHaveLength(6);
    expect(useChat.getState().notice?.text).toMatch(/still being written/);
    await vi.advanceTimersByTimeAsync(1000);
    expect(shown()).toMatchObject({ content: 'Saved', done: true });
    expect(useChat.getState().notice).toBeNull();
    expect(resumes()).toHaveLength(6);
  });

  it('stops following when another chat is opened', async () => {
    const live = eventStream();
    serve('GET /api/v1/chats/c', () => json(chatWith([user, answer()])));
    serve('GET /api/chat/completions/g1/stream', () => live.response);
    await openChat('c');
    await vi.waitFor(() => expect(resumes()).toHaveLength(1));
    openNewChat();
    expect(resumes()[0]!.signal?.aborted).toBe(true);
    expect(useChat.getState().generation).toBeNull();
  });
});

describe('a stream that drops mid-answer', () => {
  it('says so, reconnects from the last whole batch and continues the same text, without doubling or losing any', async () => {
    const posted = eventStream({ 'x-parley-generation-id': 'g2' });
    const resumed = eventStream();
    serve('POST /api/chat/completions', () => posted.response);
    // The first reconnect fails too (the network is still down), the second gets through.
    serve('GET /api/chat/completions/g2/stream', () => Promise.reject(new TypeError('Failed to fetch')), () => resumed.response);
    const saved = (content: string) => json(chatWith([{ ...user, childrenIds: ['g2'] }, answer({ id: 'g2', content, done: true })]));
    serve('GET /api/v1/chats/c', () => saved('One two three four five'));
    useChat.setState({ ...initialChatState, chatId: 'c' });
    const texts: string[] = [];
    const unsubscribe = useChat.subscribe((state) => {
      const message = state.history.messages[state.history.currentId ?? ''];
      if (message?.role === 'assistant' && texts.at(-1) !== message.content) texts.push(message.content);
    });

    const sending = sendMessage('Hi', 'm', []);
    await vi.waitFor(() => expect(calls.some((call) => call.method === 'POST')).toBe(true));
    // Batches 1 and 2 arrive whole, batch 3 only in part (its id never came).
    posted.send(batch(1, 'One') + batch(2, ' two') + data(' three'));
    await vi.waitFor(() => expect(shown().content).toBe('One two three'));
    posted.fail();

    await vi.waitFor(() => expect(useChat.getState().notice?.text).toMatch(/connection dropped/i));
    expect(useChat.getState().generation).toMatchObject({ generationId: 'g2' });
    await vi.waitFor(() => expect(resumes()).toHaveLength(2), { timeout: 3000 });
    expect(resumes().map((call) => call.lastEventId)).toEqual(['2', '2']);
    // The server replays batch 3 whole, then goes on live.
    resumed.send(batch(3, ' three', ' four'));
    await vi.waitFor(() => expect(shown().content).toBe('One two three four'));
    expect(useChat.getState().notice).toBeNull();
    resumed.send(batch(4, ' five') + done);
    await sending;
    unsubscribe();

    expect(shown()).toMatchObject({ id: 'g2', content: 'One two three four five', done: true });
    expect(texts.every((text) => 'One two three four five'.startsWith(text))).toBe(true);
    expect(useChat.getState().generation).toBeNull();
  });

  it('follows a takeover: drops the partial text when another instance answers afresh, keeps it when it continues', async () => {
    const takeover = (mode: 'continue' | 'regenerate') => `data: ${JSON.stringify({ parley: { event: 'takeover', mode } })}\n\n`;
    for (const mode of ['regenerate', 'continue'] as const) {
      const posted = eventStream({ 'x-parley-generation-id': 'g3' });
      const resumed = eventStream();
      routes = {};
      calls = [];
      serve('POST /api/chat/completions', () => posted.response);
      serve('GET /api/chat/completions/g3/stream', () => resumed.response);
      const final = mode === 'regenerate' ? 'Fresh answer' : 'One two three';
      serve('GET /api/v1/chats/c', () => json(chatWith([{ ...user, childrenIds: ['g3'] }, answer({ id: 'g3', content: final, done: true })])));
      useChat.setState({ ...initialChatState, chatId: 'c' });
      const texts: string[] = [];
      const unsubscribe = useChat.subscribe((state) => {
        const message = state.history.messages[state.history.currentId ?? ''];
        if (message?.role === 'assistant' && texts.at(-1) !== message.content) texts.push(message.content);
      });

      const sending = sendMessage('Hi', 'm', []);
      await vi.waitFor(() => expect(calls.some((call) => call.method === 'POST')).toBe(true));
      posted.send(batch(1, 'One') + batch(2, ' two'));
      await vi.waitFor(() => expect(shown().content).toBe('One two'));
      // The instance writing the answer dies; another takes it over.
      posted.fail();
      await vi.waitFor(() => expect(resumes()).toHaveLength(1), { timeout: 3000 });
      if (mode === 'regenerate') resumed.send(takeover(mode) + batch(3, 'Fresh') + batch(4, ' answer') + done);
      else resumed.send(takeover(mode) + batch(3, ' three') + done);
      await sending;
      unsubscribe();

      expect(shown()).toMatchObject({ content: final, done: true });
      // Never a repeated text on the way: after the takeover the answer shows only what the model wrote.
      expect(texts.at(-1)).toBe(final);
      expect(texts.some((text) => text.includes('One two') && text.includes('Fresh'))).toBe(false);
      openNewChat();
    }
  });

  it('waits while the browser is offline, then reconnects', async () => {
    const posted = eventStream({ 'x-parley-generation-id': 'g2' });
    const resumed = eventStream();
    serve('POST /api/chat/completions', () => posted.response);
    serve('GET /api/chat/completions/g2/stream', () => resumed.response);
    serve('GET /api/v1/chats/c', () => json(chatWith([{ ...user, childrenIds: ['g2'] }, answer({ id: 'g2', content: 'A B', done: true })])));
    useChat.setState({ ...initialChatState, chatId: 'c' });

    const sending = sendMessage('Hi', 'm', []);
    await vi.waitFor(() => expect(calls.some((call) => call.method === 'POST')).toBe(true));
    posted.send(batch(1, 'A'));
    await vi.waitFor(() => expect(shown().content).toBe('A'));
    online = false;
    posted.fail();
    await vi.waitFor(() => expect(useChat.getState().notice).toMatchObject({ kind: 'offline', text: expect.stringMatching(/offline/) }));
    expect(resumes()).toHaveLength(0);

    online = true;
    window.dispatchEvent(new Event('online'));
    await vi.waitFor(() => expect(resumes()).toHaveLength(1));
    expect(resumes()[0]!.lastEventId).toBe('1');
    resumed.send(batch(2, ' B') + done);
    await sending;
    expect(shown()).toMatchObject({ content: 'A B', done: true });
    expect(useChat.getState().notice).toBeNull();
  });
});
