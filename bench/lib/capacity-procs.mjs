// Process tools of the capacity regime: its load-generator worker, open-file counts, forced
// garbage collections through the inspector, and tearing a set of services down.
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { WebSocket } from 'undici';
import { spawnNode, stopService } from './procs.mjs';

const WORKER = path.join(import.meta.dirname, 'capacity-worker.mjs');

/** How many files (sockets included) a process has open. */
export function openFiles(pid) {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Starts a capacity worker; `ask` sends it a message and resolves with its reply of `type`. */
export function startWorker(name) {
  const worker = spawnNode(name, [WORKER], { ipc: true });
  worker.ask = (message, type, timeoutMs) =>
    new Promise((resolve, reject) => {
      const done = (error, reply) => {
        clearTimeout(timer);
        worker.child.off('message', onMessage);
        worker.child.off('exit', onExit);
        if (error) reject(error);
        else resolve(reply);
      };
      const onMessage = (reply) => {
        if (reply?.type === type) done(null, reply);
        else if (reply?.type === 'failed') done(new Error(`${name} failed: ${reply.message}`));
      };
      const onExit = (code, signal) => done(new Error(`${name} exited (${signal ?? code}):\n${worker.output()}`));
      const timer = setTimeout(() => done(new Error(`${name}: no '${type}' within ${timeoutMs} ms`)), timeoutMs);
      worker.child.on('message', onMessage);
      worker.child.once('exit', onExit);
      worker.child.send(message);
    });
  return worker;
}

/** Sends one inspector command to a process started with --inspect; resolves with its result. */
async function inspectorCall(inspectPort, method, timeoutMs = 30_000) {
  const [{ webSocketDebuggerUrl }] = await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json();
  const socket = new WebSocket(webSocketDebuggerUrl);
  try {
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error('the inspector refused the connection'));
    });
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${method} within ${timeoutMs / 1000} s`)), timeoutMs);
      socket.onmessage = (event) => {
        const reply = JSON.parse(event.data);
        if (reply.id !== 1) return;
        clearTimeout(timer);
        resolve(reply.result);
      };
      socket.send(JSON.stringify({ id: 1, method }));
    });
  } finally {
    socket.close();
  }
}

/** Asks V8 for a full garbage collection; resolves with its duration in milliseconds. */
export async function collectGarbage(inspectPort) {
  const started = performance.now();
  await inspectorCall(inspectPort, 'HeapProfiler.collectGarbage');
  return performance.now() - started;
}

/** V8's used heap in bytes, as the inspector reports it. */
export async function heapUsedBytes(inspectPort) {
  return (await inspectorCall(inspectPort, 'Runtime.getHeapUsage')).usedSize;
}

/** Stops the services (in reverse start order) and removes the data folders, whatever happened. */
export async function teardown(services, dataDirs) {
  for (const service of services.reverse()) await stopService(service);
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
}
