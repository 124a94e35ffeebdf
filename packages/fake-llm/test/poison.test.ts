import { describe, expect, it } from 'vitest';
import { echoedAuthMessage, expectedAnswer, expectedText, MODEL_IDS, POISON_MODELS } from '../src/index.js';
import { postJson, useFakeLlm, user } from './helpers.js';

const ctx = useFakeLlm({ hugeLineBytes: 1024 * 1024 });
const messages = [user('Poison please')];
const openAi = (model: string, stream = true): Promise<Response> => postJson(`${ctx.fake.url}/v1/chat/completions`, { model, messages, stream }, { authorization: 'Bearer sk-test-echoed-key-123456' });
const ollama = (model: string, stream = true): Promise<Response> => postJson(`${ctx.fake.url}/api/chat`, { model, messages, stream }, { authorization: 'Bearer sk-test-echoed-key-123456' });
const firstThree = (model: string): string => expectedAnswer({ model, messages }).slice(0, 3).join('');

describe('poisoned models', () => {
  it('are listed like every other model', () => {
    for (const model of POISON_MODELS) expect(MODEL_IDS).toContain(model);
  });

  it('poison-null puts `data: null` / `null` after three tokens, then finishes normally', async () => {
    const sse = await (await openAi('poison-null')).text();
    expect(sse).toContain('\n\ndata: null\n\n');
    expect(sse.endsWith('data: [DONE]\n\n')).toBe(true);
    const ndjson = (await (await ollama('poison-null')).text()).split('\n');
    expect(ndjson[3]).toBe('null');
    expect(JSON.parse(ndjson.at(-2)!)).toMatchObject({ done: true });
  });

  it('poison-non-object, poison-invalid-json, poison-non-string and poison-nul send what they say', async () => {
    expect(await (await openAi('poison-non-object')).text()).toContain('data: [1,2,3]\n\n');
    expect(await (await ollama('poison-non-object')).text()).toContain('\n"just a string"\n');
    expect(await (await openAi('poison-invalid-json')).text()).toContain('data: {"choices":[{"delta":{"content":"x"\n\n');
    const nonString = await (await openAi('poison-non-string')).text();
    expect(nonString).toContain('"content":12345');
    expect(nonString).toContain('"content":{"a":1}');
    expect(await (await ollama('poison-non-string')).text()).toContain('"content":12345');
    expect(await (await openAi('poison-nul')).text()).toContain('nul\\u0000byte');
  });

  it('poison-cr, poison-crlf and poison-bom send the whole valid answer with other line endings or a BOM', async () => {
    const answer = expectedText({ model: 'poison-cr', messages });
    const cr = await (await openAi('poison-cr')).text();
    expect(cr).not.toContain('\n');
    expect(cr.endsWith('data: [DONE]\r\r')).toBe(true);
    const crlf = await (await ollama('poison-crlf')).text();
    expect(crlf.split('\r\n').filter(Boolean).map((line) => (JSON.parse(line) as { message: { content: string } }).message.content).join('')).toBe(
      expectedText({ model: 'poison-crlf', messages }),
    );
    const bom = new Uint8Array(await (await openAi('poison-bom')).arrayBuffer());
    expect([...bom.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(answer.length).toBeGreaterThan(0);
  });

  it('poison-huge-line sends hugeLineBytes without a newline', async () => {
    const body = await (await openAi('poison-huge-line')).text();
    expect(body.startsWith('data: {"x":"aaa')).toBe(true);
    expect(body.length).toBe('data: {"x":"'.length + 1024 * 1024);
    expect(body).not.toMatch(/[\r\n]/);
  });

  it('poison-html answers 200 text/html; poison-cut ends cleanly after three tokens', async () => {
    const html = await openAi('poison-html');
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    expect(await html.text()).toContain('<html>');
    const cut = await (await openAi('poison-cut')).text();
    expect(cut).not.toContain('[DONE]');
    expect(cut).not.toContain('finish_reason":"');
    expect(cut.split('\n\n').filter(Boolean)).toHaveLength(3);
    const cutOllama = await (await ollama('poison-cut')).text();
    expect(cutOllama).not.toContain('"done":true');
    expect(cutOllama.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { message: { content: string } }).message.content).join('')).toBe(
      firstThree('poison-cut'),
    );
  });

  it('echo-auth models echo the Authorization header, before the stream or inside it', async () => {
    const refused = await openAi('echo-auth-401');
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: { message: echoedAuthMessage('Bearer sk-test-echoed-key-123456') } });
    expect(echoedAuthMessage('Bearer x')).toContain('http://admin:hunter2@');
    const midstream = await (await ollama('echo-auth-midstream')).text();
    expect(midstream).toContain('Bearer sk-test-echoed-key-123456');
  });

  it('answers non-streamed requests normally, except the status poisons', async () => {
    const whole = (await (await openAi('poison-null', false)).json()) as { choices: Array<{ message: { content: string } }> };
    expect(whole.choices[0]!.message.content).toBe(expectedText({ model: 'poison-null', messages }));
    expect((await openAi('echo-auth-401', false)).status).toBe(401);
  });
});
