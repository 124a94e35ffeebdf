import type { IncomingHttpHeaders } from 'node:http';
import { errors as undiciErrors, type Dispatcher } from 'undici';
import type { TraceSpan } from '../telemetry/tracing.js';
import { SseDecoder, type NdjsonDecoder } from './line-decoders.js';
import { MAX_UPSTREAM_DETAIL, redactSecrets, secretsOf } from './redact.js';
import { reportSafely, type GuardedPlace, type StreamGuardReport } from './stream-guard.js';
import { UpstreamError, type UpstreamEvent, type UpstreamTarget } from './types.js';

/** Receives an upstream stream's events: one batch per network read, then exactly one end. */
export interface UpstreamSink {
  /** Names the stream in the log when a guard trips (a generation's id). */
  readonly streamId?: string;
  onBatch(batch: UpstreamEvent[]): void;
  /** `error` when the stream broke off (network, timeout, cancelled, unreadable); null when it ended normally. */
  onEnd(error: UpstreamError | null): void;
}

/** An upstream stream whose 2xx headers have arrived; its events flow once a sink is attached. */
export interface UpstreamStream {
  pipe(sink: UpstreamSink): void;
  /** Cuts the request off; the sink then ends with an 'aborted' error. */
  cancel(): void;
}

/** Parses one decoded item into events; true when the item says the answer is complete. */
export type WireParser = (item: string, out: UpstreamEvent[]) => boolean;

/** Media types an NDJSON stream arrives with (Ollama sends the first). */
const ndjsonTypes = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines', 'application/jsonlines', 'application/json']);

/** The stream ended, and not by the upstream's own account of a finished answer. */
const incomplete = (): UpstreamError => new UpstreamError('protocol', 'upstream ended the stream before the answer was complete');
/** A guard caught an exception: the message names no internals. */
const internalFailure = (): UpstreamError => new UpstreamError('protocol', 'Parley could not process the upstream stream (internal error)');

/**
 * The undici handler of one streamed chat request. What a network read brings is
 * decoded and pushed to the sink as one batch, from undici's callbacks: no readable
 * stream, async iterator or promise per chunk, which is most of what relaying a token
 * costs in JavaScript (and what a context-propagating tracer makes dearer still).
 *
 * Every callback (undici's, the decoders' and parsers', the sink's) runs under a guard: an
 * exception ends this one stream with an error and is reported, and never reaches undici or a
 * `nextTick`, where it would end the process and every stream in it.
 */
export class UpstreamStreamHandler implements Dispatcher.DispatchHandler, UpstreamStream {
  /** Resolves with this stream once 2xx headers arrive; rejects with an UpstreamError otherwise. */
  readonly opened: Promise<UpstreamStream>;
  // Dropped once used: a held stream need not keep its settled promise's resolvers.
  private resolveOpened: ((stream: UpstreamStream) => void) | null = null;
  private rejectOpened: ((error: UpstreamError) => void) | null = null;
  private controller: Dispatcher.DispatchController | null = null;
  private sink: UpstreamSink | null = null;
  /** Chunks received since the last delivery: all those parsed from one network read. */
  private pending: Buffer[] = [];
  private isFlushScheduled = false;
  private isOpen = false;
  private ending: { error: UpstreamError | null } | null = null;
  private hasEnded = false;
  private failure: { status: number; retryAfter?: string; text: string } | null = null;
  private isCancelled = false;
  /** The response ended or failed: cancelling must not touch a connection that has moved on. */
  private isSettled = false;
  /** The upstream said the answer is complete: `[DONE]`, a finish reason, `done: true`. */
  private isComplete = false;
  /** A guard tripped: nothing more is decoded. */
  private isBroken = false;

  // No AbortSignal: its listeners would be a few hundred bytes more per held stream.
  constructor(
    private readonly decoder: SseDecoder | NdjsonDecoder,
    private readonly parse: WireParser,
    /** The call's client span (a shared no-op unless traced): ends when the response does. */
    readonly span: TraceSpan,
    /** Its key and URL are looked for in upstream error text (only when there is some). */
    private readonly target: UpstreamTarget,
    private readonly guard: StreamGuardReport,
  ) {
    this.opened = new Promise((resolve, reject) => {
      this.resolveOpened = resolve;
      this.rejectOpened = reject;
    });
  }

  pipe(sink: UpstreamSink): void {
    this.sink = sink;
    if (this.pending.length > 0 || this.ending) this.scheduleFlush();
  }

  cancel(): void {
    if (this.isSettled) return;
    this.isCancelled = true;
    this.controller?.abort(new undiciErrors.RequestAbortedError());
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.isCancelled) controller.abort(new undiciErrors.RequestAbortedError());
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    try {
      if (this.span.isRecording) this.span.annotate({ 'http.response.status_code': statusCode });
      if (statusCode >= 200 && statusCode < 300) {
        const wrongType = this.unexpectedMediaType(headers['content-type']);
        if (wrongType !== null) {
          // An HTML login page or a JSON document is not a stream: say so now rather than save an empty answer.
          const expected = this.decoder instanceof SseDecoder ? 'text/event-stream' : 'application/x-ndjson';
          this.fail(new UpstreamError('protocol', `upstream answered HTTP ${statusCode} with ${wrongType} instead of ${expected}`, statusCode));
          this.isCancelled = true;
          controller.abort(new undiciErrors.RequestAbortedError());
          return;
        }
        this.isOpen = true;
        this.resolveOpened?.(this);
        this.resolveOpened = this.rejectOpened = null;
        return;
      }
      const retryAfter = headers['retry-after'];
      this.failure = { status: statusCode, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined, text: '' };
    } catch (error) {
      this.trip(error, 'upstream');
    }
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    // A stream Parley ended (over the cap, a guard) drops whatever is still on its way.
    if (this.hasEnded || this.isBroken) return;
    try {
      if (this.failure) {
        // Already refused (the body said enough): the rest is not read.
        if (!this.rejectOpened) return;
        this.failure.text += chunk.toString('utf8', 0, Math.min(chunk.length, MAX_UPSTREAM_DETAIL));
        // Enough to say why: the rest of an error body (an endless page, say) is not waited for.
        if (this.failure.text.length >= MAX_UPSTREAM_DETAIL) {
          this.refuse();
          this.stopRequest();
        }
      } else {
        this.pending.push(chunk);
        this.scheduleFlush();
      }
    } catch (error) {
      this.trip(error, 'upstream');
    }
  }

  onResponseEnd(): void {
    this.isSettled = true;
    try {
      this.span.end(undefined, this.failure ? `HTTP ${this.failure.status}` : undefined);
      if (this.failure) this.refuse();
      else this.finish(null);
    } catch (error) {
      this.trip(error, 'upstream');
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.isSettled = true;
    try {
      const failure = toUpstreamError(error);
      this.span.end({ 'error.type': failure.kind }, failure);
      if (this.isOpen) this.finish(failure);
      // A refusal whose body broke off (or was cut off here) is still that refusal.
      else if (this.failure) this.refuse();
      else this.fail(failure);
    } catch (caught) {
      this.trip(caught, 'upstream');
    }
  }

  /** The upstream refused (non-2xx): the caller's `await` throws, with what its body said as the detail. */
  private refuse(): void {
    if (!this.failure || !this.rejectOpened) return;
    const { status, retryAfter, text } = this.failure;
    const detail = text.trim() ? redactSecrets(errorDetailOf(text.slice(0, MAX_UPSTREAM_DETAIL)), secretsOf(this.target)) : undefined;
    this.fail(new UpstreamError('status', `upstream answered HTTP ${status}`, status, retryAfter, detail || undefined));
  }

  /** Fails before the stream opened: the caller's `await` throws. */
  private fail(error: UpstreamError): void {
    this.rejectOpened?.(error);
    this.resolveOpened = this.rejectOpened = null;
  }

  private finish(error: UpstreamError | null): void {
    this.ending ??= { error };
    this.scheduleFlush();
  }

  /** A guard caught `error`: reports it and ends this stream (before it opened, or through its sink). */
  private trip(error: unknown, where: GuardedPlace): void {
    reportSafely(this.guard, error, where, this.sink?.streamId);
    this.isBroken = true;
    this.pending = [];
    if (this.isOpen) {
      this.ending = { error: internalFailure() };
      this.scheduleFlush();
    } else {
      this.fail(internalFailure());
    }
    this.stopRequest();
  }

  /** Cuts off a response Parley no longer reads (its stream has ended or broke). */
  private stopRequest(): void {
    if (this.isSettled || this.isCancelled) return;
    this.isCancelled = true;
    try {
      this.controller?.abort(new undiciErrors.RequestAbortedError());
    } catch {
      // Already finished: nothing left to stop.
    }
  }

  /** The content type of a 2xx answer when it is clearly not the stream asked for; null when acceptable or absent. */
  private unexpectedMediaType(header: string | string[] | undefined): string | null {
    const value = Array.isArray(header) ? header[0] : header;
    const type = value?.split(';', 1)[0]!.trim().toLowerCase();
    if (!type) return null;
    const isExpected = this.decoder instanceof SseDecoder ? type === 'text/event-stream' : ndjsonTypes.has(type);
    return isExpected ? null : type.slice(0, 100);
  }

  /**
   * Deliveries wait for the tick to end: a network read of a fast stream holds many HTTP
   * chunks, each its own callback, and they go out as one batch (one write to the client).
   * Waiting also lets a caller that just got the stream set up its response first.
   */
  private scheduleFlush(): void {
    if (this.isFlushScheduled) return;
    this.isFlushScheduled = true;
    // A shared function with this handler as its argument, not a bound method kept per stream.
    process.nextTick(flushHandler, this);
  }

  /** Delivers what arrived since the last flush (run by `flushHandler`); never throws. */
  flush(): void {
    this.isFlushScheduled = false;
    const sink = this.sink;
    if (!sink || this.hasEnded) return;
    const batch: UpstreamEvent[] = [];
    let ending = this.ending;
    try {
      if (!this.isBroken) ending = this.decode(batch, ending);
    } catch (error) {
      reportSafely(this.guard, error, 'parser', sink.streamId);
      ending = { error: internalFailure() };
    }
    if (ending) this.endHere();
    if (batch.length > 0) {
      try {
        sink.onBatch(batch);
      } catch (error) {
        reportSafely(this.guard, error, 'sink', sink.streamId);
        if (!ending) {
          ending = { error: internalFailure() };
          this.endHere();
        }
      }
    }
    if (!ending) return;
    try {
      sink.onEnd(ending.error);
    } catch (error) {
      reportSafely(this.guard, error, 'sink', sink.streamId);
    }
  }

  /**
   * Decodes and parses what arrived into `batch`; returns how the stream ends, if it does now. An error
   * event ends the answer: nothing after it is parsed, and the stream ends with it (the event says why).
   */
  private decode(batch: UpstreamEvent[], ending: { error: UpstreamError | null } | null): { error: UpstreamError | null } | null {
    const pending = this.pending;
    this.pending = [];
    let hasError = false;
    for (let i = 0; i < pending.length && !hasError; i++) hasError = this.parseItems(this.decoder.push(pending[i]!), batch);
    if (ending && !hasError) hasError = this.parseItems(this.decoder.end(), batch);
    if (hasError) {
      const event = batch[batch.length - 1]!;
      if (event.type === 'error' && event.detail !== undefined) {
        batch[batch.length - 1] = { type: 'error', message: event.message, detail: redactSecrets(event.detail, secretsOf(this.target)) };
      }
      return { error: null };
    }
    if (this.decoder.failure !== null) return { error: new UpstreamError('protocol', this.decoder.failure) };
    if (ending && ending.error === null && !this.isComplete) return { error: incomplete() };
    return ending;
  }

  /** Parses items into `batch` up to the first error event; true when there was one. */
  private parseItems(items: string[], batch: UpstreamEvent[]): boolean {
    for (const item of items) {
      if (this.parse(item, batch)) this.isComplete = true;
      // Parsers push an error event last, and nothing after it.
      if (batch.length > 0 && batch[batch.length - 1]!.type === 'error') return true;
    }
    return false;
  }

  /** This handler ends the stream now: nothing more is decoded or delivered, and the request is cut off. */
  private endHere(): void {
    this.hasEnded = true;
    this.pending = [];
    this.stopRequest();
  }
}

function flushHandler(handler: UpstreamStreamHandler): void {
  handler.flush();
}

/** Maps network and timeout failures to UpstreamError kinds. */
export function toUpstreamError(error: unknown): UpstreamError {
  if (error instanceof UpstreamError) return error;
  if (error instanceof undiciErrors.HeadersTimeoutError) return new UpstreamError('timeout', 'upstream did not answer in time');
  if (error instanceof undiciErrors.BodyTimeoutError) return new UpstreamError('timeout', 'upstream stopped sending mid-stream');
  if (error instanceof Error && (error.name === 'AbortError' || error instanceof undiciErrors.RequestAbortedError)) {
    return new UpstreamError('aborted', 'request to upstream was cancelled');
  }
  const code = (error as { code?: string; cause?: { code?: string } })?.cause?.code ?? (error as { code?: string })?.code;
  if (code === 'ECONNREFUSED') return new UpstreamError('network', 'upstream refused the connection');
  if (code === 'EMFILE' || code === 'ENFILE' || code === 'EADDRNOTAVAIL') {
    return new UpstreamError('exhausted', 'this instance has no free connections to the model server');
  }
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') return new UpstreamError('network', 'upstream closed the connection unexpectedly');
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new UpstreamError('network', 'upstream host not found');
  if (code?.startsWith('ERR_HTTP2')) return new UpstreamError('network', `HTTP/2 to the upstream failed (${code}); does it speak HTTP/2?`);
  const message = error instanceof Error ? error.message : String(error);
  return new UpstreamError('network', 'upstream request failed', undefined, undefined, redactSecrets(message));
}

/** What an error body says: its `error.message`, `error`, `detail` or `message` when JSON, else the text. */
function errorDetailOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string; detail?: unknown; message?: unknown };
    const message = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.detail ?? parsed.message);
    if (typeof message === 'string' && message) return message;
  } catch {
    // Not JSON: the text itself.
  }
  return text.trim();
}
