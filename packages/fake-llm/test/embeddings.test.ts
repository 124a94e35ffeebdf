import { describe, expect, it } from 'vitest';
import { expectedEmbedding } from '../src/index.js';
import { postJson, useFakeLlm } from './helpers.js';

const ctx = useFakeLlm();

interface OpenAiEmbeddings {
  object: string;
  model: string;
  data: { object: string; index: number; embedding: number[] | string }[];
  usage: { prompt_tokens: number; total_tokens: number };
}

describe('POST /v1/embeddings', () => {
  it('embeds a string as a 32-dimension unit vector with usage', async () => {
    const res = await postJson(`${ctx.fake.url}/v1/embeddings`, { model: 'fake-model', input: 'the quick fox' });
    const json = (await res.json()) as OpenAiEmbeddings;
    expect(json).toMatchObject({ object: 'list', model: 'fake-model', usage: { prompt_tokens: 3, total_tokens: 3 } });
    expect(json.data).toHaveLength(1);
    const vector = json.data[0]?.embedding as number[];
    expect(vector).toHaveLength(32);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 6);
    expect(vector).toEqual(expectedEmbedding('the quick fox'));
  });

  it('embeds an array of strings in order, deterministically', async () => {
    const body = { model: 'fake-model', input: ['alpha', 'beta', 'alpha'] };
    const first = (await (await postJson(`${ctx.fake.url}/v1/embeddings`, body)).json()) as OpenAiEmbeddings;
    const second = (await (await postJson(`${ctx.fake.url}/v1/embeddings`, body)).json()) as OpenAiEmbeddings;
    expect(second).toEqual(first);
    expect(first.data.map((item) => item.index)).toEqual([0, 1, 2]);
    expect(first.data[0]?.embedding).toEqual(first.data[2]?.embedding);
    expect(first.data[0]?.embedding).not.toEqual(first.data[1]?.embedding);
  });

  it('encodes base64 float32 when asked, as the OpenAI SDK does by default', async () => {
    const res = await postJson(`${ctx.fake.url}/v1/embeddings`, { model: 'fake-model', input: 'hello', encoding_format: 'base64' });
    const json = (await res.json()) as OpenAiEmbeddings;
    const bytes = Buffer.from(json.data[0]?.embedding as string, 'base64');
    const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
    expect(decoded).toHaveLength(32);
    decoded.forEach((value, i) => expect(value).toBeCloseTo(expectedEmbedding('hello')[i] as number, 6));
  });

  it('rejects a missing input with 400 and an unknown model with 404', async () => {
    expect((await postJson(`${ctx.fake.url}/v1/embeddings`, { model: 'fake-model' })).status).toBe(400);
    expect((await postJson(`${ctx.fake.url}/v1/embeddings`, { model: 'nope', input: 'x' })).status).toBe(404);
  });
});

describe('POST /api/embed', () => {
  it('answers embeddings for a string or an array, matching the OpenAI vectors', async () => {
    const single = (await (await postJson(`${ctx.fake.url}/api/embed`, { model: 'fake-model', input: 'hello' })).json()) as {
      model: string;
      embeddings: number[][];
    };
    expect(single.model).toBe('fake-model');
    expect(single.embeddings).toEqual([expectedEmbedding('hello')]);
    const many = (await (await postJson(`${ctx.fake.url}/api/embed`, { model: 'fake-model', input: ['a', 'b'] })).json()) as {
      embeddings: number[][];
    };
    expect(many.embeddings).toEqual([expectedEmbedding('a'), expectedEmbedding('b')]);
  });
});
