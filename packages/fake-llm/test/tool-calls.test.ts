import { describe, expect, it } from 'vitest';
import { expectedText, planToolCall, TOOL_ARGUMENT_PIECES } from '../src/index.js';
import { postJson, sseChunks, useFakeLlm, user } from './helpers.js';

const ctx = useFakeLlm();
const completions = (): string => `${ctx.fake.url}/v1/chat/completions`;
const tools = [
  { type: 'function', function: { name: 'search', parameters: { type: 'object', properties: { query: { type: 'string' } } } } },
  { type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } },
];
const base = { model: 'fake-model', messages: [user('Find the weather in Lyon')], tools };

interface ToolDelta {
  index: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

describe('tool calls', () => {
  it('streams a call to the first tool, its arguments in fragments, ending with finish_reason tool_calls', async () => {
    const chunks = sseChunks(await (await postJson(completions(), { ...base, stream: true })).text());
    const deltas = chunks.flatMap((chunk) => ((chunk.choices[0]?.delta as { tool_calls?: ToolDelta[] } | undefined)?.tool_calls ?? []));
    expect(deltas).toHaveLength(TOOL_ARGUMENT_PIECES);
    expect(deltas[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'search' } });
    expect(deltas[0]?.id).toMatch(/^call_[0-9a-f]{12}$/);
    expect(JSON.parse(deltas.map((delta) => delta.function?.arguments ?? '').join(''))).toEqual({ query: 'Find the weather in Lyon' });
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('answers the same call in one body when not streaming, and honours tool_choice', async () => {
    const body = { ...base, tool_choice: { type: 'function', function: { name: 'lookup' } } };
    const whole = (await (await postJson(completions(), body)).json()) as {
      choices: { message: { content: unknown; tool_calls: { id: string; function: { name: string; arguments: string } }[] }; finish_reason: string }[];
    };
    const choice = whole.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const expected = planToolCall(body, body.messages, 0)!;
    expect(choice.message.tool_calls[0]?.function).toEqual({ name: 'lookup', arguments: expected.arguments });
  });

  it('answers in text after a tool result, and when tool_choice is none', async () => {
    const messages = [...base.messages, { role: 'assistant', content: null }, { role: 'tool', content: '12 degrees' }];
    const afterTool = (await (await postJson(completions(), { ...base, messages })).json()) as { choices: { message: { content: string } }[] };
    expect(afterTool.choices[0]?.message.content).toBe(expectedText({ model: 'fake-model', messages }));
    const none = (await (await postJson(completions(), { ...base, tool_choice: 'none' })).json()) as { choices: { message: { content: string } }[] };
    expect(none.choices[0]?.message.content).toBe(expectedText(base));
  });
});
