import { describe, expect, it } from 'vitest';
import { parseOllamaLine } from './ollama-wire.js';
import { parseOpenAiEvent } from './openai-wire.js';
import type { UpstreamEvent } from './types.js';

function parsed(parse: (item: string, out: UpstreamEvent[]) => boolean, item: string): { events: UpstreamEvent[]; isComplete: boolean } {
  const events: UpstreamEvent[] = [];
  const isComplete = parse(item, events);
  return { events, isComplete };
}

const errorMessages = (events: UpstreamEvent[]) => events.flatMap((event) => (event.type === 'error' ? [event.message] : []));

describe('OpenAI chunks', () => {
  const openAi = (item: string) => parsed(parseOpenAiEvent, item);

  it('turns JSON that is not an object into an error event instead of throwing', () => {
    for (const item of ['null', '5', '"text"', '[1,2]', 'true', '[]']) {
      expect(errorMessages(openAi(item).events), item).toEqual(['upstream sent an event that is not a JSON object']);
    }
    expect(errorMessages(openAi('{"choices":[').events)).toEqual(['upstream sent an event that is not JSON']);
  });

  it('refuses content that is not text, and text holding NUL, rather than save `12345[object Object]`', () => {
    for (const content of ['12345', '{"a":1}', '[1]', 'true']) {
      const { events } = openAi(`{"choices":[{"delta":{"content":${content}}}]}`);
      expect(errorMessages(events), content).toEqual([expect.stringMatching(/content that is not text/)]);
      expect(events.some((event) => event.type === 'delta')).toBe(false);
    }
    expect(errorMessages(openAi('{"choices":[{"delta":{"content":"a\\u0000b"}}]}').events)).toEqual(['upstream sent a NUL character (U+0000) in the answer']);
  });

  it('refuses choices that are not a list of objects, and reads junk usage as zero', () => {
    expect(errorMessages(openAi('{"choices":"abc"}').events)).toEqual(['upstream sent choices that are not a list']);
    expect(errorMessages(openAi('{"choices":[null]}').events)).toEqual(['upstream sent a choice that is not a JSON object']);
    expect(openAi('{"choices":[],"usage":{"prompt_tokens":"many","completion_tokens":-3,"total_tokens":1e400}}').events).toEqual([
      { type: 'usage', usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } },
    ]);
  });

  it('keeps the upstream words of an error apart from its own', () => {
    expect(openAi('{"error":{"message":"quota exceeded"}}').events).toEqual([{ type: 'error', message: 'upstream reported an error', detail: 'quota exceeded' }]);
    expect(openAi('{"error":"plain"}').events).toEqual([{ type: 'error', message: 'upstream reported an error', detail: 'plain' }]);
    expect(openAi('{"error":{"code":7}}').events).toEqual([{ type: 'error', message: 'upstream reported an error', detail: '{"code":7}' }]);
  });

  it('says when the answer is complete: [DONE] or a finish reason', () => {
    expect(openAi('[DONE]')).toEqual({ events: [], isComplete: true });
    expect(openAi('{"choices":[{"delta":{"content":"hi"},"finish_reason":null}]}').isComplete).toBe(false);
    expect(openAi('{"choices":[{"delta":{},"finish_reason":"stop"}]}').isComplete).toBe(true);
  });
});

describe('Ollama lines', () => {
  const ollama = (item: string) => parsed(parseOllamaLine, item);

  it('turns JSON that is not an object into an error event instead of throwing', () => {
    for (const item of ['null', '5', '"text"', '[1,2]', 'false']) {
      expect(errorMessages(ollama(item).events), item).toEqual(['upstream sent a line that is not a JSON object']);
    }
    expect(errorMessages(ollama('{"message":').events)).toEqual(['upstream sent a line that is not JSON']);
    expect(errorMessages(ollama('{"message":"text"}').events)).toEqual(['upstream sent a message that is not a JSON object']);
  });

  it('refuses content or response that is not text', () => {
    expect(errorMessages(ollama('{"message":{"content":12345}}').events)).toEqual([expect.stringMatching(/content that is not text \(number\)/)]);
    expect(errorMessages(ollama('{"response":{"a":1}}').events)).toEqual([expect.stringMatching(/content that is not text \(object\)/)]);
    expect(errorMessages(ollama('{"response":"a\\u0000"}').events)).toEqual([expect.stringMatching(/NUL/)]);
  });

  it('says when the answer is complete (`done: true` only), with usage read safely', () => {
    expect(ollama('{"message":{"content":"hi"},"done":false}')).toEqual({ events: [{ type: 'delta', content: 'hi' }], isComplete: false });
    expect(ollama('{"done":"yes"}').isComplete).toBe(false);
    expect(ollama('{"done":true,"done_reason":"length","prompt_eval_count":3,"eval_count":"x"}')).toEqual({
      events: [
        { type: 'finish', reason: 'length' },
        { type: 'usage', usage: { prompt_tokens: 3, completion_tokens: 0, total_tokens: 3 } },
      ],
      isComplete: true,
    });
  });
});
