// Parent side of the load generator: one worker process per measurement, and the CPU
// readings of the services taken exactly around the measured phase (warm-up excluded).
import path from 'node:path';
import { spawnNode, stopService } from './procs.mjs';
import { cpuSeconds, machineBusySeconds } from './procfs.mjs';
import { isPatient, NOISE_LIMIT_PERCENT, waitForQuiet } from './quiet.mjs';
import { mean, round, summary } from './stats.mjs';

const WORKER = path.join(import.meta.dirname, 'load-worker.mjs');

/** Resolves with the worker's next message of `type`; rejects on failure, early exit or timeout. */
function nextMessage(worker, type, timeoutMs) {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      worker.child.off('message', onMessage);
      worker.child.off('exit', onExit);
    };
    const onMessage = (message) => {
      if (message?.type === type) {
        cleanup();
        resolve(message);
      } else if (message?.type === 'failed') {
        cleanup();
        reject(new Error(`load worker failed: ${message.message}`));
      }
    };
    const onExit = (code, signal) => {
      cleanup();
      reject(new Error(`load worker exited (${signal ?? code}) before '${type}':\n${worker.output()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`load worker: no '${type}' within ${timeoutMs} ms`));
    }, timeoutMs);
    worker.child.on('message', onMessage);
    worker.child.once('exit', onExit);
  });
}

/** CPU seconds of each watched process, by name. */
function readCpu(pids) {
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
}

/**
 * Runs one measurement: `concurrency` streams, each doing `warmupPerStream` then
 * `perStream` requests against `target`. With `staggerMs` 0 all streams start together
 * (a burst); otherwise stream i starts i/concurrency of `staggerMs` later, which spreads
 * the starts like real users' when `staggerMs` is one request's duration. `watch` maps
 * names to PIDs whose CPU time over the measured phase is reported.
 *
 * Throughput is total tokens / wall time; for staggered starts the wall time is each
 * stream's own running time (mean over streams), so the ramp-up and ramp-down are left out.
 */
async function measureOnce(
  target,
  { concurrency, perStream, warmupPerStream = 1, staggerMs = 0, watch = {}, deadlineMs = 120_000 },
) {
  const spec = {
    origin: target.origin,
    path: target.path,
    headers: { 'content-type': 'application/json', ...target.headers },
    body: JSON.stringify(target.body),
    concurrency,
    perStream,
    warmupPerStream,
    staggerMs,
    requestTimeoutMs: 30_000,
    deadlineMs,
  };
  const worker = spawnNode(`load worker (${target.name} x${concurrency})`, [WORKER], { ipc: true });
  try {
    worker.child.send({ type: 'start', spec });
    const warm = await nextMessage(worker, 'warm', deadlineMs);
    if (warm.ok === 0) throw new Error(`${target.name}: every warm-up request failed: ${warm.errorMessages.join('; ')}`);
    const before = readCpu(watch);
    const busyBefore = machineBusySeconds();
    worker.child.send({ type: 'go' });
    const result = await nextMessage(worker, 'result', deadlineMs);
    const after = readCpu(watch);
    const busy = machineBusySeconds() - busyBefore;
    const cpuSeconds = Object.fromEntries(Object.keys(watch).map((name) => [name, round(after[name] - before[name], 3)]));
    // CPU that neither the services nor the load generator used: other work on the machine.
    const ours = Object.values(cpuSeconds).reduce((sum, seconds) => sum + seconds, 0) + result.loadgenCpuSeconds;
    const otherCpuPercent = round(Math.max(0, busy - ours) * 100_000 / result.wallMs, 0);
    const throughputWallMs = staggerMs > 0 ? mean(result.streamActiveMs) : result.wallMs;
    const tokensPerSec = result.tokens / (throughputWallMs / 1000);
    return {
      target: target.name,
      concurrency,
      staggerMs,
      requests: result.ok,
      errors: result.errors + warm.errors,
      errorMessages: [...new Set([...warm.errorMessages, ...result.errorMessages])],
      timedOut: result.timedOut,
      ttftMs: summary(result.ttftMs),
      totalMs: summary(result.totalMs),
      tokens: result.tokens,
      wallMs: round(result.wallMs, 1),
      throughputWallMs: round(throughputWallMs, 1),
      tokensPerSec: round(tokensPerSec, 0),
      cpuSeconds,
      cpuPercentOfCore: Object.fromEntries(
        Object.entries(cpuSeconds).map(([name, seconds]) => [name, round((seconds * 100_000) / result.wallMs, 0)]),
      ),
      cpuSecondsPer1kTokens: Object.fromEntries(
        Object.entries(cpuSeconds).map(([name, seconds]) => [name, result.tokens > 0 ? round((seconds * 1000) / result.tokens, 6) : null]),
      ),
      loadgenCpuSeconds: round(result.loadgenCpuSeconds, 3),
      otherCpuPercent,
    };
  } finally {
    await stopService(worker, 1000);
  }
}

/**
 * One measurement (see measureOnce), taken when the machine is quiet if the runner was
 * asked to wait; a disturbed one is then taken again, up to twice, keeping the calmest.
 */
export async function measure(target, options) {
  let best;
  for (let attempt = 0; attempt < (isPatient() ? 3 : 1); attempt++) {
    const waitedMs = await waitForQuiet();
    const result = { ...(await measureOnce(target, options)), waitedForQuietMs: round(waitedMs, 0), attempt: attempt + 1 };
    if (!best || result.otherCpuPercent < best.otherCpuPercent) best = result;
    if (result.otherCpuPercent <= NOISE_LIMIT_PERCENT) break;
  }
  return best;
}
