// Figures per phase, and the markdown tables the test prints and writes to results.md.
import type { OpRecord } from './client.js';
import type { RelayRecord } from './relay-client.js';
import type { StreamRecord } from './stream-client.js';

/** performance.now() bounds of a dependency's outage inside a phase. */
export interface Window {
  from: number;
  to: number;
}

/** What one phase of the run measured. */
export interface PhaseSummary {
  name: string;
  label: string;
  seconds: number;
  /** Requests, saved streams and relay-only streams of the load (poisoned streams apart). */
  requests: number;
  /** Requests answered 2xx; streams ended with exactly the model's answer. */
  successes: number;
  /** Attempts beyond the first (the SDK's retries), and relay streams asked again after a cut. */
  retries: number;
  /** Final outcome of each failure: a status, `timeout`/`connection`/`body`, or what went wrong with a stream. */
  failures: Record<string, number>;
  saved: { total: number; exact: number; resumed: number; takenOver: number; takenOverExact: number; modes: string[] };
  relay: { total: number; exact: number; cut: number };
  /** Load started while the dependency was down. */
  duringOutage?: { requests: number; successes: number; relay: number; relayExact: number; uploads: number; uploadsOk: number };
  /** Instances that exited without being stopped by the test. */
  crashes: number;
  /** Filled in by the read-back: acknowledged writes lost, saved answers not exactly the model's. */
  lost?: number;
  inexact?: number;
  p50Ms: number;
  p99Ms: number;
  /** From the dependency's return: every instance /ready, and every instance serving fully (probe.ts). */
  readyMs?: number;
  fullServiceMs?: number;
  recovery: string;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const isLoad = (op: OpRecord) => op.kind !== 'verify' && op.kind !== 'signup' && !op.kind.startsWith('poisoned.');
const count = (record: Record<string, number>, key: string) => (record[key] = (record[key] ?? 0) + 1);

/** Why a stream saved into a chat failed, as a failure key. */
function streamFailure(stream: StreamRecord): string {
  if (!stream.isStarted) return String(stream.startOutcome ?? 'none');
  if (stream.error) return 'error event';
  return stream.problem?.startsWith('no [DONE]') ? 'unfinished stream' : 'inexact stream';
}

function relayFailure(relay: RelayRecord): string {
  if (relay.error) return 'error event';
  if (relay.refusal !== undefined) return String(relay.refusal);
  return relay.text === relay.expected ? 'relay cut 3 times' : 'inexact stream';
}

/** Client-visible figures of one phase (sign-ups, read-backs and poisoned streams are not load). */
export function summarize(
  name: string,
  label: string,
  allOps: readonly OpRecord[],
  allStreams: readonly StreamRecord[],
  allRelays: readonly RelayRecord[],
  seconds: number,
  outage?: Window,
): PhaseSummary {
  const ops = allOps.filter((op) => op.phase === name && isLoad(op));
  const requests = ops.filter((op) => op.kind !== 'completion' && op.kind !== 'relay');
  const starts = ops.filter((op) => op.kind === 'completion');
  const streams = allStreams.filter((s) => s.phase === name);
  const relays = allRelays.filter((r) => r.phase === name);
  const failures: Record<string, number> = {};
  for (const op of requests.filter((o) => !o.ok)) count(failures, String(op.attempts.at(-1)?.outcome ?? 'none'));
  for (const stream of streams.filter((s) => !s.ok)) count(failures, streamFailure(stream));
  for (const relay of relays.filter((r) => !r.ok)) count(failures, relayFailure(relay));
  const latencies = [...requests, ...starts].map((op) => op.ms).sort((a, b) => a - b);
  const takenOver = streams.filter((s) => s.isStarted && s.isTakenOver);
  const inWindow = (startedAt: number) => outage !== undefined && startedAt >= outage.from && startedAt <= outage.to;
  const windowRequests = requests.filter((op) => inWindow(op.startedAt));
  const windowStreams = streams.filter((s) => inWindow(s.startedAt));
  const windowRelays = relays.filter((r) => inWindow(r.startedAt));
  return {
    name,
    label,
    seconds,
    requests: requests.length + streams.length + relays.length,
    successes: requests.filter((op) => op.ok).length + streams.filter((s) => s.ok).length + relays.filter((r) => r.ok).length,
    retries: ops.reduce((sum, op) => sum + op.attempts.length - 1, 0),
    failures,
    saved: {
      total: streams.length,
      exact: streams.filter((s) => s.ok).length,
      resumed: streams.filter((s) => s.resumes > 0).length,
      takenOver: takenOver.length,
      takenOverExact: takenOver.filter((s) => s.ok).length,
      modes: [...new Set(takenOver.flatMap((s) => s.takeoverModes))],
    },
    relay: { total: relays.length, exact: relays.filter((r) => r.ok).length, cut: relays.reduce((sum, r) => sum + r.cuts, 0) },
    ...(outage
      ? {
          duringOutage: {
            requests: windowRequests.length + windowStreams.length + windowRelays.length,
            successes: windowRequests.filter((op) => op.ok).length + windowStreams.filter((s) => s.ok).length + windowRelays.filter((r) => r.ok).length,
            relay: windowRelays.length,
            relayExact: windowRelays.filter((r) => r.ok).length,
            uploads: windowRequests.filter((op) => op.kind === 'file.upload').length,
            uploadsOk: windowRequests.filter((op) => op.kind === 'file.upload' && op.ok).length,
          },
        }
      : {}),
    crashes: 0,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    recovery: '',
  };
}

const ms = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`);

/** Seconds with one decimal, e.g. `1.4 s`; `never` for Infinity. */
export const seconds = (valueMs: number) => (Number.isFinite(valueMs) ? `${(valueMs / 1000).toFixed(1)} s` : 'never');

/** A share as a percentage: `100 %`, else two decimals. */
export const percent = (part: number, whole: number) => (whole === 0 ? '–' : `${((100 * part) / whole).toFixed(part === whole ? 0 : 2)} %`);

/** The figures as a markdown table, one row per phase. */
export function markdownTable(phases: readonly PhaseSummary[]): string {
  const header =
    '| phase | duration | requests and streams | client-visible success | retries | failures | saved streams (exact) | resumed | taken over (exact) | relay streams (exact) | relay cut, asked again | lost writes | inexact saved answers | crashes | p50 | p99 | recovery |\n' +
    '| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |';
  const rows = phases.map((p) => {
    const failures = Object.entries(p.failures).map(([status, n]) => `${status}: ${n}`).join(', ') || 'none';
    const modes = p.saved.modes.length > 0 ? ` ${p.saved.modes.join('/')}` : '';
    const unknown = (n: number | undefined) => (n === undefined ? '?' : String(n));
    return (
      `| ${p.label} | ${p.seconds.toFixed(0)} s | ${p.requests} | ${p.successes} (${percent(p.successes, p.requests)}) | ${p.retries} | ${failures} ` +
      `| ${p.saved.total} (${p.saved.exact}) | ${p.saved.resumed} | ${p.saved.takenOver} (${p.saved.takenOverExact})${modes} | ${p.relay.total} (${p.relay.exact}) | ${p.relay.cut} ` +
      `| ${unknown(p.lost)} | ${unknown(p.inexact)} | ${p.crashes} | ${ms(p.p50Ms)} | ${ms(p.p99Ms)} | ${p.recovery} |`
    );
  });
  return [header, ...rows].join('\n');
}

/** What results.md says about how the figures were made. */
export interface RunSettings {
  virtualUsers: number;
  apiClients: number;
  answerTokens: number;
  tokenMs: number;
  shutdownTimeoutS: number;
  leaseTimeoutS: number;
  cpus: number;
  seconds: number;
  isStrict: boolean;
}

/** How to read the tables. */
export function legend(run: RunSettings): string {
  return (
    `Load: ${run.virtualUsers} virtual users (sign-ins, chat creations, renames and reads, file uploads, answers streamed into chats ` +
    `and relay-only answers) and ${run.apiClients} API clients (relay-only answers) through nginx. Clients retry as the official ` +
    '`openai` SDK does (two retries, on connection errors, timeouts, 408, 409, 429 and 5xx, after `Retry-After` or 0.5 s then 1 s); ' +
    'the retries column counts them. Streams saved into chats are resumed with `Last-Event-ID` after a cut and follow takeovers ' +
    '(`regenerate`: the answer starts again); relay-only streams are read with the SDK and asked again after a cut (at most twice). ' +
    `Client-visible success: requests answered 2xx and streams that ended with exactly the model's answer (${run.answerTokens} tokens at ` +
    `${run.tokenMs} ms). Lost writes: acknowledged sessions, chats, titles, files, questions and answers that cannot be read back; ` +
    "inexact saved answers: saved, but not exactly the model's answer. Crashes: instances that exited without being stopped by the " +
    'test (they are started again 1 s later). Recovery: from the dependency\'s return until every instance answers /ready, and until ' +
    'every instance, asked directly, signs in, saves a chat, streams into it and relay-only, and stores a file. ' +
    `GENERATION_LEASE_TIMEOUT=${run.leaseTimeoutS}, SHUTDOWN_TIMEOUT=${run.shutdownTimeoutS}, default takeover mode, an OpenAI-type ` +
    `upstream (it does not continue a trailing assistant message); run time ${run.seconds.toFixed(0)} s on ${run.cpus} CPUs` +
    `${run.isStrict ? '' : ', PARLEY_CLUSTER_STRICT=0 (timed targets reported, not asserted)'}.`
  );
}
