// The processes under test: the fake model server, Parley and the Portkey gateway, each
// on its own 127.0.0.1 port, plus the request shape ("target") the load generator sends to each.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { answers, freePort, spawnNode, waitUntil } from './procs.mjs';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
const FAKE_CLI = path.join(ROOT, 'packages/fake-llm/dist/cli.js');
const PARLEY_MAIN = path.join(ROOT, 'packages/server/dist/main.js');
const PORTKEY_MAIN = path.join(ROOT, 'bench/node_modules/@portkey-ai/gateway/build/start-server.js');
const HOST = '127.0.0.1';
const MODEL = 'fake-model';
const ADMIN = { email: 'bench@parley.example.com', password: 'bench-password-1', name: 'Bench' };

/** The chat request every target gets (streamed; the answer length is set by the fake's --tokens). */
export const CHAT_BODY = { model: MODEL, stream: true, messages: [{ role: 'user', content: 'Tell me a story.' }] };

/** Starts the fake model server with the given pacing (`h2c`: also HTTP/2); resolves once it lists its models. */
export async function startFake({ ttftMs, tokenMs, tokens, h2c = false }) {
  const port = await freePort();
  const args = [FAKE_CLI, '--host', HOST, '--port', String(port), '--ttft-ms', String(ttftMs), '--token-ms', String(tokenMs), '--tokens', String(tokens)];
  if (h2c) args.push('--h2c');
  const service = spawnNode('fake-llm', args, { cwd: ROOT });
  const origin = `http://${HOST}:${port}`;
  await waitUntil(service, () => answers(`${origin}/v1/models`, 200));
  return { service, origin };
}

const dataDirs = new Set();
// An interrupted run skips the regimes' own clean-up; the folders still go at exit.
process.once('exit', () => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh, empty data folder for one Parley instance, removed at exit at the latest. */
export function freshDataDir() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-bench-'));
  dataDirs.add(dir);
  return dir;
}

/** Extra Node flags for every Parley process (e.g. --cpu-prof), set once by the runner. */
let parleyNodeArgs = [];

/** Sets the Node flags the next Parley processes start with. */
export function setParleyNodeArgs(args) {
  parleyNodeArgs = args;
}

/**
 * Starts Parley on `dataDir` (`env` adds or overrides variables; `main` runs another build, such as a
 * checkout of the code before a change); resolves with the time from spawn to the first 200 from /ready.
 */
export async function startParley({ fakeOrigin, dataDir, env = {}, main = PARLEY_MAIN }) {
  const port = await freePort();
  const service = spawnNode('parley', [...parleyNodeArgs, main], {
    cwd: ROOT,
    env: {
      PORT: String(port),
      HOST,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      OPENAI_API_BASE_URLS: `${fakeOrigin}/v1`,
      OPENAI_API_KEYS: 'x',
      ENABLE_TITLE_GENERATION: 'false',
      ...env,
    },
  });
  const origin = `http://${HOST}:${port}`;
  const readyAt = await waitUntil(service, () => answers(`${origin}/ready`, 200), { intervalMs: 2 });
  return { service, origin, readyMs: readyAt - service.spawnedAt };
}

/** POST JSON, answering the parsed body; throws with the server's words on a non-2xx. */
export async function postJson(url, body, headers = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${url}: HTTP ${response.status}: ${text.slice(0, 300)}`);
  return text;
}

/** Signs up the first account (the admin); resolves with its session token. */
export async function signUpAdmin(origin) {
  const { token } = JSON.parse(await postJson(`${origin}/api/v1/auths/signup`, ADMIN));
  if (typeof token !== 'string') throw new Error('Parley sign-up answered no token');
  return token;
}

/** Switches every connection of a Parley to HTTP/2 towards its upstream (the fake speaks h2c). */
export async function useHttp2Upstreams(origin, token) {
  const headers = { authorization: `Bearer ${token}` };
  const response = await fetch(`${origin}/api/v1/connections/`, { headers, signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`listing connections answered HTTP ${response.status}`);
  for (const { id } of await response.json()) await postJson(`${origin}/api/v1/connections/${id}/update`, { http2: true }, headers);
}

/** Signs up the first account (the admin) and checks a completion streams end to end. */
export async function prepareParley(parley) {
  const token = await signUpAdmin(parley.origin);
  const target = parleyTarget(parley.origin, token);
  // The model list is gathered from the upstream on first use; give it a few tries.
  let lastError;
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      const text = await postJson(`${parley.origin}${target.path}`, CHAT_BODY, target.headers);
      if (text.includes('[DONE]')) return target;
      lastError = new Error(`no [DONE] in: ${text.slice(0, 300)}`);
    } catch (error) {
      lastError = error;
    }
    await sleep(500);
  }
  throw new Error(`Parley cannot relay a completion: ${lastError.message}`);
}

/** Starts the Portkey gateway (headless); resolves once it answers HTTP. */
export async function startPortkey() {
  const port = await freePort();
  const service = spawnNode('portkey', [PORTKEY_MAIN, `--port=${port}`, '--headless'], { cwd: ROOT });
  const origin = `http://${HOST}:${port}`;
  await waitUntil(service, () => answers(`${origin}/`));
  return { service, origin };
}

/** Straight to the fake model server: the baseline. */
export function directTarget(fakeOrigin) {
  return { name: 'direct', origin: fakeOrigin, path: '/v1/chat/completions', headers: {}, body: CHAT_BODY };
}

/** Through Parley's OpenAI-compatible relay, as a signed-in user. */
export function parleyTarget(parleyOrigin, token) {
  return {
    name: 'parley',
    origin: parleyOrigin,
    path: '/api/chat/completions',
    headers: { authorization: `Bearer ${token}` },
    body: CHAT_BODY,
  };
}

/** Through Portkey, told per request where the OpenAI-compatible upstream is. */
export function portkeyTarget(portkeyOrigin, fakeOrigin) {
  return {
    name: 'portkey',
    origin: portkeyOrigin,
    path: '/v1/chat/completions',
    headers: { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${fakeOrigin}/v1`, authorization: 'Bearer x' },
    body: CHAT_BODY,
  };
}
