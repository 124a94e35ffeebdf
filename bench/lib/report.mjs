// Markdown tables of the results, ready to paste into a README.
import { NOISE_LIMIT_PERCENT } from './quiet.mjs';

/** Number with fixed decimals, or '–' when missing. */
function fmt(value, digits = 1) {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

/** Signed number with fixed decimals. */
function signed(value, digits = 1) {
  return value === null || !Number.isFinite(value) ? '–' : `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;
}

/** A markdown table from a header row and body rows. */
function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Measurements that lost requests, listed under a table so no error goes unseen. */
function errorNotes(measurements) {
  const bad = measurements.filter((m) => m.errors > 0 || m.timedOut);
  return bad.map((m) => `\n> ${m.target} x${m.concurrency}: ${m.errors} failed request(s)${m.timedOut ? ', hit the time limit' : ''}: ${m.errorMessages.join(' | ')}`).join('');
}

/** Columns of a paced table, one row per concurrency level. */
function pacedTable(levels) {
  const rows = levels.map((l) => [
    l.concurrency,
    l.parley.requests,
    fmt(l.direct.ttftMs.p50),
    fmt(l.parley.ttftMs.p50),
    signed(l.addedTtftMs.p50),
    fmt(l.direct.ttftMs.p99),
    fmt(l.parley.ttftMs.p99),
    signed(l.addedTtftMs.p99),
    fmt(l.direct.tokensPerSec, 0),
    fmt(l.parley.tokensPerSec, 0),
    fmt(l.throughputRatio, 3),
    fmt(l.parley.cpuPercentOfCore.parley, 0),
  ]);
  const header = [
    'streams',
    'requests',
    'TTFT p50 direct (ms)',
    'TTFT p50 Parley (ms)',
    'added p50 (ms)',
    'TTFT p99 direct (ms)',
    'TTFT p99 Parley (ms)',
    'added p99 (ms)',
    'tok/s direct',
    'tok/s Parley',
    'Parley/direct',
    'Parley CPU (% of a core)',
  ];
  const measurements = levels.flatMap((l) => [l.direct, l.parley]);
  return table(header, rows) + errorNotes(measurements) + noiseNote(measurements);
}

/** A note naming the measurements during which other work on the machine took CPU. */
function noiseNote(measurements) {
  const noisy = measurements.filter((m) => m.otherCpuPercent > NOISE_LIMIT_PERCENT);
  if (noisy.length === 0) return '';
  const list = noisy.map((m) => `${m.target} x${m.concurrency} (${m.otherCpuPercent} %)`).join(', ');
  return `\n\n> Disturbed: other processes on the machine used more than ${NOISE_LIMIT_PERCENT} % of a core during ${list}; rerun on a quiet machine before trusting these rows.`;
}

/** Regime 1 tables (spread starts, then bursts) plus the issue targets. */
export function pacedReport(paced, targets) {
  const { ttftMs, tokenMs, tokens } = paced.fake;
  const checks = targets.map((t) => `- ${t.pass ? 'PASS' : 'MISS'}: ${t.label}: ${t.actual}`).join('\n');
  return [
    `### Paced streams (fake model: ${ttftMs} ms to first token, ${tokenMs} ms per token, ${tokens} tokens)`,
    '',
    `Stream starts spread over one answer (${paced.staggerMs} ms), as real users arrive:`,
    '',
    pacedTable(paced.levels),
    '',
    checks,
    '',
    'Burst: every stream starts in the same instant (worst case; the queue at start-up shows in TTFT):',
    '',
    pacedTable(paced.burstLevels),
  ].join('\n');
}

/** Regime 2 table. */
export function unpacedReport(unpaced) {
  const measurements = unpaced.levels.flatMap((l) => [l.direct, l.parley, l.portkey]);
  const rows = unpaced.levels.map((l) => [
    l.concurrency,
    fmt(l.direct.tokensPerSec, 0),
    fmt(l.parley.tokensPerSec, 0),
    fmt(l.portkey.tokensPerSec, 0),
    fmt(l.parleyVsDirect, 2),
    fmt(l.parleyVsPortkey, 2),
    fmt(l.gatewayCpuSecondsPer1kTokens.parley * 1000, 1),
    fmt(l.gatewayCpuSecondsPer1kTokens.portkey * 1000, 1),
  ]);
  const header = [
    'streams',
    'tok/s direct',
    'tok/s Parley',
    'tok/s Portkey',
    'Parley/direct',
    'Parley/Portkey',
    'Parley CPU ms / 1k tok',
    'Portkey CPU ms / 1k tok',
  ];
  return [
    `### Unpaced streams (fake model: no delays, ${unpaced.fake.tokens} tokens per answer)`,
    '',
    table(header, rows) + errorNotes(measurements) + noiseNote(measurements),
  ].join('\n');
}

/** Regime 3 table. */
export function processReport(processFacts, paced) {
  const { freshDatabase, existingDatabase } = processFacts.spawnToReadyMs;
  const last = paced.levels.at(-1)?.concurrency;
  const rows = [
    ['idle RSS after start-up (median of runs)', `${fmt(processFacts.idleRssMiB.median)} MiB`],
    ['idle RSS of the paced-run instance, before load', `${fmt(paced.parleyMemoryMiB.idleRss)} MiB`],
    [`RSS after the ${last}-stream paced run (peak)`, `${fmt(paced.parleyMemoryMiB.rssAfterLastLevel)} MiB (${fmt(paced.parleyMemoryMiB.peakRss)} MiB)`],
    [`spawn to /ready 200, fresh database with migrations (median of ${processFacts.runs})`, `${fmt(freshDatabase.median, 0)} ms`],
    [`spawn to /ready 200, existing database (median of ${processFacts.runs})`, `${fmt(existingDatabase.median, 0)} ms`],
  ];
  return ['### Parley process', '', table(['fact', 'value'], rows)].join('\n');
}

/** One line about the machine, printed above the tables. */
export function machineLine(m) {
  const load = m.loadAverageAtStart.join(' ');
  return `Node ${m.node}, ${m.cpuModel}, ${m.nproc} cores, ${m.memoryGiB} GiB; load average at start ${load}; Parley ${m.parleyCommit ?? '?'}; Portkey gateway ${m.portkeyGateway}; undici ${m.undici}.`;
}
