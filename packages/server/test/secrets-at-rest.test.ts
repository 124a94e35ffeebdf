import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { deriveEncryptionKey, SecretBox } from '../src/platform/crypto/secret-box.js';
import { signUp, type TestUser } from './support/factories.js';
import { captureLog, type LogCapture } from './support/log-capture.js';
import { completionAuthorization, randomSecret, storedApiKeys, storedSigningSecret } from './support/secrets.js';
import { runServer } from './support/server-process.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import type { Connection } from './support/wire.js';

const sealedPrefix = /^enc:v1:[0-9a-f]{8}:[A-Za-z0-9_-]+$/;

describe('secrets at rest: connection API keys written through the admin API', () => {
  const encryptionKey = randomSecret('encryption');
  const firstKey = randomSecret('sk-first');
  const secondKey = randomSecret('sk-second');
  let fake: FakeLlm;
  let app: TestApp;
  let admin: TestUser;
  let log: LogCapture;
  let connectionId: string;

  beforeAll(async () => {
    fake = await startFakeLlm({ apiKey: firstKey });
    log = captureLog();
    // Every line the product writes, requests and upstream calls included, must stay free of keys.
    app = await startTestApp({ PARLEY_ENCRYPTION_KEY: encryptionKey, LOG_LEVEL: 'trace' }, { logTo: log.stream });
    admin = await signUp(app);
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  it('stores a created key encrypted, shows it masked, and sends the real one upstream', async () => {
    const created = await app.request<Connection>('POST', '/api/v1/connections/', {
      token: admin.token,
      body: { type: 'openai', base_url: `${fake.url}/v1`, api_key: firstKey },
    });
    expect(created.status).toBe(200);
    connectionId = created.body.id;
    expect(created.body.api_key).toBe(`${firstKey.slice(0, 4)}…${firstKey.slice(-4)}`);
    const stored = (await storedApiKeys(app))[connectionId]!;
    expect(stored).toMatch(sealedPrefix);
    expect(stored).not.toContain(firstKey);
    const listed = await app.request<Connection[]>('GET', '/api/v1/connections/', { token: admin.token });
    expect(JSON.stringify(listed.body)).not.toContain(firstKey);
    expect(await completionAuthorization(app, admin.token, fake)).toEqual({ status: 200, authorization: `Bearer ${firstKey}` });
  });

  it('keeps the stored key when the masked one is sent back, and encrypts a new one', async () => {
    const before = (await storedApiKeys(app))[connectionId]!;
    const masked = `${firstKey.slice(0, 4)}…${firstKey.slice(-4)}`;
    expect((await app.request('POST', `/api/v1/connections/${connectionId}/update`, { token: admin.token, body: { api_key: masked, name: 'renamed' } })).status).toBe(200);
    expect((await storedApiKeys(app))[connectionId]).toBe(before);

    fake.setOptions({ apiKey: secondKey });
    const updated = await app.request('POST', `/api/v1/connections/${connectionId}/update`, { token: admin.token, body: { api_key: secondKey } });
    expect(updated.status).toBe(200);
    const stored = (await storedApiKeys(app))[connectionId]!;
    expect(stored).toMatch(sealedPrefix);
    expect(stored).not.toContain(secondKey);
    expect(await completionAuthorization(app, admin.token, fake)).toEqual({ status: 200, authorization: `Bearer ${secondKey}` });
    const tested = await app.request('POST', `/api/v1/connections/${connectionId}/test`, { token: admin.token });
    expect(tested.body).toMatchObject({ ok: true });
  });

  it('refuses a key that would read back as an encrypted value', async () => {
    const response = await app.request('POST', '/api/v1/connections/', {
      token: admin.token,
      body: { type: 'openai', base_url: `${fake.url}/v1`, api_key: 'enc:v1:00000000:AAAA' },
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'bad_request' });
  });

  it('keeps the generated token-signing secret encrypted', async () => {
    expect(await storedSigningSecret(app)).toMatch(sealedPrefix);
    expect((await app.request('GET', '/api/v1/auths/', { token: admin.token })).status).toBe(200);
  });

  it('never writes a key (nor the encryption key) to the logs, and logs that secrets are encrypted', async () => {
    await log.flushed(app.parley.platform.log);
    expect(log.lines.length).toBeGreaterThan(10);
    for (const secret of [firstKey, secondKey, encryptionKey]) expect(log.raw()).not.toContain(secret);
    expect(log.lines.some((line) => line.msg === 'secrets at rest are encrypted' && line.source === 'PARLEY_ENCRYPTION_KEY')).toBe(true);
    expect(log.lines.some((line) => /unencrypted/.test(String(line.msg)))).toBe(false);
  });

  it('answers 503, not garbage to the upstream, when a key written elsewhere does not decrypt here', async () => {
    const stranger = new SecretBox(await deriveEncryptionKey(randomSecret('elsewhere'), 'test'));
    const foreign = stranger.seal(randomSecret('sk-foreign'), `connections.api_key:${connectionId}`);
    await app.parley.platform.db.kysely.updateTable('connections').set({ api_key: foreign }).where('id', '=', connectionId).execute();
    const before = fake.requests.length;
    const listed = await app.request('GET', '/api/v1/connections/', { token: admin.token });
    expect(listed.status).toBe(503);
    expect(listed.body).toMatchObject({ code: 'unavailable', detail: expect.stringMatching(/cannot be decrypted/) });
    expect((await app.request('POST', `/api/v1/connections/${connectionId}/test`, { token: admin.token })).status).toBe(503);
    // Deleting it still works: the key need not be read for that.
    expect((await app.request('DELETE', `/api/v1/connections/${connectionId}`, { token: admin.token })).status).toBe(200);
    expect(fake.requests.slice(before).filter((request) => request.headers.authorization !== undefined)).toEqual([]);
  });
});

describe('secrets at rest: values stored in plain text before a key was configured', () => {
  const upstreamKey = randomSecret('sk-legacy');
  const encryptionKey = randomSecret('encryption');
  let fake: FakeLlm;
  let legacy: TestApp;
  let legacyLog: LogCapture;
  let admin: TestUser;
  let plainValues: Record<string, string>;
  let plainSecret: string;

  beforeAll(async () => {
    fake = await startFakeLlm({ apiKey: upstreamKey });
    legacyLog = captureLog();
    legacy = await startTestApp({ OPENAI_API_BASE_URLS: `${fake.url}/v1`, OPENAI_API_KEYS: upstreamKey, LOG_LEVEL: 'info' }, { logTo: legacyLog.stream });
    admin = await signUp(legacy);
    plainValues = await storedApiKeys(legacy);
    plainSecret = (await storedSigningSecret(legacy))!;
  });
  afterAll(async () => {
    await legacy.close();
    await fake.close();
  });

  it('warns at start-up without a key: secrets unencrypted, and the signing secret only in the database', async () => {
    expect(Object.values(plainValues)).toEqual([upstreamKey]);
    expect(plainSecret).not.toMatch(/^enc:/);
    await legacyLog.flushed(legacy.parley.platform.log);
    const warnings = legacyLog.lines.filter((line) => line.level === 40).map((line) => String(line.msg));
    expect(warnings).toContainEqual(expect.stringMatching(/^secrets are stored unencrypted.*set PARLEY_ENCRYPTION_KEY/));
    expect(warnings).toContainEqual(expect.stringMatching(/^WEBUI_SECRET_KEY is not set: the token-signing secret lives only in the database \(in plain text/));
  });

  it('encrypts them at the next start with a key, and everything keeps working', async () => {
    const log = captureLog();
    const encrypted = await startTestApp({ PARLEY_ENCRYPTION_KEY: encryptionKey, LOG_LEVEL: 'info' }, { sameClusterAs: legacy, logTo: log.stream });
    try {
      const stored = await storedApiKeys(encrypted);
      expect(Object.keys(stored)).toEqual(Object.keys(plainValues));
      for (const value of Object.values(stored)) {
        expect(value).toMatch(sealedPrefix);
        expect(value).not.toContain(upstreamKey);
      }
      const secret = (await storedSigningSecret(encrypted))!;
      expect(secret).toMatch(sealedPrefix);
      expect(secret).not.toContain(plainSecret);
      // The same signing secret: a session from before still holds; the upstream gets the same key.
      expect((await encrypted.request('GET', '/api/v1/auths/', { token: admin.token })).status).toBe(200);
      expect(await completionAuthorization(encrypted, admin.token, fake)).toEqual({ status: 200, authorization: `Bearer ${upstreamKey}` });
      await log.flushed(encrypted.parley.platform.log);
      expect(log.lines.find((line) => line.msg === 'secrets at rest moved to the current key')).toMatchObject({ connections: { resealed: 1 }, config: { resealed: 1 } });
      expect(log.lines.some((line) => String(line.msg).startsWith('WEBUI_SECRET_KEY is not set: the token-signing secret lives only in the database (encrypted)'))).toBe(true);
      expect(log.raw()).not.toContain(upstreamKey);
      expect(log.raw()).not.toContain(encryptionKey);

      // Starting again with the same key changes nothing.
      const again = await startTestApp({ PARLEY_ENCRYPTION_KEY: encryptionKey }, { sameClusterAs: legacy });
      try {
        expect(await storedApiKeys(again)).toEqual(stored);
        expect(await storedSigningSecret(again)).toBe(secret);
      } finally {
        await again.close();
      }
    } finally {
      await encrypted.close();
    }
  });

  it('refuses to start with the wrong key, or with none, naming the problem and changing nothing', async () => {
    const stored = await storedApiKeys(legacy);
    const secret = await storedSigningSecret(legacy);
    expect(Object.values(stored)[0]).toMatch(sealedPrefix);
    await expect(startTestApp({ PARLEY_ENCRYPTION_KEY: randomSecret('wrong'), LOG_LEVEL: 'silent' }, { sameClusterAs: legacy })).rejects.toThrow(
      /connections\.api_key:[0-9a-f-]+ is encrypted with key [0-9a-f]{8}, but the configured keys are [0-9a-f]{8} \(PARLEY_ENCRYPTION_KEY\)/,
    );
    await expect(startTestApp({ LOG_LEVEL: 'silent' }, { sameClusterAs: legacy })).rejects.toThrow(/is encrypted \(key [0-9a-f]{8}\) but no encryption key is configured/);
    expect(await storedApiKeys(legacy)).toEqual(stored);
    expect(await storedSigningSecret(legacy)).toBe(secret);
  });

  it('exits 1 with the reason when the process starts with the wrong key', async () => {
    const server = runServer({ DATABASE_URL: legacy.env.DATABASE_URL!, DATA_DIR: legacy.env.DATA_DIR!, PARLEY_ENCRYPTION_KEY: randomSecret('wrong') });
    expect(await server.exited).toBe(1);
    expect(server.output().stderr).toMatch(/failed to start: SecretKeyError: connections\.api_key:\S+ is encrypted with key/);
    expect(server.output().stdout).toContain('secrets at rest cannot be decrypted');
  });
});

describe('secrets at rest: WEBUI_SECRET_KEY as the fallback key', () => {
  it('encrypts under a key derived from WEBUI_SECRET_KEY and does not warn about the signing secret', async () => {
    const fake = await startFakeLlm({ apiKey: 'sk-fallback-0123456789' });
    const log = captureLog();
    const app = await startTestApp(
      { WEBUI_SECRET_KEY: randomSecret('signing'), OPENAI_API_BASE_URLS: `${fake.url}/v1`, OPENAI_API_KEYS: 'sk-fallback-0123456789', LOG_LEVEL: 'info' },
      { logTo: log.stream },
    );
    try {
      const admin = await signUp(app);
      expect(Object.values(await storedApiKeys(app))[0]).toMatch(sealedPrefix);
      expect(await completionAuthorization(app, admin.token, fake)).toEqual({ status: 200, authorization: 'Bearer sk-fallback-0123456789' });
      await log.flushed(app.parley.platform.log);
      expect(log.lines.find((line) => line.msg === 'secrets at rest are encrypted')).toMatchObject({ source: 'WEBUI_SECRET_KEY' });
      expect(log.lines.filter((line) => line.level === 40)).toEqual([]);
    } finally {
      await app.close();
      await fake.close();
    }
  });
});
