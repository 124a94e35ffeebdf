// Part 3 of the capacity regime: what telemetry costs. Two Parley instances on one fake
// model, one with tracing off and unscraped, one tracing at 10 % into a stand-in collector
// and scraped every second as Prometheus would; paced (latency) and unpaced (CPU) setups.
import { rmSync } from 'node:fs';
import { measure } from './load.mjs';
import { startOtlpSink } from './otlp-sink.mjs';
import { stopService } from './procs.mjs';
import { PACED_FAKE, UNPACED_FAKE } from './regimes.mjs';
import { freshDataDir, prepareParley, startFake, startParley } from './services.mjs';
import { mean, median, ratio, round } from './stats.mjs';

const TRACE_SAMPLE_RATIO = 0.1;

/** One line of progress on stderr, so stdout stays the report. */
const progress = (line) => console.error(`  ${line}`);

/** Stops the services (in reverse start order) and removes the data folders, whatever happened. */
async function teardown(services, dataDirs) {
  for (const service of services.reverse()) await stopService(service);
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
}

/** Fetches /metrics every second until stopped, as a Prometheus server would; resolves with what it read. */
function startScraper(origin) {
  const totals = { scrapes: 0, bytes: 0, failures: 0 };
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const text = await (await fetch(`${origin}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
      totals.scrapes++;
      totals.bytes += text.length;
    } catch {
      totals.failures++;
    } finally {
      busy = false;
    }
  }, 1000);
  return () => {
    clearInterval(timer);
    return totals;
  };
}

/** Mean of one figure over the runs of a condition. */
const meanOf = (runs, pick) => round(mean(runs.map(pick).filter(Number.isFinite)), 2);

/**
 * Part 3, one setup: two Parley instances on the same fake model, one with tracing off and
 * unscraped, one tracing at 10 % into the sink and scraped every second; measured in the
 * plan's order (off, on, on, off spreads slow drift over both conditions). The throughput
 * ratio is the median of neighbouring pairs' ratios; the ratio of the means is kept too.
 */
async function telemetrySetup(name, fakePacing, { order, warmupRuns = 0, ...level }, staggerMs, sink) {
  const services = [];
  const dataDirs = [freshDataDir(), freshDataDir()];
  try {
    const fake = await startFake(fakePacing);
    services.push(fake.service);
    const otel = {
      ENABLE_OTEL: 'true',
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.origin,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: String(TRACE_SAMPLE_RATIO),
    };
    const sinkBefore = sink.counts();
    const off = await startParley({ fakeOrigin: fake.origin, dataDir: dataDirs[0], env: { ENABLE_OTEL: 'false' } });
    services.push(off.service);
    const on = await startParley({ fakeOrigin: fake.origin, dataDir: dataDirs[1], env: otel });
    services.push(on.service);
    const instances = { off: { parley: off, target: await prepareParley(off) }, on: { parley: on, target: await prepareParley(on) } };
    /** One measurement of `condition`, the traced instance scraped meanwhile as Prometheus would. */
    const runOnce = async (condition, label) => {
      const { parley, target } = instances[condition];
      const stopScraper = condition === 'on' ? startScraper(parley.origin) : null;
      // The fake model is watched too, so its CPU is not taken for other work on the machine.
      const watch = { parley: parley.service.pid, fake: fake.service.pid };
      const run = await measure({ ...target, name: `${name} ${condition}` }, { ...level, staggerMs, watch });
      const scraped = stopScraper?.() ?? null;
      progress(`${name} ${condition.padEnd(3)} x${level.concurrency}${label}: ${run.tokensPerSec} tok/s, TTFT p50 ${run.ttftMs.p50} p99 ${run.ttftMs.p99} ms, Parley CPU ${run.cpuPercentOfCore.parley} %, errors ${run.errors}`);
      return { condition, ...run, scraped };
    };
    // The first runs of a fresh set of processes (the fake model's included) are 15-25 % slower
    // than later ones whatever they measure; unmeasured runs of both instances go first, so the
    // series compares warm processes, not whichever condition came early.
    for (let i = 0; i < warmupRuns; i++) for (const condition of ['off', 'on']) await runOnce(condition, ' (warm-up, not counted)');
    const runs = [];
    for (const condition of order) runs.push(await runOnce(condition, ''));
    // SIGTERM makes Parley flush its queued spans before it exits; count them after that.
    await stopService(on.service);
    const sinkAfter = sink.counts();
    const summarize = (condition) => {
      const mine = runs.filter((r) => r.condition === condition);
      return {
        tokensPerSec: meanOf(mine, (r) => r.tokensPerSec),
        ttftP50Ms: meanOf(mine, (r) => r.ttftMs.p50),
        ttftP99Ms: meanOf(mine, (r) => r.ttftMs.p99),
        parleyCpuMsPer1kTokens: meanOf(mine, (r) => r.cpuSecondsPer1kTokens.parley * 1000),
        errors: mine.reduce((sum, r) => sum + r.errors, 0),
      };
    };
    const [offSummary, onSummary] = [summarize('off'), summarize('on')];
    // The order alternates in twos (off on, on off, ...): each two neighbours form a pair, and
    // the median of the pairs' ratios shrugs off one disturbed run, which the ratio of means does not.
    const pairRatios = [];
    for (let i = 0; i + 1 < runs.length; i += 2) {
      const [on, off] = runs[i].condition === 'on' ? [runs[i], runs[i + 1]] : [runs[i + 1], runs[i]];
      if (on.condition === 'on' && off.condition === 'off') pairRatios.push(ratio(on.tokensPerSec, off.tokensPerSec));
    }
    // Every request to the traced instance could start a trace: sign-up, the check completion, warm-ups and measured ones.
    const perWarmupRun = level.concurrency * (level.perStream + level.warmupPerStream);
    const onRequests =
      2 + warmupRuns * perWarmupRun + runs.filter((r) => r.condition === 'on').reduce((sum, r) => sum + r.requests + level.concurrency * level.warmupPerStream, 0);
    return {
      name,
      fake: fakePacing,
      level,
      staggerMs,
      order,
      warmupRuns,
      runs,
      off: offSummary,
      on: onSummary,
      throughputRatio: round(median(pairRatios), 3),
      meanThroughputRatio: ratio(onSummary.tokensPerSec, offSummary.tokensPerSec),
      pairRatios,
      addedTtftMs: { p50: round(onSummary.ttftP50Ms - offSummary.ttftP50Ms), p99: round(onSummary.ttftP99Ms - offSummary.ttftP99Ms) },
      addedCpuMsPer1kTokens: round(onSummary.parleyCpuMsPer1kTokens - offSummary.parleyCpuMsPer1kTokens),
      spans: {
        exports: sinkAfter.exports - sinkBefore.exports,
        spans: sinkAfter.spans - sinkBefore.spans,
        traces: sinkAfter.traces - sinkBefore.traces,
        requestsToTracedInstance: onRequests,
        bytes: sinkAfter.bytes - sinkBefore.bytes,
      },
    };
  } finally {
    await teardown(services, dataDirs);
  }
}

/** Telemetry on vs off, paced (latency) and unpaced (CPU) setups. */
export async function telemetryCost(plan) {
  const sink = await startOtlpSink();
  try {
    const pacedCycleMs = PACED_FAKE.ttftMs + PACED_FAKE.tokens * PACED_FAKE.tokenMs;
    return {
      sampler: `parentbased_traceidratio ${TRACE_SAMPLE_RATIO}`,
      scrapeIntervalMs: 1000,
      setups: [
        await telemetrySetup('paced', PACED_FAKE, plan.paced, pacedCycleMs, sink),
        await telemetrySetup('unpaced', UNPACED_FAKE, plan.unpaced, 0, sink),
      ],
    };
  } finally {
    await sink.close();
  }
}

