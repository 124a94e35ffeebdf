// Part 2 of the capacity regime: authenticated API reads on PostgreSQL. Parley on a fresh
// database of the local server, one user with a page of chats; GET /api/v1/chats/ with a
// session token and with an API key, against GET /health (no auth, no database).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnNode, stopService } from './procs.mjs';
import { cpuSeconds, machineBusySeconds } from './procfs.mjs';
import { PACED_FAKE } from './regimes.mjs';
import { freshDataDir, postJson, prepareParley, startFake, startParley } from './services.mjs';
import { round } from './stats.mjs';

const WORKER = path.join(import.meta.dirname, 'capacity-worker.mjs');
/** Parley's default PostgreSQL pool size, set explicitly so the report states a fact. */
const POOL_SIZE = 10;
const PSQL = ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-qAtc'];

/** One line of progress on stderr, so stdout stays the report. */
const progress = (line) => console.error(`  ${line}`);

/** Starts a worker on one read measurement; `result` resolves with its answer. */
function readsInWorker(name, spec, timeoutMs) {
  const worker = spawnNode(name, [WORKER], { ipc: true });
  const result = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: no result within ${timeoutMs} ms`)), timeoutMs);
    worker.child.on('message', (message) => {
      if (message?.type === 'reads-result') resolve(message);
      else if (message?.type === 'failed') reject(new Error(`${name} failed: ${message.message}`));
      clearTimeout(timer);
    });
    // After an answer this rejection is a no-op: the promise is settled.
    worker.child.once('exit', (code, signal) => reject(new Error(`${name} exited (${signal ?? code}):\n${worker.output()}`)));
  });
  worker.child.send({ type: 'reads', spec });
  return { worker, result };
}

/** Closed-loop GETs from a fresh worker; Parley's CPU is read over the measured phase only. */
async function readRow(name, parley, { path: urlPath, headers }, concurrency, plan) {
  const spec = { origin: parley.origin, path: urlPath, headers, concurrency, warmupMs: plan.warmupMs, durationMs: plan.durationMs };
  const { worker, result } = readsInWorker(`capacity worker (${name} x${concurrency})`, spec, plan.warmupMs + plan.durationMs + 30_000);
  try {
    await sleep(plan.warmupMs);
    const [cpuBefore, busyBefore] = [cpuSeconds(parley.service.pid), machineBusySeconds()];
    const reads = await result;
    const cpuPercent = ((cpuSeconds(parley.service.pid) - cpuBefore) * 100_000) / plan.durationMs;
    const machinePercent = ((machineBusySeconds() - busyBefore) * 100_000) / plan.durationMs;
    const row = { name, concurrency, ...reads, requestsPerSec: round(reads.requestsPerSec, 0), parleyCpuPercent: round(cpuPercent, 0), machineCpuPercent: round(machinePercent, 0) };
    progress(`${name.padEnd(16)} x${concurrency}: ${row.requestsPerSec} req/s, p50 ${row.latencyMs.p50} ms, p99 ${row.latencyMs.p99} ms, errors ${row.errors}`);
    return row;
  } finally {
    await stopService(worker, 1000);
  }
}

/** Drops a bench database, ignoring failures (it may never have been created). */
function dropDatabase(name) {
  try {
    execFileSync('psql', [...PSQL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`], { stdio: 'ignore' });
  } catch {
    // PostgreSQL gone: nothing to drop
  }
}

/**
 * Part 2: Parley on a fresh database of the local PostgreSQL, one user with `chats` chats;
 * GET /api/v1/chats/ (the first page) with a session token and with an API key, against
 * GET /health (no auth, no database) at the same concurrency.
 */
export async function apiReads(plan) {
  const database = `parley_bench_${randomBytes(4).toString('hex')}`;
  try {
    execFileSync('psql', [...PSQL, `CREATE DATABASE ${database}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    return { skipped: `no PostgreSQL at 127.0.0.1:5432 (psql: ${String(error.stderr ?? error.message).trim().slice(0, 200)})` };
  }
  const dropAtExit = () => dropDatabase(database);
  process.once('exit', dropAtExit);
  const services = [];
  const dataDirs = [freshDataDir()];
  try {
    const fake = await startFake(PACED_FAKE);
    services.push(fake.service);
    const databaseUrl = `postgres://postgres@127.0.0.1:5432/${database}`;
    const parley = await startParley({ fakeOrigin: fake.origin, dataDir: dataDirs[0], env: { DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: String(POOL_SIZE) } });
    services.push(parley.service);
    const target = await prepareParley(parley);
    for (let i = 0; i < plan.chats; i++) {
      await postJson(`${parley.origin}/api/v1/chats/new`, { chat: { title: `Bench chat ${i + 1}` } }, target.headers);
    }
    // The measured request must return a real page, not an empty list.
    const listed = await (await fetch(`${parley.origin}/api/v1/chats/?page=1`, { headers: target.headers })).json();
    if (!Array.isArray(listed) || listed.length !== Math.min(plan.chats, 50)) throw new Error(`chat list answered ${JSON.stringify(listed).slice(0, 200)}`);
    const { api_key: apiKey } = JSON.parse(await postJson(`${parley.origin}/api/v1/auths/api_key`, {}, target.headers));
    const sources = [
      ['health', { path: '/health', headers: {} }],
      ['chats (session token)', { path: '/api/v1/chats/?page=1', headers: target.headers }],
      ['chats (API key)', { path: '/api/v1/chats/?page=1', headers: { authorization: `Bearer ${apiKey}` } }],
    ];
    // One untimed pass first: the JIT and PostgreSQL's caches would otherwise favour whichever row runs later.
    for (const [name, source] of sources) await readRow(`${name} warm-up`, parley, source, plan.concurrency[0], { ...plan, durationMs: plan.warmupMs });
    const rows = [];
    for (const concurrency of plan.concurrency) {
      for (const [name, source] of sources) rows.push(await readRow(name, parley, source, concurrency, plan));
    }
    const pg = execFileSync('psql', [...PSQL, 'SHOW server_version'], { encoding: 'utf8' }).trim();
    return { postgres: pg, chats: plan.chats, poolSize: POOL_SIZE, warmupMs: plan.warmupMs, durationMs: plan.durationMs, rows };
  } finally {
    for (const service of services.reverse()) await stopService(service);
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    dropDatabase(database);
    process.off('exit', dropAtExit);
  }
}

