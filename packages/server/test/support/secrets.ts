import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { FakeLlm } from '../../../fake-llm/src/index.js';
import type { TestApp } from './test-app.js';

/** A fresh value for PARLEY_ENCRYPTION_KEY (or any other secret a test must not find in storage or logs). */
export function randomSecret(prefix: string): string {
  return `${prefix}-${randomBytes(16).toString('hex')}`;
}

/** The connections' API keys exactly as the database holds them, by connection id. */
export async function storedApiKeys(app: TestApp): Promise<Record<string, string>> {
  const rows = await app.parley.platform.db.kysely.selectFrom('connections').select(['id', 'api_key']).execute();
  return Object.fromEntries(rows.map((row) => [row.id, row.api_key]));
}

/** The generated token-signing secret exactly as the `config` table holds it. */
export async function storedSigningSecret(app: TestApp): Promise<string | undefined> {
  const row = await app.parley.platform.db.kysely.selectFrom('config').select('value').where('key', '=', 'webui_secret_key').executeTakeFirst();
  return row?.value;
}

/** Asks for a non-streamed answer from `fake-model` and returns the status with the Authorization the upstream saw. */
export async function completionAuthorization(app: TestApp, token: string, fake: FakeLlm): Promise<{ status: number; authorization: string | undefined }> {
  const before = fake.requests.length;
  const response = await app.request('POST', '/api/chat/completions', {
    token,
    body: { model: 'fake-model', messages: [{ role: 'user', content: 'hello' }], stream: false },
  });
  const seen = fake.requests.slice(before).filter((request) => request.path.endsWith('/chat/completions'));
  return { status: response.status, authorization: seen.at(-1)?.headers.authorization };
}

/** Runs `npm run rekey`'s entry point (through tsx, no build needed) against a test app's database. */
export function runRekey(app: TestApp, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/rekey.ts'], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env: { PATH: process.env.PATH, DATABASE_URL: app.env.DATABASE_URL, DATA_DIR: app.env.DATA_DIR, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}
