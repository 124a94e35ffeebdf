import { describe, expect, it } from 'vitest';
import { maskUrlCredentials, redactSecrets, secretsOf } from './redact.js';

describe('redactSecrets', () => {
  it('removes bearer keys, Authorization values, key-shaped tokens and URL credentials', () => {
    const cases: Array<[string, string]> = [
      ['Invalid key: Bearer sk-proj-abcdefghijklmnop', 'Invalid key: Bearer [redacted]'],
      ['Incorrect API key provided: sk-abcdef1234567890.', 'Incorrect API key provided: [redacted].'],
      ['{"headers":{"Authorization":"Bearer abc.def"}}', '{"headers":{"Authorization":"[redacted]"}}'],
      ['authorization: Basic dXNlcjpwYXNzd29yZA==', 'authorization: [redacted]'],
      ['proxy said Basic dXNlcjpwYXNzd29yZA== is wrong', 'proxy said Basic [redacted] is wrong'],
      ['x-api-key: abc123secret', 'x-api-key: [redacted]'],
      ['GET http://admin:hunter2@internal.example/v1 failed', 'GET http://admin:***@internal.example/v1 failed'],
      ['calling https://ghp_tokenvalue1234@git.example', 'calling https://***@git.example'],
      ['https://api.example/v1?key=AIzaSyA-1234567890abcdefghij&x=1', 'https://api.example/v1?key=[redacted]&x=1'],
      ['{"api_key": "plain-secret", "model": "m"}', '{"api_key": "[redacted]", "model": "m"}'],
      ['hf_abcdefghijklmnopqrstu and gsk_abcdefghijk', '[redacted] and [redacted]'],
    ];
    for (const [input, output] of cases) expect(redactSecrets(input), input).toBe(output);
  });

  it('removes the secrets it is told of, whatever their shape, and leaves ordinary words', () => {
    expect(redactSecrets('key zx9-custom-Key-01 refused', ['zx9-custom-Key-01'])).toBe('key [redacted] refused');
    expect(redactSecrets('Basic plan: token limit exceeded; Authorization failed', ['', 'abc'])).toBe('Basic plan: token limit exceeded; Authorization failed');
  });

  it('replaces NUL and bounds the length', () => {
    expect(redactSecrets('a\u0000b')).toBe('a\ufffdb');
    expect(redactSecrets('x'.repeat(10_000))).toHaveLength(2001);
  });
});

describe('maskUrlCredentials', () => {
  it('shows the user name and masks the password, or masks a lone user name', () => {
    expect(maskUrlCredentials('http://user:pass@host:8080/v1')).toBe('http://user:***@host:8080/v1');
    expect(maskUrlCredentials('https://token@host/v1?x=1')).toBe('https://***@host/v1?x=1');
    expect(maskUrlCredentials('http://u:p%40ss@host/path@x')).toBe('http://u:***@host/path@x');
    expect(maskUrlCredentials('http://host/v1?api-key=abc')).toBe('http://host/v1?api-key=[redacted]');
    expect(maskUrlCredentials('http://localhost:11434')).toBe('http://localhost:11434');
  });

  it('finds a target’s secrets by value: its key and its URL password, encoded or not', () => {
    expect(secretsOf({ apiKey: 'k-1', baseUrl: 'http://u:p%40ss@host' })).toEqual(['k-1', 'p@ss', 'p%40ss']);
  });
});
