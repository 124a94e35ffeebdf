// Figures per phase, and the markdown table the test prints and writes to results.md.
import type { OpRecord } from './client.js';
import type { StreamRecord } from './stream-client.js';

/** What one phase of the run measured. */
export interface PhaseSummary {
  name: string;
  label: string;
  seconds: number;
  /** Non-streaming requests, and the starts of streamed completions. */
  requests: number;
  successes: number;
  /** Attempts beyond the first (after a connection error or a 503 with Retry-After). */
  retries: number;
  /** Final outcome of each failed request: status or `timeout`/`connection`/`body`, with counts. */
  failures: Record<string, number>;
  streams: number;
  streamsOk: number;
  streamsResumed: number;
  streamsTakenOver: number;
  p50Ms: number;
  p99Ms: number;
  recovery: string;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The summary of one phase's requests and streams (sign-ups and read-backs are not load). */
export function summarize(
  name: string,
  label: string,
  ops: readonly OpRecord[],
  streams: readonly StreamRecord[],
  seconds: number,
  recovery: string,
): PhaseSummary {
  const load = ops.filter((op) => op.phase === name && op.kind !== 'verify' && op.kind !== 'signup');
  const failures: Record<string, number> = {};
  for (const op of load.filter((o) => !o.ok)) {
    const key = String(op.attempts.at(-1)?.outcome ?? 'none');
    failures[key] = (failures[key] ?? 0) + 1;
  }
  // A stream refused at its start is a failed request (`completion`), not a stream.
  const phaseStreams = streams.filter((stream) => stream.phase === name && stream.isStarted);
  const latencies = load.map((op) => op.ms).sort((a, b) => a - b);
  return {
    name,
    label,
    seconds,
    requests: load.length,
    successes: load.filter((op) => op.ok).length,
    retries: load.reduce((sum, op) => sum + op.attempts.length - 1, 0),
    failures,
    streams: phaseStreams.length,
    streamsOk: phaseStreams.filter((stream) => stream.ok).length,
    streamsResumed: phaseStreams.filter((stream) => stream.resumes > 0).length,
    streamsTakenOver: phaseStreams.filter((stream) => stream.isTakenOver).length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    recovery,
  };
}

const ms = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`);

/** Seconds with one decimal, e.g. `1.4 s`. */
export const seconds = (valueMs: number) => `${(valueMs / 1000).toFixed(1)} s`;

/** The figures as a markdown table, one row per phase. */
export function markdownTable(phases: readonly PhaseSummary[]): string {
  const header =
    '| phase | duration | requests | successes | retries | failures by status | streams (exact) | resumed | taken over | p50 | p99 | recovery |\n' +
    '| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |';
  const rows = phases.map((p) => {
    const rate = p.requests ? ((100 * p.successes) / p.requests).toFixed(p.successes === p.requests ? 0 : 2) : '100';
    const failures = Object.entries(p.failures).map(([status, count]) => `${status}: ${count}`).join(', ') || 'none';
    return `| ${p.label} | ${p.seconds.toFixed(0)} s | ${p.requests} | ${p.successes} (${rate} %) | ${p.retries} | ${failures} | ${p.streams} (${p.streamsOk}) | ${p.streamsResumed} | ${p.streamsTakenOver} | ${ms(p.p50Ms)} | ${ms(p.p99Ms)} | ${p.recovery} |`;
  });
  return [header, ...rows].join('\n');
}

/** What results.md says about how the figures were made. */
export interface RunSettings {
  virtualUsers: number;
  answerTokens: number;
  tokenMs: number;
  shutdownTimeoutS: number;
  leaseTimeoutS: number;
  cpus: number;
  seconds: number;
}

/** results.md: the table, then how to read it. */
export function resultsMarkdown(table: string, readBack: string, run: RunSettings): string {
  return (
    `${table}\n\n` +
    `Requests: sign-ins, chat creations, renames and reads, file uploads, and the starts of streamed completions, ` +
    `by ${run.virtualUsers} virtual users through nginx; a request is retried only after a connection error or a 503 with ` +
    `Retry-After (the retries column), and the latencies include those retries. Streams: answers of ${run.answerTokens} tokens ` +
    `at ${run.tokenMs} ms saved into chats, "exact" when the text assembled across resumes equals the model's answer. ` +
    `${readBack} GENERATION_LEASE_TIMEOUT=${run.leaseTimeoutS}, SHUTDOWN_TIMEOUT=${run.shutdownTimeoutS}; ` +
    `run time ${run.seconds.toFixed(0)} s on ${run.cpus} CPUs.\n`
  );
}
