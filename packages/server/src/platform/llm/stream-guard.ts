import type { Logger } from 'pino';
import type { Counter } from 'prom-client';

/** Where a stream guard caught an exception: undici's callbacks, the decoders and wire parsers, or the sink. */
export type GuardedPlace = 'upstream' | 'parser' | 'sink';

/**
 * Told when a guard around a stream callback caught an exception nothing expected; the guard has
 * already ended that one stream. `streamId` is the sink's (the generation id), when it has one.
 */
export type StreamGuardReport = (error: unknown, where: GuardedPlace, streamId: string | undefined) => void;

/** A report that logs the exception with the stream's id and counts it by place. */
export function streamGuardReport(log: Logger, trips: Counter<'where'>): StreamGuardReport {
  return (error, where, streamId) => {
    trips.inc({ where });
    log.error({ err: error, generation: streamId, where }, 'a stream guard caught an unexpected exception; that stream ended with an error');
  };
}

/** Runs `report`, which must not take the stream's caller down with it. */
export function reportSafely(report: StreamGuardReport, error: unknown, where: GuardedPlace, streamId: string | undefined): void {
  try {
    report(error, where, streamId);
  } catch {
    // The report is the last line of defence; a failing logger must not turn into a crash here.
  }
}
