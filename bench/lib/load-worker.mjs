// Load generator, run as its own process so it never shares a CPU queue with a server
// under test. Protocol over the IPC channel:
//   parent -> {type:'start', spec}   worker warms up, then -> {type:'warm', ...}
//   parent -> {type:'go'}            worker measures, then -> {type:'result', ...} and exits.
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';

const CONTENT = /"content":\s*"(?!")/;

/** One streamed request: time to the first non-empty content delta, total time, token count. */
async function streamOnce(pool, spec, signal) {
  const started = performance.now();
  let ttftMs = null;
  let tokens = 0;
  let done = false;
  const { statusCode, body } = await pool.request({
    method: 'POST',
    path: spec.path,
    headers: spec.headers,
    body: spec.body,
    signal,
  });
  body.setEncoding('utf8');
  if (statusCode !== 200) {
    let text = '';
    for await (const chunk of body) text += chunk;
    throw new Error(`HTTP ${statusCode}: ${text.slice(0, 200)}`);
  }
  let pending = '';
  for await (const chunk of body) {
    pending += chunk.includes('\r') ? chunk.replace(/\r/g, '') : chunk;
    let end;
    while ((end = pending.indexOf('\n\n')) !== -1) {
      const event = pending.slice(0, end);
      pending = pending.slice(end + 2);
      const data = event.startsWith('data:') ? event.slice(5).trim() : null;
      if (data === null) continue;
      if (data === '[DONE]') {
        done = true;
      } else if (CONTENT.test(data)) {
        if (ttftMs === null) ttftMs = performance.now() - started;
        tokens++;
      } else if (data.includes('"error"')) {
        throw new Error(`stream error: ${data.slice(0, 200)}`);
      }
    }
  }
  if (!done) throw new Error('stream ended without [DONE]');
  if (ttftMs === null) throw new Error('stream had no content');
  return { ttftMs, totalMs: performance.now() - started, tokens };
}

/**
 * `concurrency` closed loops of `perStream` requests each; collects samples and errors.
 * With `staggerMs`, stream i starts i/concurrency of that later, so request starts are
 * spread over one cycle as with real users, rather than all arriving in the same instant.
 */
async function runPhase(pool, spec, perStream, deadline, staggerMs = 0) {
  const samples = { ttftMs: [], totalMs: [], streamActiveMs: [], tokens: 0, ok: 0, errors: 0, errorMessages: [] };
  const loop = async (index) => {
    const offset = (index * staggerMs) / spec.concurrency;
    if (offset > 0) await sleep(offset, undefined, { signal: deadline }).catch(() => {});
    const first = performance.now();
    for (let i = 0; i < perStream && !deadline.aborted; i++) {
      try {
        const one = await streamOnce(pool, spec, AbortSignal.any([deadline, AbortSignal.timeout(spec.requestTimeoutMs)]));
        samples.ttftMs.push(one.ttftMs);
        samples.totalMs.push(one.totalMs);
        samples.tokens += one.tokens;
        samples.ok++;
      } catch (error) {
        samples.errors++;
        const message = error instanceof Error ? error.message : String(error);
        if (samples.errorMessages.length < 5 && !samples.errorMessages.includes(message)) samples.errorMessages.push(message);
      }
    }
    samples.streamActiveMs.push(performance.now() - first);
  };
  await Promise.all(Array.from({ length: spec.concurrency }, (_, index) => loop(index)));
  return samples;
}

/** Sends a message and resolves once it is handed to the channel. */
function send(message) {
  return new Promise((resolve) => process.send(message, () => resolve()));
}

/** Waits for the parent's next message of `type`. */
function nextMessage(type) {
  return new Promise((resolve) => {
    const onMessage = (message) => {
      if (message?.type !== type) return;
      process.off('message', onMessage);
      resolve(message);
    };
    process.on('message', onMessage);
  });
}

async function main() {
  const { spec } = await nextMessage('start');
  const pool = new Pool(spec.origin, {
    connections: spec.concurrency,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 120_000,
    headersTimeout: spec.requestTimeoutMs,
    bodyTimeout: spec.requestTimeoutMs,
  });
  const deadline = AbortSignal.timeout(spec.deadlineMs);
  try {
    const warm = await runPhase(pool, spec, spec.warmupPerStream, deadline);
    await send({ type: 'warm', ok: warm.ok, errors: warm.errors, errorMessages: warm.errorMessages });
    await nextMessage('go');
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const measured = await runPhase(pool, spec, spec.perStream, deadline, spec.staggerMs);
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    await send({
      type: 'result',
      ...measured,
      wallMs,
      timedOut: deadline.aborted,
      loadgenCpuSeconds: (cpu.user + cpu.system) / 1e6,
    });
  } catch (error) {
    await send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  } finally {
    await pool.destroy().catch(() => {});
    process.disconnect();
  }
}

process.on('disconnect', () => process.exit(0));
await main();
