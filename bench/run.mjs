#!/usr/bin/env node
// `npm run bench` (or `node bench/run.mjs [--quick]`): measures Parley's completions relay
// against the fake model server directly and against the Portkey gateway, on 127.0.0.1
// only. Progress goes to stderr; the report (markdown) to stdout; every figure to
// bench/results/latest.json (latest-quick.json for --quick). --cpu-prof makes every
// Parley process write a V8 CPU profile to bench/results/profiles/ (open it in Chrome
// DevTools); the extra work skews the figures of that run. --wait-quiet=SECONDS makes each
// measurement wait up to that long for other work on the machine to stop, and take a
// disturbed measurement again (twice at most).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CAPACITY_PLANS, capacityRegime } from './lib/capacity.mjs';
import { installCleanupHandlers, stopAll } from './lib/procs.mjs';
import { machineFacts } from './lib/procfs.mjs';
import { pacedRegime, processRegime, unpacedRegime } from './lib/regimes.mjs';
import { NOISE_LIMIT_PERCENT, setPatienceFromOption } from './lib/quiet.mjs';
import { capacityReport, machineLine, pacedReport, processReport, unpacedReport } from './lib/report.mjs';
import { ROOT, setParleyNodeArgs } from './lib/services.mjs';

/** Request counts: the full run gives stable percentiles; --quick only proves it all works. */
const PLANS = {
  full: {
    pacedWarmup: { concurrency: 64, perStream: 40 },
    paced: [
      { concurrency: 1, perStream: 60, warmupPerStream: 10 },
      // p99 of the target level: 640 samples, after a warm-up long enough for V8 to settle its heap.
      { concurrency: 16, perStream: 40, warmupPerStream: 4, burst: true, repeats: 3 },
      { concurrency: 64, perStream: 5, warmupPerStream: 1, burst: true },
      { concurrency: 256, perStream: 2, warmupPerStream: 1, burst: true },
    ],
    unpaced: [
      { concurrency: 1, perStream: 100, warmupPerStream: 10 },
      { concurrency: 16, perStream: 20, warmupPerStream: 2 },
      { concurrency: 64, perStream: 8, warmupPerStream: 1 },
    ],
    startupRuns: 3,
  },
  quick: {
    pacedWarmup: { concurrency: 16, perStream: 2 },
    paced: [
      { concurrency: 1, perStream: 4, warmupPerStream: 1 },
      { concurrency: 16, perStream: 1, warmupPerStream: 1, burst: true },
      { concurrency: 256, perStream: 1, warmupPerStream: 1 },
    ],
    unpaced: [
      { concurrency: 1, perStream: 5, warmupPerStream: 1 },
      { concurrency: 16, perStream: 1, warmupPerStream: 1 },
      { concurrency: 64, perStream: 1, warmupPerStream: 1 },
    ],
    startupRuns: 1,
  },
};

/** Issue targets: added p99 TTFT at 16 paced streams, and paced throughput against direct. */
function checkTargets(paced) {
  const at16 = paced.levels.find((l) => l.concurrency === 16);
  const worstRatio = Math.min(...paced.levels.map((l) => l.throughputRatio ?? 0));
  return [
    {
      label: 'added TTFT p99 with 16 streams ≤ 3 ms',
      actual: at16 ? `${at16.addedTtftMs.p99} ms` : 'not measured',
      pass: Boolean(at16) && at16.addedTtftMs.p99 <= 3,
    },
    {
      label: 'relayed throughput ≥ 95% of direct at every paced level',
      actual: `lowest ratio ${worstRatio}`,
      pass: worstRatio >= 0.95,
    },
  ];
}

/** Installed version of a bench dependency. */
function versionOf(name) {
  const file = path.join(import.meta.dirname, 'node_modules', name, 'package.json');
  return JSON.parse(readFileSync(file, 'utf8')).version;
}

async function main() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      'wait-quiet': { type: 'string', default: '0' },
    },
  });
  setPatienceFromOption(values['wait-quiet']);
  const mode = values.quick ? 'quick' : 'full';
  const plan = PLANS[mode];
  installCleanupHandlers();
  if (values['cpu-prof']) {
    const profiles = path.join(import.meta.dirname, 'results', 'profiles');
    mkdirSync(profiles, { recursive: true });
    setParleyNodeArgs(['--cpu-prof', `--cpu-prof-dir=${profiles}`]);
    console.error(`bench: Parley CPU profiles go to ${path.relative(process.cwd(), profiles)}`);
  }
  const machine = machineFacts(ROOT, { portkeyGateway: versionOf('@portkey-ai/gateway'), undici: versionOf('undici') });
  if (machine.loadAverageAtStart[0] > 0.5) {
    console.error(`warning: load average ${machine.loadAverageAtStart[0]} at start; other work on the machine skews the figures`);
  }
  const started = performance.now();
  try {
    console.error(`bench (${mode}): Parley process facts`);
    const processFacts = await processRegime(plan.startupRuns);
    console.error('bench: paced streams');
    const paced = await pacedRegime(plan.paced, plan.pacedWarmup);
    console.error('bench: unpaced streams');
    const unpaced = await unpacedRegime(plan.unpaced);
    console.error('bench: capacity (held streams, API reads on PostgreSQL, telemetry cost)');
    const capacity = await capacityRegime(CAPACITY_PLANS[mode]);
    const targets = checkTargets(paced);
    const all = [...paced.levels, ...paced.burstLevels, ...unpaced.levels].flatMap((l) => [l.direct, l.parley, l.portkey]).filter(Boolean);
    const maxOtherCpuPercent = Math.max(...all.map((m) => m.otherCpuPercent ?? 0));
    const results = {
      mode,
      machine,
      durationSeconds: Math.round((performance.now() - started) / 1000),
      disturbed: maxOtherCpuPercent > NOISE_LIMIT_PERCENT,
      maxOtherCpuPercent,
      targets,
      paced,
      unpaced,
      process: processFacts,
      capacity,
    };

    const dir = path.join(import.meta.dirname, 'results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, mode === 'full' ? 'latest.json' : 'latest-quick.json');
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);

    console.log(`## Parley benchmark (${mode})\n\n${machineLine(machine)}\n`);
    console.log(`${pacedReport(paced, targets)}\n`);
    console.log(`${unpacedReport(unpaced)}\n`);
    console.log(`${processReport(processFacts, paced)}\n`);
    console.log(`${capacityReport(capacity)}\n`);
    console.error(`bench: done in ${results.durationSeconds} s; figures in ${path.relative(process.cwd(), file)}`);
  } finally {
    await stopAll();
  }
}

main().catch((error) => {
  console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
