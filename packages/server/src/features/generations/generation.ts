import { reportSafely, type StreamGuardReport } from '../../platform/llm/stream-guard.js';
import { mergeToolCalls } from '../../platform/llm/tool-calls.js';
import type { ToolCall, UpstreamError, UpstreamEvent, Usage } from '../../platform/llm/types.js';
import type { UpstreamSink, UpstreamStream } from '../../platform/llm/upstream-stream.js';
import type { Clock } from '../../platform/platform.js';

/** How a generation ended. */
export interface GenerationOutcome {
  content: string;
  status: 'done' | 'error';
  error: string | null;
  /** True when stopped on request; the partial answer is kept. */
  isStopped: boolean;
  finishReason: string | null;
  usage: Usage | null;
  ttftMs: number | null;
  durationMs: number;
  /** Tool calls the model made (OpenAI-compatible upstreams), for a non-streamed answer. */
  toolCalls?: ToolCall[];
}

/** Receives a generation's events as they arrive; detached when its client goes away. */
export interface GenerationListener {
  /** `seq` numbers batches from 1 across the whole generation, takeovers included (the SSE event id). */
  onEvents(batch: UpstreamEvent[], info: GenerationInfo, seq: number): void;
  onEnd(outcome: GenerationOutcome, info: GenerationInfo): void;
}

/** A listener that writes an HTTP response: `ensureHead` sends its head once, with `more` headers. */
export interface StreamingListener extends GenerationListener {
  ensureHead(more?: Record<string, string>): void;
}

/** Where a generation starts: fresh, or continuing one another instance began. */
export interface GenerationStart {
  startedAt: number;
  clock: Clock;
  /** The answer so far, when continuing. */
  content?: string;
  /** The last batch number already sent, when continuing. */
  lastSeq?: number;
  /** Records each batch (the resumable stream log); called before the listener. */
  onBatch?: (seq: number, batch: UpstreamEvent[]) => void;
  /** False when nobody reads the whole answer (an unsaved streamed one): its text is then not kept. */
  keepsText?: boolean;
  /**
   * Records the outcome (`lastSeq`: the last batch sent); resolves once the listener may hear of it
   * (the answer is saved), so a client that reads the chat right after the end of the stream finds
   * the answer there. Must not reject.
   */
  recordEnd?: (outcome: GenerationOutcome, lastSeq: number) => Promise<void>;
  /** What the user sees of an upstream error that carries the upstream's words; without it, Parley's words only. */
  presentUpstreamError?: UpstreamErrorPresenter;
  /** Told when an exception nothing expected ended this generation. */
  onGuardTrip?: StreamGuardReport;
}

/**
 * Turns an upstream error into what a generation's user may see: `message` is Parley's own words,
 * `detail` the upstream's (already redacted). Logs the detail under a reference the result names.
 */
export type UpstreamErrorPresenter = (info: GenerationInfo, message: string, detail: string) => string;

/** Facts about a running generation that writers and persistence need. */
export interface GenerationInfo {
  id: string;
  userId: string;
  /** The model id the client asked for (a preset's id, or a prefixed id). */
  model: string;
  /** The id the upstream knows the model by. */
  upstreamModel: string;
  connectionId: string;
  /** The caller may see what an upstream said when it failed (admins); others get a reference to the log. */
  seesUpstreamDetail?: boolean;
  /** True when events carry the upstream's own OpenAI chunk JSON, relayable as-is. */
  hasRawChunks: boolean;
  createdAt: number;
  chat?: { chatId: string; userMessageId: string; assistantMessageId: string; isFirstExchange: boolean };
}

/**
 * One answer being generated: pumps the upstream stream to its end whether or
 * not a client is listening, so a client that disconnects loses nothing. It is
 * its stream's sink itself (no adapter closures per held stream).
 */
export class Generation implements UpstreamSink {
  private listener: GenerationListener | null;
  private content: string;
  private seq: number;
  private usage: Usage | null = null;
  private finishReason: string | null = null;
  private errorMessage: string | null = null;
  private isStopped = false;
  private ttftMs: number | null = null;
  private readonly toolCalls: ToolCall[] = [];
  private hasEnded = false;
  private resolveDone!: (outcome: GenerationOutcome) => void;
  /** Resolves with the outcome once the upstream stream has ended and the answer is saved. */
  readonly done = new Promise<GenerationOutcome>((resolve) => (this.resolveDone = resolve));

  constructor(
    readonly info: GenerationInfo,
    private readonly stream: UpstreamStream,
    listener: GenerationListener,
    private readonly start: GenerationStart,
  ) {
    this.listener = listener;
    this.content = start.content ?? '';
    this.seq = start.lastSeq ?? 0;
    stream.pipe(this);
  }

  /** UpstreamSink: names the stream when a guard trips. */
  get streamId(): string {
    return this.info.id;
  }

  /** Stops listening; the generation carries on to its end. */
  detach(): void {
    this.listener = null;
  }

  /** Ends the generation early, keeping what was generated. */
  stop(): void {
    this.isStopped = true;
    this.stream.cancel();
  }

  /** UpstreamSink: one batch of the upstream's events. */
  onBatch(batch: UpstreamEvent[]): void {
    if (this.hasEnded) return;
    try {
      for (let i = 0; i < batch.length; i++) {
        let event = batch[i]!;
        // The upstream's words stop here: the log, the client and the saved answer get what the user may see.
        if (event.type === 'error') batch[i] = event = { type: 'error', message: this.describe(event.message, event.detail) };
        this.record(event);
      }
      this.seq += 1;
      this.start.onBatch?.(this.seq, batch);
      this.listener?.onEvents(batch, this.info, this.seq);
    } catch (error) {
      // Thrown back into the upstream stream's callbacks it would end the process; it ends this answer instead.
      if (this.start.onGuardTrip) reportSafely(this.start.onGuardTrip, error, 'sink', this.info.id);
      this.errorMessage ??= 'Parley could not relay the answer (internal error)';
    }
    if (this.errorMessage) {
      this.end(null);
      this.stream.cancel();
    }
  }

  /** UpstreamSink: the upstream stream ended, or broke off with `error`. */
  onEnd(error: UpstreamError | null): void {
    this.end(error ? this.describe(error.message, error.detail) : null);
  }

  /** An upstream error as this generation's user may see it. */
  private describe(message: string, detail: string | undefined): string {
    if (detail === undefined || !this.start.presentUpstreamError) return message;
    return this.start.presentUpstreamError(this.info, message, detail);
  }

  /** Settles the outcome once; `failure` is why the stream broke off, if it did. */
  private end(failure: string | null): void {
    if (this.hasEnded) return;
    this.hasEnded = true;
    if (failure && !this.isStopped) this.errorMessage ??= failure;
    const outcome: GenerationOutcome = {
      content: this.content,
      status: this.errorMessage ? 'error' : 'done',
      error: this.errorMessage,
      isStopped: this.isStopped,
      finishReason: this.isStopped ? 'stop' : this.finishReason,
      usage: this.usage,
      ttftMs: this.ttftMs,
      durationMs: this.start.clock.now() - this.start.startedAt,
      ...(this.toolCalls.length > 0 ? { toolCalls: this.toolCalls.filter(Boolean) } : {}),
    };
    // An unsaved answer ends in the same tick; a saved one once it is in the database.
    if (!this.start.recordEnd) return this.deliver(outcome);
    // recordEnd must not reject; should it, the client still hears the end, and nothing is left unhandled.
    const deliver = () => this.deliver(outcome);
    void this.start.recordEnd(outcome, this.seq).then(deliver, (error: unknown) => {
      if (this.start.onGuardTrip) reportSafely(this.start.onGuardTrip, error, 'sink', this.info.id);
      deliver();
    });
  }

  private deliver(outcome: GenerationOutcome): void {
    try {
      this.listener?.onEnd(outcome, this.info);
    } catch {
      // Only the client's copy failed to finish; thrown from undici's callbacks it would end the process.
    }
    this.listener = null;
    this.resolveDone(outcome);
  }

  private record(event: UpstreamEvent): void {
    if ((event.type === 'delta' || event.type === 'other') && event.toolCalls) mergeToolCalls(this.toolCalls, event.toolCalls);
    switch (event.type) {
      case 'delta':
        if (this.ttftMs === null) this.ttftMs = this.start.clock.now() - this.start.startedAt;
        if (this.start.keepsText !== false) this.content += event.content;
        break;
      case 'finish':
        this.finishReason = event.reason;
        break;
      case 'usage':
        this.usage = event.usage;
        break;
      case 'error':
        this.errorMessage = event.message;
        break;
      case 'other':
        break;
    }
  }
}
