import { describe, expect, it } from 'vitest';
import { expectedText, MODEL_IDS } from '../src/index.js';
import { ndjsonLines, postJson, useFakeLlm, user } from './helpers.js';

const ctx = useFakeLlm();
const messages = [{ role: 'system', content: 'You are terse.' }, user('Name a colour')];

interface ChatLine {
  model: string;
  created_at: string;
  message: { role: string; content: string };
  done: boolean;
  done_reason?: string;
  [stat: string]: unknown;
}
interface GenerateLine extends Omit<ChatLine, 'message'> {
  response: string;
}

const DURATIONS = ['total_duration', 'load_duration', 'prompt_eval_duration', 'eval_duration'];

describe('POST /api/chat', () => {
  it('streams NDJSON by default, text equal to expectedText, then a done line with stats', async () => {
    const res = await postJson(`${ctx.fake.url}/api/chat`, { model: 'fake-model', messages });
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = ndjsonLines<ChatLine>(await res.text());
    expect(lines).toHaveLength(25);
    const tokens = lines.slice(0, -1);
    for (const line of tokens) expect(line).toMatchObject({ model: 'fake-model', message: { role: 'assistant' }, done: false });
    expect(tokens.map((line) => line.message.content).join('')).toBe(expectedText({ model: 'fake-model', messages }));
    const last = lines.at(-1)!;
    expect(last).toMatchObject({ message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', prompt_eval_count: 6, eval_count: 24 });
    for (const name of DURATIONS) expect(last[name]).toBeTypeOf('number');
    expect(last.eval_duration as number).toBeGreaterThan(0);
    expect(Number.isNaN(Date.parse(last.created_at))).toBe(false);
  });

  it('answers one object with stream: false, and honours options.num_predict', async () => {
    const res = await postJson(`${ctx.fake.url}/api/chat`, { model: 'fake-model', messages, stream: false, options: { num_predict: 4 } });
    const json = (await res.json()) as ChatLine;
    expect(json.message.content).toBe(expectedText({ model: 'fake-model', messages, max_tokens: 4 }));
    expect(json).toMatchObject({ done: true, done_reason: 'length', eval_count: 4 });
  });

  it('treats a negative num_predict as no limit', async () => {
    const res = await postJson(`${ctx.fake.url}/api/chat`, { model: 'fake-model', messages, stream: false, options: { num_predict: -1 } });
    expect(((await res.json()) as ChatLine).eval_count).toBe(24);
  });

  it('gives the same text as the OpenAI route for the same messages', async () => {
    const ollama = (await (await postJson(`${ctx.fake.url}/api/chat`, { model: 'fake-model-2', messages, stream: false })).json()) as ChatLine;
    const openai = (await (await postJson(`${ctx.fake.url}/v1/chat/completions`, { model: 'fake-model-2', messages })).json()) as {
      choices: { message: { content: string } }[];
    };
    expect(ollama.message.content).toBe(openai.choices[0]?.message.content);
  });

  it('answers 404 in the Ollama shape for an unknown model, 400 without a model', async () => {
    const missing = await postJson(`${ctx.fake.url}/api/chat`, { model: 'llama3', messages });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "model 'llama3' not found" });
    const bad = await postJson(`${ctx.fake.url}/api/chat`, { messages });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: unknown }).error).toBeTypeOf('string');
  });
});

describe('POST /api/generate', () => {
  const body = { model: 'fake-model', system: 'You are terse.', prompt: 'Name a colour' };

  it('streams `response` tokens whose text matches chat with the same system and prompt', async () => {
    const lines = ndjsonLines<GenerateLine>(await (await postJson(`${ctx.fake.url}/api/generate`, body)).text());
    expect(lines.slice(0, -1).map((line) => line.response).join('')).toBe(expectedText({ model: 'fake-model', messages }));
    expect(lines.at(-1)).toMatchObject({ response: '', done: true, done_reason: 'stop', eval_count: 24 });
  });

  it('answers one object with stream: false', async () => {
    const res = await postJson(`${ctx.fake.url}/api/generate`, { model: 'fake-model', prompt: 'Name a colour', stream: false });
    const json = (await res.json()) as GenerateLine;
    expect(json.response).toBe(expectedText({ model: 'fake-model', messages: [user('Name a colour')] }));
    expect(json).toMatchObject({ done: true, prompt_eval_count: 3, eval_count: 24 });
  });

  it('only "loads" the model when there is no prompt, as Ollama does', async () => {
    const res = await postJson(`${ctx.fake.url}/api/generate`, { model: 'fake-model' });
    expect(await res.json()).toMatchObject({ response: '', done: true, done_reason: 'load' });
  });
});

describe('Ollama listings', () => {
  it('lists every model in /api/tags', async () => {
    const json = (await (await fetch(`${ctx.fake.url}/api/tags`)).json()) as { models: { name: string; model: string; digest: string; details: object }[] };
    expect(json.models.map((model) => model.name)).toEqual([...MODEL_IDS]);
    expect(json.models[0]).toMatchObject({ name: 'fake-model', model: 'fake-model', details: { format: 'gguf' } });
    expect(json.models[0]?.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reports a version and answers the health check', async () => {
    expect(await (await fetch(`${ctx.fake.url}/api/version`)).json()).toEqual({ version: expect.any(String) });
    expect(await (await fetch(`${ctx.fake.url}/`)).text()).toBe('Ollama is running');
  });
});
