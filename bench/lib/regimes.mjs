// The three regimes: paced streams (latency a person feels), unpaced streams (CPU cost
// of relaying), and Parley's own process facts (memory, start-up time).
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { measure } from './load.mjs';
import { stopService } from './procs.mjs';
import { memoryMiB } from './procfs.mjs';
import { waitForQuiet } from './quiet.mjs';
import {
  directTarget,
  freshDataDir,
  portkeyTarget,
  prepareParley,
  startFake,
  startParley,
  startPortkey,
} from './services.mjs';
import { median, ratio, round } from './stats.mjs';

/** Fake model pacing of each regime. */
export const PACED_FAKE = { ttftMs: 50, tokenMs: 10, tokens: 64 };
export const UNPACED_FAKE = { ttftMs: 0, tokenMs: 0, tokens: 512 };

/** Stops the services (in reverse start order) and removes the data folders, whatever happened. */
async function teardown(services, dataDirs) {
  for (const service of services.reverse()) await stopService(service);
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
}

/** One line of progress on stderr, so stdout stays the report. */
function progress(row) {
  const errors = row.errors > 0 ? `  ERRORS ${row.errors}: ${row.errorMessages.join(' | ')}` : '';
  console.error(
    `  ${row.target.padEnd(7)} x${String(row.concurrency).padEnd(3)} ${String(row.requests).padStart(4)} req  ` +
      `ttft p50 ${row.ttftMs.p50} p99 ${row.ttftMs.p99} ms  ${row.tokensPerSec} tok/s  other CPU ${row.otherCpuPercent} %${errors}`,
  );
}

/**
 * Regime 1: the fake answers like a real model; TTFT and relayed throughput, direct vs
 * Parley. Each level runs with starts spread over one answer's duration (as real users
 * arrive) and, when `burst` is set, again with every stream starting in the same instant.
 * `warmup` first puts Parley through that many requests, unmeasured: a serving instance
 * is warm, and a fresh one spends its first few thousand requests compiling hot paths
 * and sizing its heap (the CPU per request falls by a fifth meanwhile).
 */
export async function pacedRegime(levels, warmup) {
  const services = [];
  const dataDirs = [freshDataDir()];
  try {
    const fake = await startFake(PACED_FAKE);
    services.push(fake.service);
    const parley = await startParley({ fakeOrigin: fake.origin, dataDir: dataDirs[0] });
    services.push(parley.service);
    await sleep(1000);
    const idle = memoryMiB(parley.service.pid);
    const parleyTarget = await prepareParley(parley);
    if (warmup) {
      const warm = await measure(parleyTarget, warmup);
      console.error(`  warm-up: ${warm.requests} requests through Parley, ${warm.errors} errors`);
    }
    const direct = directTarget(fake.origin);
    const cycleMs = PACED_FAKE.ttftMs + PACED_FAKE.tokens * PACED_FAKE.tokenMs;
    const pair = async (level, staggerMs) => {
      const d = await measure(direct, { ...level, staggerMs, watch: { fake: fake.service.pid } });
      progress(d);
      const p = await measure(parleyTarget, { ...level, staggerMs, watch: { parley: parley.service.pid, fake: fake.service.pid } });
      progress(p);
      return {
        concurrency: level.concurrency,
        direct: d,
        parley: p,
        addedTtftMs: { p50: round(p.ttftMs.p50 - d.ttftMs.p50), p99: round(p.ttftMs.p99 - d.ttftMs.p99) },
        throughputRatio: ratio(p.tokensPerSec, d.tokensPerSec),
      };
    };
    const rows = [];
    const burstRows = [];
    for (const { burst, repeats = 1, ...level } of levels) {
      // One stream has nothing to collide with: spreading its starts changes nothing.
      const staggerMs = level.concurrency > 1 ? cycleMs : 0;
      const tries = [];
      for (let i = 0; i < repeats; i++) tries.push(await pair(level, staggerMs));
      // The p99 of one run is its few slowest requests, at the mercy of whatever else the machine
      // did then; a level measured several times reports the run with the median added p99.
      tries.sort((a, b) => a.addedTtftMs.p99 - b.addedTtftMs.p99);
      const row = tries[Math.floor((tries.length - 1) / 2)];
      if (repeats > 1) row.addedP99OfRepeats = tries.map((t) => t.addedTtftMs.p99);
      rows.push(row);
      if (burst) burstRows.push(await pair(level, 0));
    }
    const after = memoryMiB(parley.service.pid);
    return {
      fake: PACED_FAKE,
      staggerMs: cycleMs,
      levels: rows,
      burstLevels: burstRows,
      parleyMemoryMiB: { idleRss: round(idle.rss, 1), rssAfterLastLevel: round(after.rss, 1), peakRss: round(after.peak, 1) },
    };
  } finally {
    await teardown(services, dataDirs);
  }
}

/** Regime 2: the fake answers as fast as it can; tokens/s and gateway CPU per token. */
export async function unpacedRegime(levels) {
  const services = [];
  const dataDirs = [freshDataDir()];
  try {
    const fake = await startFake(UNPACED_FAKE);
    services.push(fake.service);
    const parley = await startParley({ fakeOrigin: fake.origin, dataDir: dataDirs[0] });
    services.push(parley.service);
    const portkey = await startPortkey();
    services.push(portkey.service);
    const targets = [
      { target: directTarget(fake.origin), watch: { fake: fake.service.pid } },
      { target: await prepareParley(parley), watch: { gateway: parley.service.pid, fake: fake.service.pid } },
      { target: portkeyTarget(portkey.origin, fake.origin), watch: { gateway: portkey.service.pid, fake: fake.service.pid } },
    ];
    const rows = [];
    for (const level of levels) {
      const results = {};
      for (const { target, watch } of targets) {
        results[target.name] = await measure(target, { ...level, watch });
        progress(results[target.name]);
      }
      rows.push({
        concurrency: level.concurrency,
        direct: results.direct,
        parley: results.parley,
        portkey: results.portkey,
        parleyVsDirect: ratio(results.parley.tokensPerSec, results.direct.tokensPerSec),
        parleyVsPortkey: ratio(results.parley.tokensPerSec, results.portkey.tokensPerSec),
        gatewayCpuSecondsPer1kTokens: {
          parley: results.parley.cpuSecondsPer1kTokens.gateway,
          portkey: results.portkey.cpuSecondsPer1kTokens.gateway,
        },
      });
    }
    return { fake: UNPACED_FAKE, levels: rows };
  } finally {
    await teardown(services, dataDirs);
  }
}

/** Regime 3: spawn-to-ready on a fresh and on an existing database, and idle memory. */
export async function processRegime(runs) {
  const services = [];
  const dataDirs = [];
  try {
    const fake = await startFake(PACED_FAKE);
    services.push(fake.service);
    const fresh = [];
    const existing = [];
    const idleRss = [];
    for (let i = 0; i < runs; i++) {
      await waitForQuiet();
      const dataDir = freshDataDir();
      dataDirs.push(dataDir);
      const first = await startParley({ fakeOrigin: fake.origin, dataDir });
      fresh.push(first.readyMs);
      await sleep(1000);
      idleRss.push(memoryMiB(first.service.pid).rss);
      await stopService(first.service);
      const second = await startParley({ fakeOrigin: fake.origin, dataDir });
      existing.push(second.readyMs);
      await stopService(second.service);
      console.error(`  start-up run ${i + 1}: fresh ${round(first.readyMs, 0)} ms, existing ${round(second.readyMs, 0)} ms`);
    }
    return {
      runs,
      spawnToReadyMs: {
        freshDatabase: { median: round(median(fresh), 1), samples: fresh.map((v) => round(v, 1)) },
        existingDatabase: { median: round(median(existing), 1), samples: existing.map((v) => round(v, 1)) },
      },
      idleRssMiB: { median: round(median(idleRss), 1), samples: idleRss.map((v) => round(v, 1)) },
    };
  } finally {
    await teardown(services, dataDirs);
  }
}
