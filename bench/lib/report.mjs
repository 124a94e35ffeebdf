// Markdown tables of the results, ready to paste into a README.
import { NOISE_LIMIT_PERCENT } from './quiet.mjs';
import { ratio } from './stats.mjs';

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
  return table(header, rows) + errorNotes(measurements) + noiseNote(measurements) + repeatNotes(levels);
}

/** Levels measured several times: the added p99 of every run (the table shows the median one). */
function repeatNotes(levels) {
  const repeated = levels.filter((l) => l.addedP99OfRepeats);
  return repeated
    .map((l) => `\n\n> ${l.concurrency} streams, measured ${l.addedP99OfRepeats.length} times: added p99 ${l.addedP99OfRepeats.map((v) => signed(v)).join(', ')} ms; the row is the median run.`)
    .join('');
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

/** Capacity part 1: memory and liveness of held slow streams, one row per level. */
function heldStreamsReport(streams) {
  const { ttftMs, tokenMs, tokens } = streams.fake;
  const { idle } = streams;
  const rows = streams.levels.map((l) => [
    l.streams,
    `${l.alive} / ${l.failed}`,
    fmt(l.openSeconds),
    fmt(l.rssMiB, 0),
    fmt(l.kbPerStream),
    fmt(l.afterGc.rssKbPerStream),
    fmt(l.afterGc.heapKbPerStream),
    fmt(l.heapUsedMiB, 0),
    fmt(l.parleyCpuPercent, 0),
    fmt(l.eventLoopLagP99Ms),
    fmt(l.probeTtftMs.median, 0),
    l.openFiles,
  ]);
  const header = [
    'streams',
    'alive / failed',
    'opened in (s)',
    'RSS (MiB)',
    'RSS KB / stream',
    'after GC: RSS KB / stream',
    'after GC: heap KB / stream',
    'heap used (MiB)',
    'Parley CPU (% of a core)',
    'event-loop lag p99 (ms)',
    'probe TTFT (ms)',
    'open files',
  ];
  const notes = [];
  if (streams.fdCapped) notes.push(`> ${streams.fdCapped.wanted} streams not attempted: ${streams.fdCapped.reason}; the largest level that fits was measured instead.`);
  if (streams.stoppedBecause) notes.push(`> Stopped: ${streams.stoppedBecause}`);
  const left = streams.afterClientsLeft;
  notes.push(`> After the clients disconnected, \`parley_active_streams\` was ${left.activeStreams} within ${fmt(left.ms / 1000)} s.`);
  const base = streams.baseline;
  if (base) {
    notes.push(
      `> Baseline, same streams held the same way by a bare relay (node:http in, undici ${streams.upstream} out; no auth, database, log or metrics): ` +
        `${base.alive} of ${base.streams} alive, ${fmt(base.kbPerStream)} KB of RSS per stream, ${fmt(base.afterGc.rssKbPerStream)} after a forced GC, ${fmt(base.afterGc.heapKbPerStream)} KB of heap.`,
    );
  }
  const top = streams.levels.at(-1);
  if (top) notes.push(`> At ${top.streams} streams the load generator used ${fmt(top.clientRssMiB, 0)} MiB and the fake model ${fmt(top.fakeRssMiB, 0)} MiB of RSS.`);
  return [
    `#### Concurrent slow streams, ${streams.upstream} to the model (fake model: ${ttftMs} ms to first token, then one token every ${tokenMs} ms, ${tokens} tokens; one Parley on SQLite)`,
    '',
    `Idle Parley: RSS ${fmt(idle.rssMiB)} MiB, ${fmt(idle.afterGc.rssMiB)} MiB after a forced full GC (heap ${fmt(idle.afterGc.heapUsedMiB)} MiB); ` +
      `open-file limit ${streams.fdLimit}. Per-stream figures are the growth over that collected idle baseline, divided by the streams held. ` +
      `*alive*: got a token within the last ${streams.windowMs / 1000} s; *probe TTFT*: one more request while the streams are held (median of the probes); ` +
      `*event-loop lag*: p99 of prom-client's delay histogram (20 ms resolution) over the ${streams.windowMs / 1000} s hold window (idle: ${fmt(idle.eventLoopLagP99Ms)} ms).`,
    '',
    table(header, rows),
    '',
    notes.join('\n>\n'),
  ].join('\n');
}

/** Capacity part 2: request rate and latency of authenticated reads against /health. */
function readsReport(reads) {
  if (reads.skipped) return `#### Authenticated API reads on PostgreSQL\n\nSkipped: ${reads.skipped}`;
  const health = new Map(reads.rows.filter((r) => r.name === 'health').map((r) => [r.concurrency, r.requestsPerSec]));
  const rows = reads.rows.map((r) => [
    r.concurrency,
    r.name === 'health' ? '`GET /health`' : `\`GET /api/v1/chats/\` ${r.name.replace('chats ', '')}`,
    fmt(r.requestsPerSec, 0),
    fmt(ratio(r.requestsPerSec, health.get(r.concurrency)), 3),
    fmt(r.latencyMs.p50, 2),
    fmt(r.latencyMs.p99, 2),
    r.errors,
    fmt(r.parleyCpuPercent, 0),
    fmt(r.machineCpuPercent, 0),
  ]);
  const header = ['clients', 'request', 'req/s', 'vs /health', 'p50 (ms)', 'p99 (ms)', 'errors', 'Parley CPU (% of a core)', 'machine CPU (% of a core)'];
  return [
    '#### Authenticated API reads on PostgreSQL',
    '',
    `PostgreSQL ${reads.postgres} on the same machine, pool of ${reads.poolSize}; one user with ${reads.chats} chats, first page; ` +
      `closed-loop keep-alive clients, ${reads.durationMs / 1000} s each after a ${reads.warmupMs / 1000} s warm-up. ` +
      'Machine CPU counts every process (PostgreSQL and the load generator too); 200 % is both cores.',
    '',
    table(header, rows) + reads.rows.filter((r) => r.errors > 0).map((r) => `\n> ${r.name} x${r.concurrency}: ${r.errorMessages.join(' | ')}`).join(''),
  ].join('\n');
}

/** Capacity part 3: throughput, TTFT and CPU with telemetry off and on. */
function telemetryReport(telemetry) {
  const rows = telemetry.setups.map((s) => [
    `${s.name}, ${s.level.concurrency} streams`,
    fmt(s.off.tokensPerSec, 0),
    fmt(s.on.tokensPerSec, 0),
    fmt(s.throughputRatio, 3),
    `${fmt(s.off.ttftP50Ms)} / ${fmt(s.on.ttftP50Ms)}`,
    signed(s.addedTtftMs.p50),
    `${fmt(s.off.ttftP99Ms)} / ${fmt(s.on.ttftP99Ms)}`,
    signed(s.addedTtftMs.p99),
    `${fmt(s.off.parleyCpuMsPer1kTokens)} / ${fmt(s.on.parleyCpuMsPer1kTokens)}`,
    `${fmt(s.off.dbQueriesPerRequest, 2)} / ${fmt(s.on.dbQueriesPerRequest, 2)}`,
    `${s.spans.spans} spans, ${s.spans.traces} traces / ${s.spans.requestsToTracedInstance} requests`,
  ]);
  const header = [
    'setup',
    'tok/s off',
    'tok/s on',
    'on/off',
    'TTFT p50 off / on (ms)',
    'added p50 (ms)',
    'TTFT p99 off / on (ms)',
    'added p99 (ms)',
    'Parley CPU ms / 1k tok off / on',
    'DB queries / request off / on',
    'exported (on)',
  ];
  const runs = telemetry.setups.map(
    (s) =>
      `> ${s.name} runs in order${s.processPairs > 1 ? ` (${s.processPairs} pairs of fresh processes)` : ''}: ${s.runs.map((r) => `${r.condition} ${fmt(r.tokensPerSec, 0)} tok/s`).join(', ')}` +
      (s.pairRatios ? `; on/off of each pair: ${s.pairRatios.map((r) => fmt(r, 3)).join(', ')} (ratio of the means ${fmt(s.meanThroughputRatio, 3)})` : ''),
  );
  const measurements = telemetry.setups.flatMap((s) => s.runs.map((r) => ({ ...r, target: `${s.name} ${r.condition}` })));
  return [
    '#### Telemetry on vs off',
    '',
    (telemetry.variant === 'telemetry' ? '' : `**Variant \`--variant=${telemetry.variant}\`, not the target's setting.** `) +
      `*off*: ENABLE_OTEL=false, /metrics not scraped. *on*: ${telemetry.onLabel}. Two instances side by side on one fake model; figures are means over the runs of each condition, ` +
      'except on/off: the median of the on/off ratios of neighbouring runs, over every pair of processes.',
    '',
    table(header, rows) + errorNotes(measurements) + noiseNote(measurements),
    '',
    runs.join('\n>\n'),
  ].join('\n');
}

/** Capacity regime: the three parts that ran, then the issue targets. */
export function capacityReport(capacity) {
  const parts = ['### Capacity of one instance', ''];
  for (const streams of capacity.streams ?? []) parts.push(heldStreamsReport(streams), '');
  if (capacity.reads) parts.push(readsReport(capacity.reads), '');
  if (capacity.telemetry) parts.push(telemetryReport(capacity.telemetry), '');
  parts.push(capacity.targets.map((t) => `- ${t.pass ? 'PASS' : 'MISS'}: ${t.label}: ${t.actual}`).join('\n'));
  return parts.join('\n');
}
