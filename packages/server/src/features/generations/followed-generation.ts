import type { GenerationInfo } from './generation.js';
import type { LogEntry } from './generation-log.js';

/** A generation a client follows through its log, whichever instance runs it. */
export interface FollowedGeneration {
  info: GenerationInfo;
  /**
   * Log entries after the stream position `after`, waiting up to `blockMs` for the first. `afterSeq` is
   * the last batch the client saw (an answer replayed from the database, its log gone, needs it).
   */
  read(after: string | null, blockMs: number, afterSeq: number): Promise<Array<{ position: string; entry: LogEntry }>>;
  /** Whether some instance still holds its lease. */
  isRunning(): Promise<boolean>;
  /** Continues it on this instance when nobody does; false when it did not. */
  takeOver(): Promise<boolean>;
}
