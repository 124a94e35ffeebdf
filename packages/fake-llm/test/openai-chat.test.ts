import { describe, expect, it } from 'vitest';
import { expectedAnswer, expectedText } from '../src/index.js';
import { postJson, sseChunks, sseData, streamedText, useFakeLlm, user } from './helpers.js';

const ctx = useFakeLlm();
const completions = (): string => `${ctx.fake.url}/v1/chat/completions`;
const base = { model: 'fake-model', messages: [user('What is the weather like?')] };

describe('POST /v1/chat/completions, streaming', () => {
  it('streams exactly expectedText as SSE chunks, then a stop chunk and [DONE]', async () => {
    const res = await postJson(completions(), { ...base, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text();
    const data = sseData(text);
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = sseChunks(text);
    expect(streamedText(chunks)).toBe(expectedText(base));
    expect(chunks).toHaveLength(24 + 1);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: expectedAnswer(base)[0] });
    expect(chunks[1]?.choices[0]?.delta).toEqual({ content: expectedAnswer(base)[1] });
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ object: 'chat.completion.chunk', model: 'fake-model' });
      expect(chunk.id).toMatch(/^chatcmpl-[0-9a-f]{16}$/);
      expect(chunk.id).toBe(chunks[0]?.id);
    }
    expect(chunks.at(-1)?.choices[0]).toEqual({ index: 0, delta: {}, finish_reason: 'stop' });
  });

  it('gives the same text twice and different text for different messages', async () => {
    const first = streamedText(sseChunks(await (await postJson(completions(), { ...base, stream: true })).text()));
    const second = streamedText(sseChunks(await (await postJson(completions(), { ...base, stream: true })).text()));
    const other = { ...base, messages: [user('And tomorrow?')] };
    const third = streamedText(sseChunks(await (await postJson(completions(), { ...other, stream: true })).text()));
    expect(second).toBe(first);
    expect(third).not.toBe(first);
    expect(third).toBe(expectedText(other));
  });

  it('adds a usage chunk with empty choices when stream_options.include_usage is set', async () => {
    const messages = [{ role: 'system', content: 'Be brief.' }, user('Two words here')];
    const res = await postJson(completions(), { ...base, messages, stream: true, stream_options: { include_usage: true } });
    const chunks = sseChunks(await res.text());
    const usage = chunks.at(-1);
    expect(usage?.choices).toEqual([]);
    expect(usage?.usage).toEqual({ prompt_tokens: 5, completion_tokens: 24, total_tokens: 29 });
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('cuts at max_tokens with finish_reason length', async () => {
    const res = await postJson(completions(), { ...base, max_tokens: 5, stream: true, stream_options: { include_usage: true } });
    const chunks = sseChunks(await res.text());
    expect(streamedText(chunks)).toBe(expectedText({ ...base, max_tokens: 5 }));
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('length');
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(5);
  });

  it('accepts max_completion_tokens like max_tokens', async () => {
    const res = await postJson(completions(), { ...base, max_completion_tokens: 3 });
    const json = (await res.json()) as { choices: { message: { content: string }; finish_reason: string }[] };
    expect(json.choices[0]?.message.content).toBe(expectedText({ ...base, max_tokens: 3 }));
    expect(json.choices[0]?.finish_reason).toBe('length');
  });

  it('continues a partial answer so that partial + continuation = full', async () => {
    const partial = expectedAnswer(base).slice(0, 7).join('');
    const messages = [...base.messages, { role: 'assistant', content: partial }];
    const res = await postJson(completions(), { ...base, messages, stream: true, stream_options: { include_usage: true } });
    const chunks = sseChunks(await res.text());
    expect(partial + streamedText(chunks)).toBe(expectedText(base));
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(24 - 7);
  });

  it('answers again from the start, as OpenAI does, with openaiContinuation restart; as vLLM does with vllm', async () => {
    const partial = expectedAnswer(base).slice(0, 7).join('');
    const messages = [...base.messages, { role: 'assistant', content: partial }];
    try {
      ctx.fake.setOptions({ openaiContinuation: 'restart' });
      const restarted = await postJson(completions(), { ...base, messages, stream: true, continue_final_message: true });
      expect(streamedText(sseChunks(await restarted.text()))).toBe(expectedText(base));
      ctx.fake.setOptions({ openaiContinuation: 'vllm' });
      const plain = await postJson(completions(), { ...base, messages, stream: true });
      expect(streamedText(sseChunks(await plain.text()))).toBe(expectedText(base));
      const flagged = await postJson(completions(), { ...base, messages, stream: true, continue_final_message: true, add_generation_prompt: false });
      expect(partial + streamedText(sseChunks(await flagged.text()))).toBe(expectedText(base));
    } finally {
      ctx.fake.setOptions({ openaiContinuation: 'continue' });
    }
  });

  it('answers in full when the trailing assistant text is not a prefix', async () => {
    const messages = [...base.messages, { role: 'assistant', content: 'I made this up' }];
    const res = await postJson(completions(), { ...base, messages, stream: true });
    expect(streamedText(sseChunks(await res.text()))).toBe(expectedText(base));
  });

  it('still sends the role chunk when max_tokens is 0', async () => {
    const chunks = sseChunks(await (await postJson(completions(), { ...base, max_tokens: 0, stream: true })).text());
    expect(chunks.map((chunk) => chunk.choices[0]?.delta)).toEqual([{ role: 'assistant', content: '' }, {}]);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('length');
  });
});

describe('POST /v1/chat/completions, not streaming', () => {
  it('answers one chat.completion object with usage', async () => {
    const res = await postJson(completions(), base);
    expect(res.status).toBe(200);
    const json = (await res.json()) as Record<string, unknown>;
    expect(json).toMatchObject({
      object: 'chat.completion',
      model: 'fake-model',
      choices: [{ index: 0, message: { role: 'assistant', content: expectedText(base) }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 24, total_tokens: 29 },
    });
    expect(json.id).toMatch(/^chatcmpl-/);
    expect(typeof json.created).toBe('number');
  });

  it('uses the text parts of content arrays and also serves /chat/completions', async () => {
    const messages = [{ role: 'user', content: [{ type: 'text', text: 'What is the weather like?' }, { type: 'image_url', image_url: { url: 'x' } }] }];
    const res = await postJson(`${ctx.fake.url}/chat/completions`, { ...base, messages });
    const json = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(json.choices[0]?.message.content).toBe(expectedText(base));
  });
});

describe('validation', () => {
  it('rejects bad JSON with 400', async () => {
    const res = await postJson(completions(), '{"model": ');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/JSON/);
  });

  it.each([
    ['missing model', { messages: [user('hi')] }],
    ['missing messages', { model: 'fake-model' }],
    ['empty messages', { model: 'fake-model', messages: [] }],
    ['message without role', { model: 'fake-model', messages: [{ content: 'hi' }] }],
    ['negative max_tokens', { ...base, max_tokens: -1 }],
  ])('rejects %s with 400', async (_name, body) => {
    const res = await postJson(completions(), body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  });

  it('answers 404 for an unknown model', async () => {
    const res = await postJson(completions(), { ...base, model: 'gpt-9' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { message: "model 'gpt-9' not found", type: 'invalid_request_error' } });
  });
});
