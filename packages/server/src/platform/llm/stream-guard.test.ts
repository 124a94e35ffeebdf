import { Writable } from 'node:stream';
import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { reportSafely, streamGuardReport } from './stream-guard.js';

describe('stream guard reports', () => {
  it('log the exception with the generation id and count it by place', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = pino(new Writable({ write: (chunk: Buffer, _encoding, done) => void (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) }));
    const registry = new Registry();
    const trips = new Counter({ name: 'parley_stream_guard_trips_total', help: 'trips', labelNames: ['where'], registers: [registry] });
    const report = streamGuardReport(log, trips);
    report(new TypeError('parser bug'), 'parser', 'gen-1');
    report(new TypeError('sink bug'), 'sink', undefined);
    await expect.poll(() => lines.length).toBe(2);
    expect(lines[0]).toMatchObject({ level: 50, generation: 'gen-1', where: 'parser', err: { type: 'TypeError', message: 'parser bug' } });
    const metrics = await registry.getMetricsAsJSON();
    expect(metrics[0]!.values).toEqual([
      { value: 1, labels: { where: 'parser' } },
      { value: 1, labels: { where: 'sink' } },
    ]);
  });

  it('never throw, even when the report does', () => {
    expect(() =>
      reportSafely(
        () => {
          throw new Error('logger down');
        },
        new Error('x'),
        'upstream',
        'gen-1',
      ),
    ).not.toThrow();
  });
});
