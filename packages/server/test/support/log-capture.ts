import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { expect } from 'vitest';

/** One JSON log line; its fields depend on the line. */
export type LogLine = Record<string, unknown>;

/** A stream to hand the product's logger (`startTestApp(env, { logTo })`) and the lines it received. */
export interface LogCapture {
  stream: Writable;
  lines: LogLine[];
  /** Everything written so far, as written. */
  raw(): string;
  /**
   * Resolves once every line `logger` was asked to write before this call has arrived: a sentinel
   * logged now comes after them. Assert that something was not logged only after this.
   */
  flushed(logger: Logger): Promise<void>;
}

/** Starts capturing log lines. */
export function captureLog(): LogCapture {
  const lines: LogLine[] = [];
  let raw = '';
  let partial = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const text = chunk.toString();
      raw += text;
      const parts = (partial + text).split('\n');
      partial = parts.pop()!;
      for (const line of parts.filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
      callback();
    },
  });
  return {
    stream,
    lines,
    raw: () => raw,
    async flushed(logger) {
      const sentinel = randomUUID();
      logger.info({ sentinel }, 'log flush sentinel');
      await expect.poll(() => lines.some((line) => line.sentinel === sentinel), { timeout: 10_000 }).toBe(true);
    },
  };
}
