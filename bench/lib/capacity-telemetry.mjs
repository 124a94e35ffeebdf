// Part 3 of the capacity regime: what telemetry costs. Two Parley instances on one fake
// model, one with tracing off and unscraped, one tracing at 10 % into a stand-in collector
// and scraped every second as Prometheus would; paced (latency) and unpaced (CPU) setups.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { measure } from './load.mjs';
import { startOtlpSink } from './otlp-sink.mjs';
import { stopService } from './procs.mjs';
import { PACED_FAKE, UNPACED_FAKE } from './regimes.mjs';
import { freshDataDir, prepareParley, startFake, startParley } from './services.mjs';
import { mean, median, ratio, round } from './stats.mjs';

const TRACE_SAMPLE_RATIO = 0.1;
const ASYNC_CONTEXT_PRELOAD = path.join(import.meta.dirname, 'async-context.mjs');

/**
 * What the *on* instance runs (`--variant`); *off* is always untraced and unscraped. Beside
 * the target's setting, variants that take telemetry apart: the method's own reading when
 * nothing differs, Node's cost of carrying a context across async calls (which tracing
 * needs) without OpenTelemetry, and OpenTelemetry with every trace dropped.
 */
export const TELEMETRY_VARIANTS = {
  telemetry: { label: `tracing at ${TRACE_SAMPLE_RATIO * 100} % to a stand-in OTLP/HTTP collector, /metrics scraped every second (the target's setting)`, traced: true, scraped: true },
  control: { label: 'untraced and unscraped too, so on/off shows only the method\'s spread', env: {} },
  'async-context': { label: 'untraced and unscraped, with one AsyncLocalStorage holding a value (what OpenTelemetry\'s context manager does)', env: { NODE_OPTIONS: `--import=${ASYNC_CONTEXT_PRELOAD}` } },
  'sampler-off': { label: 'ENABLE_OTEL=true with OTEL_TRACES_SAMPLER=always_off (nothing recorded or exported), unscraped', env: { ENABLE_OTEL: 'true', OTEL_TRACES_SAMPLER: 'always_off' } },
  // *off* runs the build named by --baseline, *on* this one, both untraced: a change's cost to the relay.
  baseline: { label: 'this build, untraced and unscraped, against *off* running the --baseline build (the code before a change)', env: {}, comparesBuilds: true },
};

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

/** Database queries the instance has run so far, from its own metric (the same name in every build measured). */
async function databaseQueries(origin) {
  const text = await (await fetch(`${origin}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('parley_db_query_duration_seconds_count'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

/** Mean of one figure over the runs of a condition. */
const meanOf = (runs, pick) => round(mean(runs.map(pick).filter(Number.isFinite)), 2);

/**
 * One pair of fresh Parley processes on `fake`, one with tracing off and unscraped, one running
 * `variant` (by default tracing into the sink, scraped every second), measured in `order`;
 * resolves with the runs.
 */
async function measureProcessPair({ name, fake, sink, level, order, warmupRuns, staggerMs, onFirst, variant, baselineMain }) {
  const services = [];
  const dataDirs = [freshDataDir(), freshDataDir()];
  try {
    const off = { ENABLE_OTEL: 'false' };
    const traced = { ENABLE_OTEL: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: sink.origin, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: String(TRACE_SAMPLE_RATIO) };
    const on = variant.traced ? traced : { ...off, OTEL_EXPORTER_OTLP_ENDPOINT: sink.origin, ...variant.env };
    const env = { off, on };
    const instances = {};
    for (const [i, condition] of (onFirst ? ['on', 'off'] : ['off', 'on']).entries()) {
      const main = condition === 'off' && variant.comparesBuilds ? baselineMain : undefined;
      const parley = await startParley({ fakeOrigin: fake.origin, dataDir: dataDirs[i], env: env[condition], main });
      services.push(parley.service);
      instances[condition] = { parley, target: await prepareParley(parley) };
    }
    /** One measurement of `condition`, the traced instance scraped meanwhile as Prometheus would. */
    const runOnce = async (condition, label) => {
      const { parley, target } = instances[condition];
      const stopScraper = condition === 'on' && variant.scraped ? startScraper(parley.origin) : null;
      // The fake model is watched too, so its CPU is not taken for other work on the machine.
      const watch = { parley: parley.service.pid, fake: fake.service.pid };
      // Read outside the measured window, so the reading costs the run nothing. Records written in
      // batches after a run are counted in the next one (or not at all after the last).
      const queriesBefore = await databaseQueries(parley.origin);
      const run = await measure({ ...target, name: `${name} ${condition}` }, { ...level, staggerMs, watch });
      const scraped = stopScraper?.() ?? null;
      run.dbQueriesPerRequest = run.requests > 0 ? round(((await databaseQueries(parley.origin)) - queriesBefore) / run.requests, 3) : null;
      progress(`${name} ${condition.padEnd(3)} x${level.concurrency}${label}: ${run.tokensPerSec} tok/s, TTFT p50 ${run.ttftMs.p50} p99 ${run.ttftMs.p99} ms, Parley CPU ${run.cpuPercentOfCore.parley} %, errors ${run.errors}`);
      return { condition, ...run, scraped };
    };
    // The first runs of a fresh set of processes are 15-25 % slower than later ones whatever they
    // measure; unmeasured runs of both instances go first, so the series compares warm processes.
    for (let i = 0; i < warmupRuns; i++) for (const condition of ['off', 'on']) await runOnce(condition, ' (warm-up, not counted)');
    const runs = [];
    for (const condition of order) runs.push(await runOnce(condition, ''));
    // SIGTERM makes the traced instance flush its queued spans before it exits.
    await stopService(instances.on.parley.service);
    return runs;
  } finally {
    await teardown(services, dataDirs);
  }
}

/**
 * Part 3, one setup: `processPairs` pairs of fresh instances on one fake model, each measured
 * in the plan's order (off, on, on, off spreads slow drift over both conditions). A fresh
 * process's speed varies by several per cent for its whole life (two identical instances
 * differed by 0.88 to 1.03), so one pair of processes cannot resolve a 5 % target: the
 * throughput ratio is the median over the neighbouring runs' ratios of every pair.
 */
async function telemetrySetup(name, fakePacing, { order, warmupRuns = 0, processPairs = 1, ...level }, staggerMs, sink, variant, baselineMain) {
  const fake = await startFake(fakePacing);
  try {
    const sinkBefore = sink.counts();
    const runs = [];
    const pairRatios = [];
    for (let pair = 0; pair < processPairs; pair++) {
      // Which instance starts first alternates too.
      const pairRuns = await measureProcessPair({ name: `${name} #${pair + 1}`, fake, sink, level, order, warmupRuns, staggerMs, onFirst: pair % 2 === 1, variant, baselineMain });
      runs.push(...pairRuns.map((run) => ({ ...run, processPair: pair + 1 })));
      // The order alternates in twos (off on, on off, ...): each two neighbours form a pair of runs.
      for (let i = 0; i + 1 < pairRuns.length; i += 2) {
        const [on, off] = pairRuns[i].condition === 'on' ? [pairRuns[i], pairRuns[i + 1]] : [pairRuns[i + 1], pairRuns[i]];
        if (on.condition === 'on' && off.condition === 'off') pairRatios.push(ratio(on.tokensPerSec, off.tokensPerSec));
      }
    }
    const sinkAfter = sink.counts();
    const summarize = (condition) => {
      const mine = runs.filter((r) => r.condition === condition);
      return {
        tokensPerSec: meanOf(mine, (r) => r.tokensPerSec),
        ttftP50Ms: meanOf(mine, (r) => r.ttftMs.p50),
        ttftP99Ms: meanOf(mine, (r) => r.ttftMs.p99),
        parleyCpuMsPer1kTokens: meanOf(mine, (r) => r.cpuSecondsPer1kTokens.parley * 1000),
        dbQueriesPerRequest: meanOf(mine, (r) => r.dbQueriesPerRequest),
        errors: mine.reduce((sum, r) => sum + r.errors, 0),
      };
    };
    const [offSummary, onSummary] = [summarize('off'), summarize('on')];
    // Every request to a traced instance could start a trace: sign-up, the check completion, warm-ups and measured ones.
    const perWarmupRun = level.concurrency * (level.perStream + level.warmupPerStream);
    const onRequests =
      processPairs * (2 + warmupRuns * perWarmupRun) + runs.filter((r) => r.condition === 'on').reduce((sum, r) => sum + r.requests + level.concurrency * level.warmupPerStream, 0);
    return {
      name,
      fake: fakePacing,
      level,
      staggerMs,
      order,
      warmupRuns,
      processPairs,
      runs,
      off: offSummary,
      on: onSummary,
      throughputRatio: round(median(pairRatios), 3),
      meanThroughputRatio: ratio(onSummary.tokensPerSec, offSummary.tokensPerSec),
      pairRatios,
      addedTtftMs: { p50: round(onSummary.ttftP50Ms - offSummary.ttftP50Ms), p99: round(onSummary.ttftP99Ms - offSummary.ttftP99Ms) },
      addedCpuMsPer1kTokens: round(onSummary.parleyCpuMsPer1kTokens - offSummary.parleyCpuMsPer1kTokens, 3),
      spans: {
        exports: sinkAfter.exports - sinkBefore.exports,
        spans: sinkAfter.spans - sinkBefore.spans,
        traces: sinkAfter.traces - sinkBefore.traces,
        requestsToTracedInstance: onRequests,
        bytes: sinkAfter.bytes - sinkBefore.bytes,
      },
    };
  } finally {
    await stopService(fake.service);
  }
}

/** Telemetry on vs off, paced (latency) and unpaced (CPU) setups; `plan.variant` names what *on* runs. */
export async function telemetryCost(plan) {
  const variantName = plan.variant ?? 'telemetry';
  const variant = TELEMETRY_VARIANTS[variantName];
  const sink = await startOtlpSink();
  try {
    const pacedCycleMs = PACED_FAKE.ttftMs + PACED_FAKE.tokens * PACED_FAKE.tokenMs;
    return {
      variant: variantName,
      onLabel: variant.label,
      scrapeIntervalMs: 1000,
      setups: [
        await telemetrySetup('paced', PACED_FAKE, plan.paced, pacedCycleMs, sink, variant, plan.baselineMain),
        await telemetrySetup('unpaced', UNPACED_FAKE, plan.unpaced, 0, sink, variant, plan.baselineMain),
      ],
    };
  } finally {
    await sink.close();
  }
}

