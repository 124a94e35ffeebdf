import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedText, startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { newChat, type TestUser } from './support/factories.js';
import { sample } from './support/metrics.js';
import { createS3Client } from '../src/platform/storage/s3-storage.js';
import { S3RVER_CREDENTIALS, startS3Server, type S3TestServer } from './support/s3-server.js';
import { startWithUsers } from './support/start-with-users.js';
import { contentOf, eventually, readSse } from './support/streams.js';
import { startStallingProxy, type StallingProxy } from './support/stalling-proxy.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import type { TestApp } from './support/test-app.js';
import type { ErrorBody, Chat, UploadedFile, Readiness } from './support/wire.js';

const bucket = 'parley-outage';

/** Uploads `bytes` as the multipart field `file`. */
async function upload(app: TestApp, user: TestUser, bytes: Uint8Array<ArrayBuffer>) {
  const form = new FormData();
  form.append('file', new Blob([bytes], { type: 'application/octet-stream' }), 'notes.bin');
  const response = await fetch(`${app.url}/api/v1/files/`, { method: 'POST', body: form, headers: { authorization: `Bearer ${user.token}` } });
  return { status: response.status, headers: response.headers, body: (await response.json()) as UploadedFile & ErrorBody };
}

/** Settings for S3 storage reached at `port` (a proxy in front of s3rver). */
const s3Settings = (port: number) => ({
  STORAGE_PROVIDER: 's3',
  S3_ENDPOINT_URL: `http://127.0.0.1:${port}`,
  S3_BUCKET_NAME: bucket,
  S3_ADDRESSING_STYLE: 'path',
  ...S3RVER_CREDENTIALS,
});

// The object store behind proxies the test cuts or stalls: chats go on, uploads fail fast and retryably.
describe('an object store outage', () => {
  let s3: S3TestServer;
  let proxy: TcpProxy;
  let stalling: StallingProxy;
  let fake: FakeLlm;
  let app: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    s3 = await startS3Server();
    const client = createS3Client({ S3_ENDPOINT_URL: s3.endpoint, S3_BUCKET_NAME: bucket, S3_ADDRESSING_STYLE: 'path', ...S3RVER_CREDENTIALS });
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    client.destroy();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: s3.port });
    stalling = await startStallingProxy({ host: '127.0.0.1', port: s3.port });
    fake = await startFakeLlm();
    ({ app, user } = await startWithUsers({ OPENAI_API_BASE_URLS: `${fake.url}/v1`, ENABLE_TITLE_GENERATION: 'false', ...s3Settings(proxy.port) }));
  });
  afterAll(async () => {
    await proxy.restore().catch(() => undefined);
    await app.close();
    await proxy.close();
    await stalling.close();
    await s3.close();
    await fake.close();
  });

  it('keeps chats going and readiness true, refuses uploads fast with a retryable 503, and recovers', async () => {
    const storageUp = async () => sample((await app.request<string>('GET', '/metrics')).body, 'parley_dependency_up', { dependency: 'storage' });
    const before = await upload(app, user, new Uint8Array(1000).fill(1));
    expect(before.status).toBe(200);
    await proxy.cut();
    try {
      const started = Date.now();
      const refused = await upload(app, user, new Uint8Array(200_000).fill(2));
      expect(refused.status).toBe(503);
      expect(refused.body.code).toBe('unavailable');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(1500);
      // Once the store is known to be down, an upload is refused without waiting on it at all.
      const again = Date.now();
      expect((await upload(app, user, new Uint8Array(1000).fill(3))).status).toBe(503);
      // (Waiting on the store would take its 2 s ping limit.)
      expect(Date.now() - again).toBeLessThan(900);

      const ready = await app.request<Readiness>('GET', '/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.checks.storage).toMatch(/^degraded: /);
      expect(ready.body.degraded).toEqual(['storage']);
      expect(await storageUp()).toBe(0);

      const chat = await newChat(app, user);
      const messages = [{ role: 'user', content: 'still here?' }];
      const answer = await fetch(`${app.url}/api/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'fake-model', messages, stream: true, chat_id: chat.id, parent_id: null }),
      });
      expect(answer.status).toBe(200);
      expect(contentOf(await readSse(answer))).toBe(expectedText({ model: 'fake-model', messages }));
      const read = await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: user.token });
      expect(read.status).toBe(200);
      expect((await app.request('GET', `/api/v1/files/${before.body.id}`, { token: user.token })).status).toBe(200);
    } finally {
      await proxy.restore();
    }
    await eventually(async () => ((await upload(app, user, new Uint8Array(1000).fill(4))).status === 200 ? true : undefined), 10_000);
    expect((await app.request<Readiness>('GET', '/ready')).body.checks.storage).toBe('ok');
    expect(await storageUp()).toBe(1);
  });

  it('refuses uploads at once, without waiting on a store that stopped answering, once readiness has found it down', async () => {
    const { app: stalled, user: owner } = await startWithUsers({ ...s3Settings(stalling.port) });
    try {
      expect((await upload(stalled, owner, new Uint8Array(1000).fill(5))).status).toBe(200);
      stalling.stall();
      const ready = await stalled.request<Readiness>('GET', '/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.degraded).toEqual(['storage']);
      // The readiness ping gives up after 2 s and the store is then known to be down.
      await eventually(async () => {
        const started = Date.now();
        const refused = await upload(stalled, owner, new Uint8Array(100_000).fill(6));
        return refused.status === 503 && Date.now() - started < 300 ? refused : undefined;
      }, 5000);
      stalling.flow();
      await eventually(async () => ((await upload(stalled, owner, new Uint8Array(1000).fill(7))).status === 200 ? true : undefined), 10_000);
    } finally {
      stalling.flow();
      await stalled.close();
    }
  });
});
