import { describe, expect, it } from 'vitest';
import { jsonBodyProblem, MAX_JSON_DEPTH } from './input-guard.js';

/** `value` parsed from its JSON text, as the body parser hands both over. */
const check = (text: string) => jsonBodyProblem(JSON.parse(text), text);
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('input guard', () => {
  it('accepts nesting up to the limit and refuses one level more', () => {
    expect(check(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(check(nested(MAX_JSON_DEPTH + 1))).toMatch(/deeper than 64 levels/);
    expect(check(nested(100_000))).toMatch(/deeper than 64 levels/);
  });

  it('names the field holding a NUL, in a value or in a key', () => {
    expect(check('{"chat":{"messages":[{"content":"a\\u0000"}]}}')).toBe('Request body field chat.messages.0.content contains a NUL character (U+0000), which is not accepted');
    expect(check('{"params":{"k\\u0000":1}}')).toMatch(/field params\.k\\u0000 contains a NUL/);
    expect(check('"\\u0000"')).toMatch(/^Request body contains a NUL/);
  });

  it('lets an escaped backslash before u0000 through: that is text, not a NUL', () => {
    expect(check('{"a":"\\\\u0000"}')).toBeUndefined();
  });
});
