import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** Token timing of one stream. */
export interface Pacing {
  ttftMs: number;
  tokenMs: number;
}

/** Waits `ms` unless the signal aborts first (the timer is then cleared); false when aborted. */
export async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms <= 0) return true;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes pre-built frames, one write per token: the first ttftMs after the call, then one
 * every tokenMs. Resolves true when all were written, false as soon as the client goes
 * away, leaving no timer or listener behind. `flushLast` waits until the last frame
 * reached the socket, so a caller that destroys the connection next does not lose it.
 *
 * Callbacks rather than an await per token, because this loop runs for every token of
 * every stream of a benchmark; token times are computed from the start so that event
 * loop lag does not add up into a slower rate than configured.
 */
export function writePaced(
  res: ServerResponse,
  frames: readonly string[],
  pacing: Pacing,
  signal: AbortSignal,
  flushLast = false,
): Promise<boolean> {
  if (frames.length === 0) return pause(pacing.ttftMs, signal);
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const start = performance.now();
    let next = 0;
    let timer: NodeJS.Timeout | undefined;
    let isSettled = false;

    const settle = (isComplete: boolean): void => {
      if (isSettled) return;
      isSettled = true;
      if (timer !== undefined) clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      res.off('drain', step);
      resolve(isComplete && !signal.aborted);
    };
    const onAbort = (): void => settle(false);

    function step(): void {
      timer = undefined;
      while (next < frames.length) {
        if (signal.aborted) return settle(false);
        const wait = start + pacing.ttftMs + next * pacing.tokenMs - performance.now();
        if (wait > 0) {
          timer = setTimeout(step, wait);
          return;
        }
        const frame = frames[next++] as string;
        if (flushLast && next === frames.length) {
          res.write(frame, (error) => settle(!error));
          return;
        }
        // Respect backpressure so a huge answer to a slow reader does not pile up in memory.
        if (!res.write(frame)) {
          res.once('drain', step);
          return;
        }
      }
      settle(true);
    }

    signal.addEventListener('abort', onAbort, { once: true });
    step();
  });
}
