import { describe, expect, it } from 'vitest';
import { toUpstreamError } from '../../platform/llm/upstream-stream.js';
import { UpstreamError } from '../../platform/llm/types.js';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createUpstreamErrorPresenter, toHttpError } from './upstream-failures.js';

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

describe('upstream errors as users and admins see them', () => {
  const refused = new UpstreamError('status', 'upstream answered HTTP 401', 401, undefined, 'Invalid key [redacted]');
  const info = { id: 'gen-1', userId: 'u', model: 'm', upstreamModel: 'm', connectionId: 'c1', hasRawChunks: true, createdAt: 0 };

  function presenter() {
    const lines: Array<Record<string, unknown>> = [];
    const log = pino(new Writable({ write: (chunk: Buffer, _encoding, done) => void (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) }));
    return { present: createUpstreamErrorPresenter(log), lines };
  }

  it('gives users Parley’s words and a reference; the log holds the upstream’s words under it', async () => {
    const { present, lines } = presenter();
    const error = toHttpError(refused, (message, detail) => present(info, message, detail));
    expect(error.statusCode).toBe(502);
    const ref = /^Upstream error \(ref ([0-9a-f]{12})\): upstream answered HTTP 401$/.exec(error.message)?.[1];
    expect(ref).toBeDefined();
    await expect.poll(() => lines.length).toBe(1);
    expect(lines[0]).toMatchObject({ ref, generation: 'gen-1', connection: 'c1', upstreamError: 'upstream answered HTTP 401', upstreamDetail: 'Invalid key [redacted]' });
  });

  it('gives admins the upstream’s (redacted) words with the reference', () => {
    const { present } = presenter();
    const error = toHttpError(refused, (message, detail) => present({ ...info, seesUpstreamDetail: true }, message, detail));
    expect(error.message).toMatch(/^upstream answered HTTP 401: Invalid key \[redacted\] \(ref [0-9a-f]{12}\)$/);
  });

  it('keeps a 429 a 429 with its Retry-After, whoever asks', () => {
    const { present } = presenter();
    const limited = toHttpError(new UpstreamError('status', 'upstream answered HTTP 429', 429, '7', 'slow down org-123'), (message, detail) => present(info, message, detail));
    expect(limited).toMatchObject({ statusCode: 429, headers: { 'retry-after': '7' } });
    expect(limited.message).not.toContain('org-123');
  });
});

