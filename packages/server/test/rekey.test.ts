import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { deriveEncryptionKey, SecretBox } from '../src/platform/crypto/secret-box.js';
import { signUp, type TestUser } from './support/factories.js';
import { completionAuthorization, randomSecret, runRekey, storedApiKeys, storedSigningSecret } from './support/secrets.js';
import { startTestApp, type TestApp } from './support/test-app.js';

/** The key id every non-empty stored secret is sealed under (throws when they differ or one is plain). */
function keyIdsOf(values: string[]): string[] {
  return [...new Set(values.filter(Boolean).map((value) => /^enc:v1:([0-9a-f]{8}):/.exec(value)?.[1] ?? 'plain'))];
}

describe('npm run rekey', () => {
  const oldKey = randomSecret('old-encryption');
  const newKey = randomSecret('new-encryption');
  const upstreamKey = randomSecret('sk-rekey');
  let fake: FakeLlm;
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    fake = await startFakeLlm({ apiKey: upstreamKey });
    // One connection with a key and one without, and the generated signing secret: all under the old key.
    app = await startTestApp({ PARLEY_ENCRYPTION_KEY: oldKey, OPENAI_API_BASE_URLS: `${fake.url}/v1`, OPENAI_API_KEYS: upstreamKey });
    admin = await signUp(app);
    const keyless = { type: 'ollama', base_url: fake.url, enabled: false };
    expect((await app.request('POST', '/api/v1/connections/', { token: admin.token, body: keyless })).status).toBe(200);
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  it('refuses to run without a new key', async () => {
    const result = await runRekey(app, {});
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/set PARLEY_ENCRYPTION_KEY/);
  });

  it('re-encrypts every secret under the new key, reports the counts, and changes nothing when run again', async () => {
    const oldId = (await deriveEncryptionKey(oldKey, '')).id;
    const newId = (await deriveEncryptionKey(newKey, '')).id;
    expect(keyIdsOf([...Object.values(await storedApiKeys(app)), (await storedSigningSecret(app))!])).toEqual([oldId]);

    const first = await runRekey(app, { PARLEY_ENCRYPTION_KEY: newKey, PARLEY_PREVIOUS_ENCRYPTION_KEY: oldKey });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('connection API keys: 1 re-encrypted, 1 already current or empty');
    expect(first.stdout).toContain('stored secrets: 1 re-encrypted, 0 already current');
    expect(first.stdout).toContain(`under key ${newId} (PARLEY_ENCRYPTION_KEY)`);
    const stored = await storedApiKeys(app);
    const secret = (await storedSigningSecret(app))!;
    expect(keyIdsOf([...Object.values(stored), secret])).toEqual([newId]);
    expect(JSON.stringify(stored)).not.toContain(upstreamKey);

    const second = await runRekey(app, { PARLEY_ENCRYPTION_KEY: newKey, PARLEY_PREVIOUS_ENCRYPTION_KEY: oldKey });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('connection API keys: 0 re-encrypted, 2 already current or empty');
    expect(second.stdout).toContain('stored secrets: 0 re-encrypted, 1 already current');
    expect(await storedApiKeys(app)).toEqual(stored);
    expect(await storedSigningSecret(app)).toBe(secret);
    for (const output of [first.stdout, second.stdout]) {
      for (const material of [oldKey, newKey, upstreamKey]) expect(output).not.toContain(material);
    }

    // An instance on the new key alone reads everything: sessions from before hold, the upstream gets its key.
    const rotated = await startTestApp({ PARLEY_ENCRYPTION_KEY: newKey }, { sameClusterAs: app });
    try {
      expect((await rotated.request('GET', '/api/v1/auths/', { token: admin.token })).status).toBe(200);
      expect(await completionAuthorization(rotated, admin.token, fake)).toEqual({ status: 200, authorization: `Bearer ${upstreamKey}` });
    } finally {
      await rotated.close();
    }
  });

  it('changes nothing, in any table, when one value does not decrypt with the keys given', async () => {
    // The signing secret sealed under a key the command will not be given; the connection keys open fine.
    const strayBox = new SecretBox(await deriveEncryptionKey(randomSecret('stray'), 'test'));
    const plainSecret = randomSecret('signing');
    const stray = strayBox.seal(plainSecret, 'config.value:webui_secret_key');
    await app.parley.platform.db.kysely.updateTable('config').set({ value: stray }).where('key', '=', 'webui_secret_key').execute();
    const before = await storedApiKeys(app);

    const result = await runRekey(app, { PARLEY_ENCRYPTION_KEY: randomSecret('newer'), PARLEY_PREVIOUS_ENCRYPTION_KEY: newKey });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^rekey: nothing changed: config\.value:webui_secret_key is encrypted with key [0-9a-f]{8}, but the configured keys are/);
    expect(result.stdout).toBe('');
    // The connection keys, re-encrypted before the failing value was reached, were rolled back with it.
    expect(await storedApiKeys(app)).toEqual(before);
    expect(await storedSigningSecret(app)).toBe(stray);
  });
});
