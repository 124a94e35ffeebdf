import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3RVER_CREDENTIALS, startS3Server, type S3TestServer } from './support/s3-server.js';
import { startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { newChat, signUp, type TestUser } from './support/factories.js';
import { eventually } from './support/streams.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { testDialect } from './support/test-database.js';
import { jsonOf, type Chat, type Readiness, type Session, type UploadedFile, type User } from './support/wire.js';

// Two instances sharing PostgreSQL, Redis and S3, as behind a load balancer.
describe.skipIf(testDialect !== 'postgres')('two instances sharing PostgreSQL, Redis and S3', () => {
  let s3: S3TestServer;
  let fake: FakeLlm;
  let first: TestApp;
  let second: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    s3 = await startS3Server();
    fake = await startFakeLlm({ tokenMs: 30, tokens: 200 });
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: S3RVER_CREDENTIALS.S3_ACCESS_KEY_ID, secretAccessKey: S3RVER_CREDENTIALS.S3_SECRET_ACCESS_KEY },
    });
    await client.send(new CreateBucketCommand({ Bucket: 'parley-files' }));
    client.destroy();
    first = await startTestApp({
      LOGIN_RATE_LIMIT: '4',
      OPENAI_API_BASE_URLS: `${fake.url}/v1`,
      ENABLE_TITLE_GENERATION: 'false',
      STORAGE_PROVIDER: 's3',
      S3_ENDPOINT_URL: s3.endpoint,
      S3_BUCKET_NAME: 'parley-files',
      S3_KEY_PREFIX: 'uploads/',
      ...S3RVER_CREDENTIALS,
    });
    second = await startTestApp({}, { sameClusterAs: first });
    admin = await signUp(first);
  });
  afterAll(async () => {
    await second.close();
    await first.close();
    await s3.close();
    await fake.close();
  });

  it('stop a generation from another instance, keeping the partial answer', async () => {
    const chat = await newChat(first, admin);
    const response = await fetch(`${first.url}/api/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'long one' }], stream: true, chat_id: chat.id, parent_id: null }),
    });
    const id = response.headers.get('x-parley-generation-id')!;
    const reader = response.body!.getReader();
    await reader.read();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopped = Date.now();
    expect((await second.request('POST', `/api/chat/completions/${id}/stop`, { token: admin.token })).status).toBe(200);
    while (!(await reader.read()).done);
    // The whole answer takes 6 s (200 tokens, 30 ms apart): a stream that ends well before is one that was stopped.
    expect(Date.now() - stopped).toBeLessThan(4000);
    const saved = await eventually(async () => {
      const got = await second.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: admin.token });
      const answer = got.body.chat.messages.at(-1);
      return answer?.done ? answer : undefined;
    });
    expect(saved.info.stopped).toBe(true);
    expect(saved.content.length).toBeGreaterThan(0);
  });

  it('store files in S3: uploaded through one instance, downloaded through the other', async () => {
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    const form = new FormData();
    form.append('file', new Blob([bytes], { type: 'application/octet-stream' }), 'data.bin');
    const upload = await fetch(`${first.url}/api/v1/files/`, { method: 'POST', body: form, headers: { authorization: `Bearer ${admin.token}` } });
    expect(upload.status).toBe(200);
    const { id } = await jsonOf<UploadedFile>(upload);
    const download = await fetch(`${second.url}/api/v1/files/${id}/content`, { headers: { authorization: `Bearer ${admin.token}` } });
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
    expect((await second.request<Readiness>('GET', '/ready')).body.checks.storage).toBe('ok');
  });

  it('agree on the generated secret: a token from one works on the other', async () => {
    expect((await second.request<User>('GET', '/api/v1/auths/', { token: admin.token })).body.id).toBe(admin.id);
  });

  it('refuse a signed-out token on every instance at once', async () => {
    const session = await first.request<Session>('POST', '/api/v1/auths/signin', { body: { email: admin.email, password: admin.password } });
    expect((await second.request('POST', '/api/v1/auths/signout', { token: session.body.token })).status).toBe(200);
    expect((await first.request('GET', '/api/v1/auths/', { token: session.body.token })).status).toBe(401);
  });

  it('count failed sign-ins together: a limit of N admits N in total, not N per instance', async () => {
    const victim = await signUp(first);
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 6; attempt++) {
      const instance = attempt % 2 === 0 ? first : second;
      statuses.push((await instance.request('POST', '/api/v1/auths/signin', { body: { email: victim.email, password: 'wrong password' } })).status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
  });

  it('put an admin setting changed on one instance in force on the other within a second', async () => {
    expect((await first.request('POST', '/api/v1/auths/admin/config', { token: admin.token, body: { ENABLE_SIGNUP: false } })).status).toBe(200);
    const started = Date.now();
    await eventually(async () => {
      const response = await second.request('POST', '/api/v1/auths/signup', { body: { email: `late${Date.now()}@example.com`, password: 'long enough pw', name: 'L' } });
      return response.status === 403 ? true : undefined;
    }, 3000);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('report Redis in readiness', async () => {
    const ready = await second.request<Readiness>('GET', '/ready');
    expect(ready.body.checks.shared).toBe('ok');
  });
});
