// Waiting for a quiet machine: on a shared box other work (test suites, builds) takes CPU
// from the services under test and skews every figure.
import { setTimeout as sleep } from 'node:timers/promises';
import { machineBusySeconds } from './procfs.mjs';

/** Share of one core that other processes may use before a measurement counts as disturbed. */
export const NOISE_LIMIT_PERCENT = 15;

let patienceMs = 0;

/** Sets how long each measurement may wait for the machine to calm down (0: never wait). */
export function setPatience(seconds) {
  patienceMs = seconds * 1000;
}

/** Sets the patience from the --wait-quiet option's text; a bad value ends the process with a message. */
export function setPatienceFromOption(text) {
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 600) {
    console.error(`--wait-quiet takes seconds, 0 to 600; got '${text}'`);
    process.exit(2);
  }
  setPatience(seconds);
}

/** True when a measurement may be retried (the runner was asked to wait for quiet). */
export function isPatient() {
  return patienceMs > 0;
}

/**
 * Waits until the machine was less than NOISE_LIMIT_PERCENT busy over two consecutive
 * half-second windows (the bench's own services are idle between measurements), or until
 * the patience runs out. Resolves with the milliseconds waited.
 */
export async function waitForQuiet() {
  if (patienceMs <= 0) return 0;
  const started = performance.now();
  let calm = 0;
  while (performance.now() - started < patienceMs) {
    const before = machineBusySeconds();
    await sleep(500);
    const percent = (machineBusySeconds() - before) * 200;
    calm = percent < NOISE_LIMIT_PERCENT ? calm + 1 : 0;
    if (calm >= 2) break;
  }
  return performance.now() - started;
}
