// Load generator of the capacity regime, run as its own process so its sockets count
// against its own file-descriptor limit and its event loop never delays a server under test.
// Protocol over the IPC channel (the first message chooses the job):
//   {type:'hold', spec}   then {type:'open', count} -> {type:'opened', ...}   opens that many more streams
//                         and {type:'status', windowMs} -> {type:'status', ...} counts of live streams
//   {type:'reads', spec}  -> {type:'reads-result', ...}   closed-loop GETs for spec.durationMs
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { summary } from './stats.mjs';

const CONTENT = /"content":\s*"(?!")/;

/** Error message -> count; capped so a flood of distinct messages cannot grow it without bound. */
const errorCounts = new Map();
function noteError(message) {
  if (errorCounts.has(message) || errorCounts.size < 10) errorCounts.set(message, (errorCounts.get(message) ?? 0) + 1);
}

/** Sends a message and resolves once it is handed to the channel. */
function send(message) {
  return new Promise((resolve) => process.send(message, () => resolve()));
}

// ---- hold: many long streams, each kept as a few numbers (no body is kept) ----

// No keep-alive and no socket cap: one socket per stream, as separate browser tabs would have.
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const streams = [];
let holdSpec;

/** Opens one stream; resolves when its first token arrives or it fails (it keeps running after). */
function openStream(spec) {
  return new Promise((resolve) => {
    const stream = { startedAt: performance.now(), ttftMs: null, lastTokenAt: 0, tokens: 0, state: 'opening' };
    streams.push(stream);
    const request = http.request({ ...spec.url, method: 'POST', path: spec.path, headers: spec.headers, agent });
    const timer = setTimeout(() => fail(`no first token within ${spec.firstTokenTimeoutMs} ms`), spec.firstTokenTimeoutMs);
    const fail = (message) => {
      clearTimeout(timer);
      if (stream.state === 'failed' || stream.state === 'ended') return;
      stream.state = 'failed';
      noteError(message);
      request.destroy();
      resolve();
    };
    request.on('error', (error) => fail(error.code ?? error.message));
    request.on('response', (response) => {
      response.setEncoding('utf8');
      if (response.statusCode !== 200) {
        let text = '';
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => fail(`HTTP ${response.statusCode}: ${text.slice(0, 160)}`));
        return;
      }
      // Events are tiny and written one per token, so a chunk holds whole events; no buffering needed.
      response.on('data', (chunk) => {
        if (CONTENT.test(chunk)) {
          const now = performance.now();
          if (stream.ttftMs === null) {
            clearTimeout(timer);
            stream.ttftMs = now - stream.startedAt;
            stream.state = 'open';
            resolve();
          }
          stream.lastTokenAt = now;
          stream.tokens++;
        } else if (chunk.includes('{"error"')) {
          fail(`stream error: ${chunk.trim().slice(0, 160)}`);
        }
      });
      response.on('end', () => {
        clearTimeout(timer);
        if (stream.state === 'failed') return;
        // The answers are longer than the run: a stream ending early is a fault worth counting.
        stream.state = 'ended';
        noteError('stream ended before the run did');
        resolve();
      });
      response.on('error', (error) => fail(error.code ?? error.message));
      response.on('close', () => {
        if (!response.complete) fail('connection closed mid-stream');
      });
    });
    request.end(spec.body);
  });
}

/** Opens `count` more streams, at most `inFlight` waiting for their first token at a time. */
async function openMore(spec, count) {
  const from = streams.length;
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < count) {
      next++;
      await openStream(spec);
    }
  };
  await Promise.all(Array.from({ length: Math.min(spec.inFlight, count) }, lane));
  const batch = streams.slice(from);
  return {
    type: 'opened',
    wallMs: performance.now() - started,
    ttftMs: summary(batch.filter((s) => s.ttftMs !== null).map((s) => s.ttftMs)),
    failed: batch.filter((s) => s.state === 'failed').length,
  };
}

/** Counts by state; `alive`: open and given a token within the last `windowMs`. */
function status(windowMs) {
  const now = performance.now();
  const counts = { opened: streams.length, open: 0, alive: 0, gotFirstToken: 0, ended: 0, failed: 0, tokens: 0 };
  for (const stream of streams) {
    if (stream.ttftMs !== null) counts.gotFirstToken++;
    if (stream.state === 'open') counts.open++;
    if (stream.state === 'ended') counts.ended++;
    if (stream.state === 'failed') counts.failed++;
    if (stream.state === 'open' && now - stream.lastTokenAt <= windowMs) counts.alive++;
    counts.tokens += stream.tokens;
  }
  return { type: 'status', ...counts, rssMiB: process.memoryUsage.rss() / 2 ** 20, errors: Object.fromEntries(errorCounts) };
}

// ---- reads: closed-loop GETs over keep-alive connections ----

/** `concurrency` clients each sending the next GET when the last answer is read; latencies after the warm-up. */
async function reads(spec) {
  const pool = new Pool(spec.origin, { connections: spec.concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  const latencies = [];
  let errors = 0;
  const warmEnd = performance.now() + spec.warmupMs;
  const end = warmEnd + spec.durationMs;
  const client = async () => {
    while (performance.now() < end) {
      const started = performance.now();
      try {
        const { statusCode, body } = await pool.request({ method: 'GET', path: spec.path, headers: spec.headers, signal: AbortSignal.timeout(10_000) });
        await body.arrayBuffer();
        if (statusCode !== 200) throw new Error(`HTTP ${statusCode}`);
        if (started >= warmEnd) latencies.push(performance.now() - started);
      } catch (error) {
        errors++;
        noteError(error instanceof Error ? error.message : String(error));
        await sleep(10); // a refused connection must not spin
      }
    }
  };
  const cpuBefore = process.cpuUsage();
  await Promise.all(Array.from({ length: spec.concurrency }, client));
  const cpu = process.cpuUsage(cpuBefore);
  await pool.destroy();
  return {
    type: 'reads-result',
    requests: latencies.length,
    errors,
    errorMessages: [...errorCounts.keys()],
    requestsPerSec: latencies.length / (spec.durationMs / 1000),
    latencyMs: summary(latencies),
    loadgenCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

process.on('message', (message) => {
  const reply = (work) =>
    work.then(send, (error) => send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
  if (message?.type === 'hold') holdSpec = message.spec;
  else if (message?.type === 'open') reply(openMore(holdSpec, message.count));
  else if (message?.type === 'status') reply(Promise.resolve(status(message.windowMs)));
  else if (message?.type === 'reads') reply(reads(message.spec));
});
process.on('disconnect', () => process.exit(0));
