import { describe, expect, it } from 'vitest';
import { toUpstreamError } from '../../platform/llm/upstream-stream.js';
import { UpstreamError } from '../../platform/llm/types.js';
import { toHttpError } from './upstream-failures.js';

const failure = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:1234`), { code });

describe('upstream failures before the stream', () => {
  it('answers a retryable 503 when this instance is out of sockets, since another instance may not be', () => {
    for (const code of ['EMFILE', 'ENFILE', 'EADDRNOTAVAIL']) {
      const error = toHttpError(toUpstreamError(failure(code)));
      expect(error.statusCode).toBe(503);
      expect(error.headers).toMatchObject({ 'retry-after': '1' });
    }
  });

  it('keeps 502 for a model server that refuses, 504 for one that is slow, and passes 429 on', () => {
    expect(toHttpError(toUpstreamError(failure('ECONNREFUSED'))).statusCode).toBe(502);
    expect(toHttpError(new UpstreamError('timeout', 'slow')).statusCode).toBe(504);
    expect(toHttpError(new UpstreamError('status', 'busy', 429, '3')).statusCode).toBe(429);
  });
});
