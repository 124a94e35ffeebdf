// The capacity regime: what one instance holds and serves, for sizing a deployment.
// 1. concurrent slow streams: memory per held stream, and whether they all stay alive;
// 2. authenticated API reads (list chats) on PostgreSQL: requests/s and latency;
// 3. telemetry on vs off: what metrics scraping and 10 % trace sampling cost.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { bareRelayMemory } from './capacity-baseline.mjs';
import { collectGarbage, openFiles, startWorker, teardown } from './capacity-procs.mjs';
import { apiReads } from './capacity-reads.mjs';
import { telemetryCost } from './capacity-telemetry.mjs';
import { freePort, stopService } from './procs.mjs';
import { cpuSeconds, memoryMiB } from './procfs.mjs';
import { CHAT_BODY, freshDataDir, parleyTarget, signUpAdmin, startFake, startParley, useHttp2Upstreams } from './services.mjs';
import { median, round } from './stats.mjs';

/** A slow model whose answers outlast the whole stream measurement (5 minutes each). */
export const SLOW_FAKE = { ttftMs: 100, tokenMs: 1000, tokens: 300 };

/** Counts and durations of the full run (about 3 to 4 minutes) and of the --quick smoke run. */
export const CAPACITY_PLANS = {
  full: {
    // Once with HTTP/1.1 to the model (a socket each way per stream), once with HTTP/2 (streams share upstream sockets).
    streams: { upstreams: ['http1', 'http2'], levels: [1000, 2500, 5000, 10_000], inFlight: 200, settleMs: 2000, windowMs: 3000, probes: 3 },
    reads: { concurrency: [16, 64], chats: 50, warmupMs: 1000, durationMs: 5000 },
    // Alternating orders spread slow drift over both conditions. Unpaced is CPU-bound, where a
    // fresh process's own speed varies by several per cent: it is measured on five pairs of processes.
    telemetry: {
      paced: { concurrency: 64, perStream: 6, warmupPerStream: 1, warmupRuns: 1, order: ['off', 'on', 'on', 'off'] },
      unpaced: { concurrency: 16, perStream: 100, warmupPerStream: 5, warmupRuns: 1, processPairs: 5, order: ['off', 'on', 'on', 'off'] },
    },
  },
  quick: {
    streams: { upstreams: ['http1', 'http2'], levels: [100, 300], inFlight: 100, settleMs: 1000, windowMs: 3000, probes: 1 },
    reads: { concurrency: [16], chats: 10, warmupMs: 300, durationMs: 1000 },
    telemetry: {
      paced: { concurrency: 64, perStream: 1, warmupPerStream: 1, order: ['off', 'on'] },
      unpaced: { concurrency: 16, perStream: 2, warmupPerStream: 1, order: ['off', 'on'] },
    },
  },
};

const WANTED_FD_LIMIT = 65_536;
const FD_MARGIN = 100;
const CONTENT = /"content":\s*"(?!")/;

/** One line of progress on stderr, so stdout stays the report. */
const progress = (line) => console.error(`  ${line}`);

/** Parley's sockets per held stream: the client's, plus the upstream's unless HTTP/2 shares it (100 streams a socket). */
const FDS_PER_STREAM = { http1: 2, http2: 1.01 };
const UPSTREAM_LABEL = { http1: 'HTTP/1.1', http2: 'HTTP/2 (h2c)' };

/**
 * Raises this process's open-file limit (children inherit it) so 10,000 streams fit: each
 * costs Parley up to two sockets (client and upstream). Raising the hard limit takes
 * CAP_SYS_RESOURCE; without it Node has already lifted the soft limit to the hard one.
 * Returns the limit in force afterwards.
 */
function raiseFdLimit() {
  const limit = () => Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? NaN);
  if (limit() < WANTED_FD_LIMIT) {
    try {
      execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${WANTED_FD_LIMIT}:${WANTED_FD_LIMIT}`], { stdio: 'ignore' });
    } catch {
      // not permitted, or no prlimit: the levels that do not fit are lowered, and the report says so
    }
  }
  return limit();
}

/** The few /metrics figures the regime reports (GET /metrics needs no token while METRICS_TOKEN is unset). */
async function scrapeMetrics(origin) {
  const text = await (await fetch(`${origin}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const value = (name) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  return {
    heapUsedMiB: round(value('nodejs_heap_size_used_bytes') / 2 ** 20, 3),
    activeStreams: value('parley_active_streams'),
    eventLoopLagP99Ms: round(value('nodejs_eventloop_lag_p99_seconds') * 1000, 1),
  };
}

/** Time to the first content token of one streamed completion, which is then cancelled. */
async function probeTtft(target) {
  const cancel = new AbortController();
  const started = performance.now();
  try {
    const response = await fetch(`${target.origin}${target.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...target.headers },
      body: JSON.stringify(target.body),
      signal: AbortSignal.any([cancel.signal, AbortSignal.timeout(30_000)]),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`);
    const decoder = new TextDecoder();
    for await (const chunk of response.body) {
      if (CONTENT.test(decoder.decode(chunk, { stream: true }))) return performance.now() - started;
    }
    throw new Error('probe stream ended with no content');
  } finally {
    cancel.abort();
  }
}

/**
 * Parley's memory as the OS sees it (RSS) and as V8 does (heap used), then both again after
 * a forced full collection: the first includes garbage V8 has not yet bothered to collect,
 * the second is what the held streams really retain.
 */
async function memoryOf(parley, inspectPort) {
  const rssMiB = round(memoryMiB(parley.service.pid).rss, 1);
  const metrics = await scrapeMetrics(parley.origin);
  // Twice: objects freed by the first pass (weak references, finalizers) go in the second.
  const gcMs = (await collectGarbage(inspectPort)) + (await collectGarbage(inspectPort));
  const afterGc = { rssMiB: round(memoryMiB(parley.service.pid).rss, 1), heapUsedMiB: (await scrapeMetrics(parley.origin)).heapUsedMiB };
  return { rssMiB, ...metrics, afterGc: { ...afterGc, gcMs: round(gcMs, 0) } };
}

/**
 * One step, once its streams are open: memory after a settle pause (as is, then collected),
 * Parley's CPU and event-loop lag over a quiet window, which streams are alive, and probes.
 */
async function measureLevel({ worker, parley, fake, target, inspectPort, idle, previous, streams, opened, plan }) {
  await sleep(plan.settleMs);
  const memory = await memoryOf(parley, inspectPort);
  const cpuBefore = cpuSeconds(parley.service.pid);
  await sleep(plan.windowMs);
  const cpuPercent = round(((cpuSeconds(parley.service.pid) - cpuBefore) * 100_000) / plan.windowMs, 0);
  // prom-client resets its event-loop histogram at each scrape: this one covers the quiet hold window only.
  const { eventLoopLagP99Ms } = await scrapeMetrics(parley.origin);
  const status = await worker.ask({ type: 'status', windowMs: plan.windowMs }, 'status', 30_000);
  const probes = [];
  const probeErrors = new Set();
  for (let i = 0; i < plan.probes; i++) {
    probes.push(
      await probeTtft(target).catch((error) => {
        probeErrors.add(error.message);
        return NaN;
      }),
    );
  }
  const { rssMiB, afterGc } = memory;
  const perStream = (mib, idleMib) => round(((mib - idleMib) * 1024) / streams, 1);
  return {
    streams,
    openSeconds: round(opened.wallMs / 1000, 1),
    opensPerSec: round((streams - previous.streams) / (opened.wallMs / 1000), 0),
    openTtftMs: opened.ttftMs,
    alive: status.alive,
    gotFirstToken: status.gotFirstToken,
    failed: status.failed,
    ended: status.ended,
    errors: status.errors,
    openFiles: openFiles(parley.service.pid),
    rssMiB,
    // Against the collected idle baseline: the growth includes garbage not yet collected, as the OS sees it.
    kbPerStream: perStream(rssMiB, idle.afterGc.rssMiB),
    heapUsedMiB: memory.heapUsedMiB,
    afterGc: {
      ...afterGc,
      rssKbPerStream: perStream(afterGc.rssMiB, idle.afterGc.rssMiB),
      heapKbPerStream: perStream(afterGc.heapUsedMiB, idle.afterGc.heapUsedMiB),
      marginalRssKbPerStream: round(((afterGc.rssMiB - previous.rssMiB) * 1024) / (streams - previous.streams), 1),
    },
    activeStreamsMetric: memory.activeStreams,
    eventLoopLagP99Ms,
    parleyCpuPercent: cpuPercent,
    probeTtftMs: { median: round(median(probes.filter(Number.isFinite)), 1), max: round(Math.max(...probes), 1), errors: [...probeErrors] },
    fakeRssMiB: round(memoryMiB(fake.service.pid).rss, 1),
    clientRssMiB: round(status.rssMiB, 1),
    isHeld: status.alive === streams && status.failed === 0 && status.ended === 0,
  };
}

/**
 * Part 1: opens streams against a slow model in steps and holds them. At each step, after a
 * settle pause: Parley's RSS against its idle RSS, heap, CPU while relaying, how many streams
 * got a token within the last `windowMs`, and the TTFT of one more request.
 */
async function heldStreams(plan, fdLimit, upstream) {
  const services = [];
  const dataDirs = [freshDataDir()];
  try {
    const fake = await startFake({ ...SLOW_FAKE, h2c: upstream === 'http2' });
    services.push(fake.service);
    // The inspector (loopback only) is there to force full garbage collections; idle, it costs nothing.
    const inspectPort = await freePort();
    const parley = await startParley({ fakeOrigin: fake.origin, dataDir: dataDirs[0], env: { NODE_OPTIONS: `--inspect=127.0.0.1:${inspectPort}` } });
    services.push(parley.service);
    const token = await signUpAdmin(parley.origin);
    if (upstream === 'http2') await useHttp2Upstreams(parley.origin, token);
    const target = parleyTarget(parley.origin, token);
    // The first completion gathers the model list from the upstream; later ones find it cached.
    for (let attempt = 0; ; attempt++) {
      try {
        await probeTtft(target);
        break;
      } catch (error) {
        if (attempt >= 10) throw error;
        await sleep(500);
      }
    }
    await sleep(plan.settleMs);
    const idle = { openFiles: openFiles(parley.service.pid), ...(await memoryOf(parley, inspectPort)) };
    const mib = (value) => value.toFixed(1);
    progress(`${UPSTREAM_LABEL[upstream]} to the model; idle Parley: RSS ${mib(idle.rssMiB)} MiB, heap ${mib(idle.heapUsedMiB)} MiB (after GC ${mib(idle.afterGc.rssMiB)}, ${mib(idle.afterGc.heapUsedMiB)}), fd limit ${fdLimit}`);

    const worker = startWorker('capacity worker (streams)');
    services.push(worker);
    const url = new URL(parley.origin);
    const body = JSON.stringify(CHAT_BODY);
    worker.child.send({
      type: 'hold',
      spec: {
        url: { host: url.hostname, port: Number(url.port) },
        path: target.path,
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...target.headers },
        body,
        inFlight: plan.inFlight,
        firstTokenTimeoutMs: 60_000,
      },
    });
    // Parley needs the sockets of every stream, plus the files it already has open and a margin
    // for probes and scrapes: levels above that are lowered to fit.
    const perStream = FDS_PER_STREAM[upstream];
    const fits = Math.floor((fdLimit - idle.openFiles - FD_MARGIN) / (perStream * 100)) * 100;
    const wanted = Math.max(...plan.levels);
    const needed = Math.ceil(perStream * wanted) + idle.openFiles;
    const fdCapped =
      wanted > fits ? { wanted, largestThatFits: fits, reason: `${wanted} streams need about ${needed} open files in Parley; the open-file limit here is ${fdLimit}` } : null;
    if (fdCapped) progress(`fd limit: ${fdCapped.reason}; measuring ${fits} instead`);
    const levels = [];
    let stoppedBecause = null;
    let previous = { streams: 0, rssMiB: idle.afterGc.rssMiB };
    for (const streams of [...new Set(plan.levels.map((n) => Math.min(n, fits)))]) {
      let opened;
      try {
        opened = await worker.ask({ type: 'open', count: streams - previous.streams }, 'opened', 300_000);
      } catch (error) {
        const parleyExit = parley.service.exitInfo ? `; Parley exited ${JSON.stringify(parley.service.exitInfo)}: ${parley.service.output()}` : '';
        stoppedBecause = `opening ${streams} streams failed: ${error.message}${parleyExit}`;
        break;
      }
      const level = await measureLevel({ worker, parley, fake, target, inspectPort, idle, previous, streams, opened, plan });
      levels.push(level);
      progress(
        `${streams} streams: opened in ${level.openSeconds} s, alive ${level.alive}, failed ${level.failed}, ` +
          `RSS ${level.rssMiB} MiB (${level.kbPerStream} KB/stream; after GC ${level.afterGc.rssKbPerStream}, heap ${level.afterGc.heapKbPerStream}), ` +
          `CPU ${level.parleyCpuPercent} %, ` +
          `probe TTFT ${level.probeTtftMs.median} ms${level.failed ? `; errors ${JSON.stringify(level.errors)}` : ''}`,
      );
      previous = { streams, rssMiB: level.afterGc.rssMiB };
      if (!level.isHeld) {
        stoppedBecause = `not every stream was alive at ${streams}: ${JSON.stringify(level.errors)}`;
        break;
      }
    }
    // Clients gone, every relayed stream must be released: the gauge has to fall back to zero.
    await stopService(worker);
    const releaseStarted = performance.now();
    let afterClientsLeft = await scrapeMetrics(parley.origin);
    while (afterClientsLeft.activeStreams > 0 && performance.now() - releaseStarted < 10_000) {
      await sleep(250);
      afterClientsLeft = await scrapeMetrics(parley.origin);
    }
    const held = levels.filter((l) => l.isHeld).at(-1)?.streams ?? 0;
    return {
      upstream: UPSTREAM_LABEL[upstream],
      fake: SLOW_FAKE,
      fdLimit,
      fdCapped,
      settleMs: plan.settleMs,
      windowMs: plan.windowMs,
      idle,
      levels,
      largestHeld: held,
      stoppedBecause,
      afterClientsLeft: { ...afterClientsLeft, ms: round(performance.now() - releaseStarted, 0) },
    };
  } finally {
    await teardown(services, dataDirs);
  }
}

/** The issue's targets, checked against the figures of the parts that ran. */
function checkTargets({ streams, telemetry }) {
  const targets = [];
  for (const run of streams ?? []) {
    const top = run.levels.findLast((l) => l.isHeld) ?? run.levels.at(-1);
    const why = run.fdCapped
      ? ` (${run.fdCapped.wanted} not attempted: ${run.fdCapped.reason})`
      : run.stoppedBecause
        ? ` (stopped: ${run.stoppedBecause})`
        : '';
    targets.push(
      { label: `one instance holds 10,000 concurrent slow streams (${run.upstream} to the model)`, actual: `${run.largestHeld} held${why}`, pass: run.largestHeld >= 10_000 },
      {
        label: `at most 20 KB of RSS per held stream (${run.upstream} to the model)`,
        actual: top
          ? `${top.kbPerStream} KB at ${top.streams} streams (after a forced GC: ${top.afterGc.rssKbPerStream} KB of RSS, ${top.afterGc.heapKbPerStream} KB of heap)` +
            (run.baseline ? `; a bare Node relay: ${run.baseline.kbPerStream} KB (after GC ${run.baseline.afterGc.rssKbPerStream}, heap ${run.baseline.afterGc.heapKbPerStream})` : '')
          : 'not measured',
        pass: Boolean(top) && top.kbPerStream <= 20,
      },
    );
  }
  // A variant (--variant) takes telemetry apart; only the target's setting is checked against it.
  const telemetrySetups = telemetry?.variant === 'telemetry' ? telemetry.setups : [];
  for (const setup of telemetrySetups) {
    targets.push({
      label: `telemetry on loses at most 5 % of throughput (${setup.name}, ${setup.level.concurrency} streams)`,
      actual: `on/off ${setup.throughputRatio} (median of ${setup.pairRatios.length} pairs of runs on ${setup.processPairs} pairs of processes; ratio of the means ${setup.meanThroughputRatio})`,
      pass: setup.throughputRatio !== null && setup.throughputRatio >= 0.95,
    });
  }
  return targets;
}

/** Runs the parts of the capacity regime that `plan` names (see CAPACITY_PLANS); a plain JSON-able result. */
export async function capacityRegime(plan) {
  const result = {};
  if (plan.streams) {
    console.error('capacity: concurrent slow streams');
    const fdLimit = raiseFdLimit();
    result.streams = [];
    for (const upstream of plan.streams.upstreams) {
      const run = await heldStreams(plan.streams, fdLimit, upstream);
      if (run.largestHeld > 0) {
        progress(`baseline: a bare relay holding ${run.largestHeld} streams`);
        const { inFlight, settleMs } = plan.streams;
        run.baseline = await bareRelayMemory({ fake: SLOW_FAKE, upstream, streams: run.largestHeld, inFlight, settleMs });
      }
      result.streams.push(run);
    }
  }
  if (plan.reads) {
    console.error('capacity: authenticated API reads on PostgreSQL');
    result.reads = await apiReads(plan.reads);
  }
  if (plan.telemetry) {
    console.error('capacity: telemetry on vs off');
    result.telemetry = await telemetryCost(plan.telemetry);
  }
  return { ...result, targets: checkTargets(result) };
}
