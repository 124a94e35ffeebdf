#!/usr/bin/env node
// `node bench/capacity.mjs [--quick]`: runs only the capacity regime (held streams, API
// reads on PostgreSQL, telemetry cost). Progress goes to stderr, the report (markdown) to
// stdout, every figure to bench/results/capacity.json (capacity-quick.json for --quick).
// --only=streams,reads,telemetry runs only the parts named (figures then go to capacity[-quick]-partial.json).
// --variant=NAME: what the telemetry part's *on* instance runs: telemetry (the default: the target's
// setting), control (untraced: the method's spread), async-context or sampler-off (parts of the cost),
// or baseline (this build against --baseline=DIR, a checkout with its own build and node_modules,
// such as `git worktree add DIR <ref>`: what a change costs the relay).
// --wait-quiet=SECONDS: each telemetry measurement waits up to that long for other work on
// the machine to stop, and a disturbed one is taken again (twice at most), as in run.mjs.
// Needs a build (npm run build) and bench/node_modules (npm --prefix bench ci).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CAPACITY_PLANS, capacityRegime } from './lib/capacity.mjs';
import { TELEMETRY_VARIANTS } from './lib/capacity-telemetry.mjs';
import { installCleanupHandlers, stopAll } from './lib/procs.mjs';
import { machineFacts } from './lib/procfs.mjs';
import { setPatienceFromOption } from './lib/quiet.mjs';
import { capacityReport } from './lib/report.mjs';
import { ROOT } from './lib/services.mjs';

async function main() {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, variant: { type: 'string', default: 'telemetry' }, baseline: { type: 'string' }, only: { type: 'string' }, 'wait-quiet': { type: 'string', default: '0' } },
  });
  setPatienceFromOption(values['wait-quiet']);
  const mode = values.quick ? 'quick' : 'full';
  const plan = { ...CAPACITY_PLANS[mode] };
  if (!Object.hasOwn(TELEMETRY_VARIANTS, values.variant)) {
    throw new Error(`--variant must be one of ${Object.keys(TELEMETRY_VARIANTS).join(', ')}, not '${values.variant}'`);
  }
  if (values.variant === 'baseline' && !values.baseline) throw new Error('--variant=baseline needs --baseline=DIR, a checkout whose packages/server/dist is built');
  const baselineMain = values.baseline ? path.resolve(values.baseline, 'packages/server/dist/main.js') : undefined;
  if (plan.telemetry) plan.telemetry = { ...plan.telemetry, variant: values.variant, baselineMain };
  if (values.only) {
    const parts = values.only.split(',');
    for (const part of Object.keys(plan)) if (!parts.includes(part)) delete plan[part];
  }
  installCleanupHandlers();
  const machine = machineFacts(ROOT, {});
  if (machine.loadAverageAtStart[0] > 0.5) {
    console.error(`warning: load average ${machine.loadAverageAtStart[0]} at start; other work on the machine skews the figures`);
  }
  const started = performance.now();
  try {
    const capacity = await capacityRegime(plan);
    const results = { mode, machine, durationSeconds: Math.round((performance.now() - started) / 1000), capacity };
    const dir = path.join(import.meta.dirname, 'results');
    // A partial run must not overwrite the figures of a whole one.
    const file = path.join(dir, `capacity${mode === 'full' ? '' : '-quick'}${values.only ? '-partial' : ''}.json`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    const m = machine;
    console.log(`## Parley capacity (${mode})\n`);
    console.log(`Node ${m.node}, ${m.cpuModel}, ${m.nproc} cores, ${m.memoryGiB} GiB; load average at start ${m.loadAverageAtStart.join(' ')}; Parley ${m.parleyCommit ?? '?'}.\n`);
    console.log(`${capacityReport(capacity)}\n`);
    console.error(`capacity: done in ${results.durationSeconds} s; figures in ${path.relative(process.cwd(), file)}`);
  } finally {
    await stopAll();
  }
}

main().catch((error) => {
  console.error(`capacity bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
