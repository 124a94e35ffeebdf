import type { Logger } from 'pino';
import type { ChatRequest, UpstreamEvent } from '../../platform/llm/types.js';
import type { SharedState } from '../../platform/shared/shared-state.js';
import type { GenerationInfo, GenerationOutcome } from './generation.js';

/** What any instance needs to resume, stop or take over a generation; kept in shared state. */
export interface GenerationRecord {
  info: GenerationInfo;
  /** The upstream request without the model's connection (resolved again on takeover: keys stay out of Redis). */
  request: ChatRequest;
  startedAt: number;
}

/** How a takeover finished the answer: the partial text continued by the model, or the answer asked afresh. */
export type TakeoverMode = 'continue' | 'regenerate';

/**
 * One entry of a generation's log: a batch of events, the end, a note that another instance took over, or
 * one that the answer ended but could not be saved yet (the database away): whoever takes it over saves it
 * from the log, without asking the model again.
 */
export type LogEntry =
  | { seq: number; kind: 'events'; events: UpstreamEvent[] }
  | { seq: number; kind: 'end'; outcome: Pick<GenerationOutcome, 'status' | 'error' | 'isStopped'> }
  | { seq: number; kind: 'takeover'; mode: TakeoverMode }
  | { seq: number; kind: 'unsaved'; outcome: Omit<GenerationOutcome, 'content'> };

/** How long a generation's record lasts after it began (and its log after its last entry). */
export const logTtlMs = 10 * 60_000;
/** Takeovers one generation may have: each asks its upstream again, so an answer that kills its instances stops here. */
export const takeoverBudget = 3;
const maxLogEntries = 20_000;
const stopChannel = 'generation-stop';
const keyOf = (id: string) => `generation:${id}`;

/**
 * The stream log, lease and stop signal of running generations, in shared
 * state so every instance can follow, stop or take over any of them.
 * Writes never delay the relay: they are issued in order and not awaited.
 */
export class GenerationLog {
  constructor(
    private readonly shared: SharedState,
    readonly instanceId: string,
    readonly leaseMs: number,
    private readonly log: Logger,
  ) {}

  /** Records a new generation and takes its lease (keep it with holdLease from the start: opening the upstream may outlast it). */
  async begin(record: GenerationRecord): Promise<boolean> {
    const key = keyOf(record.info.id);
    await this.shared.setCached(`${key}:record`, record, logTtlMs);
    return this.shared.acquireLease(key, this.instanceId, this.leaseMs);
  }

  /** The generation's record, or undefined once it has expired (or never existed). */
  record(id: string): Promise<GenerationRecord | undefined> {
    return this.shared.getCached<GenerationRecord>(`${keyOf(id)}:record`, { strict: true });
  }

  /** Appends an entry without waiting; a failure is logged, the relay goes on. */
  append(id: string, entry: LogEntry): void {
    const { seq, ...rest } = entry;
    this.shared
      .appendToStream(keyOf(id), { seq: String(seq), entry: JSON.stringify(rest) }, { ttlMs: logTtlMs, maxLength: maxLogEntries })
      .catch((error: unknown) => this.log.warn({ err: error, generation: id }, 'could not append to the generation log'));
  }

  /** Reads entries after the stream position `afterId`, waiting up to `blockMs` for the first. */
  async read(id: string, afterId: string | null, blockMs: number): Promise<Array<{ position: string; entry: LogEntry }>> {
    const rows = await this.shared.readStream(keyOf(id), afterId, { blockMs, count: 1000 });
    return rows.map((row) => ({
      position: row.id,
      entry: { seq: Number(row.fields.seq), ...(JSON.parse(row.fields.entry ?? '{}') as Omit<LogEntry, 'seq'>) } as LogEntry,
    }));
  }

  /**
   * Counts one takeover of the generation in shared state, so every instance sees the same count; false once
   * the budget (takeoverBudget) is spent.
   */
  async countTakeover(id: string): Promise<{ isAllowed: boolean; attempt: number }> {
    const { allowed, count } = await this.shared.hit(`${keyOf(id)}:takeovers`, takeoverBudget, logTtlMs);
    return { isAllowed: allowed, attempt: count };
  }

  /** Keeps the lease alive; returns a function that stops renewing and releases it. */
  holdLease(id: string): () => void {
    const key = keyOf(id);
    const timer = setInterval(() => {
      this.shared.renewLease(key, this.instanceId, this.leaseMs).catch(() => undefined);
    }, Math.max(250, Math.floor(this.leaseMs / 3)));
    timer.unref();
    return () => {
      clearInterval(timer);
      void this.release(id);
    };
  }

  /** Gives the lease up, if this instance holds it. */
  async release(id: string): Promise<void> {
    await this.shared.releaseLease(keyOf(id), this.instanceId).catch(() => undefined);
  }

  /** Takes an abandoned generation's lease; false when someone holds it. */
  claim(id: string): Promise<boolean> {
    return this.shared.acquireLease(keyOf(id), this.instanceId, this.leaseMs);
  }

  /** Who runs the generation now, or null when nobody does. */
  owner(id: string): Promise<string | null> {
    return this.shared.leaseOwner(keyOf(id));
  }

  /** Asks whichever instance runs the generation to stop it. */
  requestStop(id: string): Promise<void> {
    return this.shared.publish(stopChannel, id);
  }

  /** Calls `onStop` for every stop request, on this instance; retries until shared state answers. */
  async onStopRequest(onStop: (id: string) => void): Promise<() => Promise<void>> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.shared.subscribe(stopChannel, onStop);
      } catch (error) {
        if (attempt % 10 === 0) this.log.warn({ err: error }, 'cannot subscribe to stop requests yet; retrying');
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
      }
    }
  }
}
