import { describe, expect, it } from 'vitest';
import { changedFields, withoutSecrets } from './audit-details.js';

describe('audit details', () => {
  it('keeps only changed fields as before/after pairs', () => {
    expect(changedFields({ a: 1, b: [1, 2], c: 'x' }, { a: 1, b: [1, 3], c: undefined, d: true })).toEqual({
      b: { from: [1, 2], to: [1, 3] },
      d: { from: undefined, to: true },
    });
  });

  it('blanks secret-looking fields at any depth, keeping the markers that say what happened', () => {
    expect(
      withoutSecrets({
        name: 'ok',
        password: 'hunter2',
        nested: { api_key: 'sk-1', apiKey: 'sk-2', list: [{ token: 't' }, { password_hash: '$argon2' }] },
        connection: { api_key: 'changed' },
        user: { password: 'changed', secret: 'set', key: 'none' },
      }),
    ).toEqual({
      name: 'ok',
      password: '[redacted]',
      nested: { api_key: '[redacted]', apiKey: '[redacted]', list: [{ token: '[redacted]' }, { password_hash: '[redacted]' }] },
      connection: { api_key: 'changed' },
      user: { password: 'changed', secret: 'set', key: 'none' },
    });
  });
});
