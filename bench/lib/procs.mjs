// Child process control: every service the bench starts is registered here, so one
// call (also from a signal handler or the exit hook) stops them all.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const live = new Set();

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Only what Node needs, so a developer's DATABASE_URL or OPENAI_* never leaks into a service. */
function cleanEnv(extra) {
  const keep = ['PATH', 'HOME', 'LANG', 'TMPDIR', 'TZ'];
  const env = Object.fromEntries(keep.filter((key) => process.env[key] !== undefined).map((key) => [key, process.env[key]]));
  return { ...env, ...extra };
}

/** Starts `node ...args` as a tracked service (`ipc` opens a message channel); output is kept (last lines only) for error messages. */
export function spawnNode(name, args, { env = {}, cwd, ipc = false } = {}) {
  const spawnedAt = performance.now();
  const stdio = ['ignore', 'pipe', 'pipe', ...(ipc ? ['ipc'] : [])];
  const child = spawn(process.execPath, args, { cwd, env: cleanEnv(env), stdio });
  const tail = [];
  const keep = (chunk) => {
    tail.push(chunk.toString());
    if (tail.length > 40) tail.shift();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const service = {
    name,
    child,
    pid: child.pid,
    spawnedAt,
    exitInfo: null,
    output: () => tail.join('').slice(-4000),
  };
  service.exited = new Promise((resolve) => {
    const done = (info) => {
      if (service.exitInfo) return;
      service.exitInfo = info;
      live.delete(service);
      resolve(info);
    };
    child.once('exit', (code, signal) => done({ code, signal }));
    child.once('error', (error) => done({ code: null, signal: null, error: error.message }));
  });
  live.add(service);
  return service;
}

/** Polls `probe()` until it returns true; fails after `timeoutMs` or when the service dies. */
export async function waitUntil(service, probe, { timeoutMs = 20_000, intervalMs = 5 } = {}) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (service.exitInfo) {
      throw new Error(`${service.name} exited during start-up (${JSON.stringify(service.exitInfo)}):\n${service.output()}`);
    }
    if (await probe().catch(() => false)) return performance.now();
    await sleep(intervalMs);
  }
  throw new Error(`${service.name} not ready after ${timeoutMs} ms:\n${service.output()}`);
}

/** True when `url` answers with `status` (any status when omitted). */
export async function answers(url, status) {
  const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await response.arrayBuffer();
  return status === undefined || response.status === status;
}

/** SIGTERM, then SIGKILL if still alive after `graceMs`; resolves when the process has exited. */
export async function stopService(service, graceMs = 3000) {
  if (service.exitInfo) return service.exitInfo;
  service.child.kill('SIGTERM');
  const timer = setTimeout(() => service.child.kill('SIGKILL'), graceMs);
  try {
    return await service.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Stops every service still running. */
export async function stopAll() {
  await Promise.all([...live].map((service) => stopService(service)));
}

/** Last resort on exit: a synchronous SIGKILL to anything left. */
function killAllNow() {
  for (const service of live) {
    try {
      service.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Makes Ctrl+C, SIGTERM and any exit take the services down with the bench. */
export function installCleanupHandlers() {
  process.once('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping services`);
      stopAll().finally(() => process.exit(130));
      setTimeout(() => process.exit(130), 5000).unref();
    });
  }
}
