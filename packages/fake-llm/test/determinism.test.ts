import { describe, expect, it } from 'vitest';
import {
  expectedAnswer,
  expectedContinuation,
  expectedEmbedding,
  expectedText,
  planReply,
  promptTokenCount,
} from '../src/index.js';

const request = { model: 'fake-model', messages: [{ role: 'user', content: 'Tell me about rivers' }] };

describe('expectedAnswer', () => {
  it('is a pure function of model and prompt', () => {
    expect(expectedAnswer(request)).toEqual(expectedAnswer(structuredClone(request)));
    expect(expectedText(request)).not.toEqual(expectedText({ ...request, messages: [{ role: 'user', content: 'Tell me about lakes' }] }));
    expect(expectedText(request)).not.toEqual(expectedText({ ...request, model: 'fake-model-2' }));
  });

  it('gives `tokens` words, each but the first with one leading space', () => {
    const tokens = expectedAnswer(request);
    expect(tokens).toHaveLength(24);
    expect(tokens[0]).toMatch(/^[a-z]+$/);
    for (const token of tokens.slice(1)) expect(token).toMatch(/^ [a-z]+$/);
    expect(expectedAnswer(request, 64)).toHaveLength(64);
  });

  it('cuts at max_tokens, and a shorter answer is a prefix of a longer one', () => {
    const short = expectedAnswer({ ...request, max_tokens: 5 });
    expect(short).toEqual(expectedAnswer(request).slice(0, 5));
    expect(expectedAnswer({ ...request, max_tokens: 500 })).toHaveLength(24);
    expect(expectedAnswer(request, 64).slice(0, 24)).toEqual(expectedAnswer(request));
  });

  it('reads the text of content-part arrays', () => {
    const parts = { ...request, messages: [{ role: 'user', content: [{ type: 'text', text: 'Tell me about rivers' }] }] };
    expect(expectedText(parts)).toBe(expectedText(request));
  });

  it('ignores trailing assistant messages when seeding', () => {
    const withAssistant = { ...request, messages: [...request.messages, { role: 'assistant', content: 'whatever' }] };
    expect(expectedText(withAssistant)).toBe(expectedText(request));
  });
});

describe('continuation', () => {
  const full = expectedText(request);
  const continued = (partial: string): string =>
    expectedContinuation({ ...request, messages: [...request.messages, { role: 'assistant', content: partial }] }).join('');

  it('answers only the rest after a prefix cut on a token boundary', () => {
    const partial = expectedAnswer(request).slice(0, 3).join('');
    expect(partial + continued(partial)).toBe(full);
  });

  it('answers the rest of a word when the prefix stops inside it', () => {
    const partial = full.slice(0, 11);
    expect(partial + continued(partial)).toBe(full);
  });

  it('answers nothing when the prefix is the whole answer, everything for an empty prefix', () => {
    expect(continued(full)).toBe('');
    expect(continued('')).toBe(full);
  });

  it('answers the full answer when the assistant text is not a prefix', () => {
    expect(continued('Something else entirely')).toBe(full);
    expect(planReply({ ...request, messages: [...request.messages, { role: 'assistant', content: 'nope' }] }).isContinuation).toBe(false);
  });

  it('applies max_tokens to the remaining tokens', () => {
    const partial = expectedAnswer(request).slice(0, 4).join('');
    const reply = planReply({ ...request, max_tokens: 2, messages: [...request.messages, { role: 'assistant', content: partial }] });
    expect(reply.tokens).toEqual(expectedAnswer(request).slice(4, 6));
    expect(reply.finishReason).toBe('length');
  });
});

describe('planReply', () => {
  it('reports length only when max_tokens actually cut the answer', () => {
    expect(planReply({ ...request, max_tokens: 23 }).finishReason).toBe('length');
    expect(planReply({ ...request, max_tokens: 24 }).finishReason).toBe('stop');
    expect(planReply(request).finishReason).toBe('stop');
  });

  it('counts prompt words across all messages, at least one', () => {
    expect(promptTokenCount([{ role: 'system', content: 'be  brief' }, { role: 'user', content: ' hi there ' }])).toBe(4);
    expect(promptTokenCount([{ role: 'user', content: '' }])).toBe(1);
  });
});

describe('expectedEmbedding', () => {
  it('is a deterministic unit vector of 32 dimensions', () => {
    const vector = expectedEmbedding('hello world');
    expect(vector).toHaveLength(32);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 10);
    expect(expectedEmbedding('hello world')).toEqual(vector);
    expect(expectedEmbedding('hello there')).not.toEqual(vector);
  });
});
