import type { IncomingHttpHeaders } from 'node:http';
import { errors as undiciErrors, type Dispatcher } from 'undici';
import type { TraceSpan } from '../telemetry/tracing.js';
import type { NdjsonDecoder, SseDecoder } from './line-decoders.js';
import { UpstreamError, type UpstreamEvent } from './types.js';

/** Receives an upstream stream's events: one batch per network read, then exactly one end. */
export interface UpstreamSink {
  onBatch(batch: UpstreamEvent[]): void;
  /** `error` when the stream broke off (network, timeout, cancelled); null when it ended normally. */
  onEnd(error: UpstreamError | null): void;
}

/** An upstream stream whose 2xx headers have arrived; its events flow once a sink is attached. */
export interface UpstreamStream {
  pipe(sink: UpstreamSink): void;
  /** Cuts the request off; the sink then ends with an 'aborted' error. */
  cancel(): void;
}

const maxErrorText = 2000;

/**
 * The undici handler of one streamed chat request. What a network read brings is
 * decoded and pushed to the sink as one batch, from undici's callbacks: no readable
 * stream, async iterator or promise per chunk, which is most of what relaying a token
 * costs in JavaScript (and what a context-propagating tracer makes dearer still).
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

  // No AbortSignal: its listeners would be a few hundred bytes more per held stream.
  constructor(
    private readonly decoder: SseDecoder | NdjsonDecoder,
    private readonly parse: (item: string, out: UpstreamEvent[]) => void,
    /** The call's client span (a shared no-op unless traced): ends when the response does. */
    readonly span: TraceSpan,
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

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (this.span.isRecording) this.span.annotate({ 'http.response.status_code': statusCode });
    if (statusCode >= 200 && statusCode < 300) {
      this.isOpen = true;
      this.resolveOpened?.(this);
      this.resolveOpened = this.rejectOpened = null;
      return;
    }
    const retryAfter = headers['retry-after'];
    this.failure = { status: statusCode, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined, text: '' };
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.failure) {
      if (this.failure.text.length < maxErrorText) this.failure.text += chunk.toString('utf8');
    } else {
      this.pending.push(chunk);
      this.scheduleFlush();
    }
  }

  onResponseEnd(): void {
    this.isSettled = true;
    this.span.end(undefined, this.failure ? `HTTP ${this.failure.status}` : undefined);
    if (this.failure) {
      const { status, retryAfter, text } = this.failure;
      this.fail(new UpstreamError('status', errorMessageOf(status, text.slice(0, maxErrorText)), status, retryAfter));
    } else {
      this.finish(null);
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.isSettled = true;
    const failure = toUpstreamError(error);
    this.span.end({ 'error.type': failure.kind }, failure);
    if (this.isOpen) this.finish(failure);
    else this.fail(failure);
  }

  /** Fails before the stream opened: the caller's `await` throws. */
  private fail(error: UpstreamError): void {
    this.rejectOpened?.(error);
    this.resolveOpened = this.rejectOpened = null;
  }

  private finish(error: UpstreamError | null): void {
    this.ending = { error };
    this.scheduleFlush();
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

  /** Delivers what arrived since the last flush (run by `flushHandler`). */
  flush(): void {
    this.isFlushScheduled = false;
    const sink = this.sink;
    if (!sink || this.hasEnded) return;
    const batch: UpstreamEvent[] = [];
    if (this.pending.length > 0) {
      const chunk = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
      this.pending = [];
      for (const item of this.decoder.push(chunk)) this.parse(item, batch);
    }
    if (this.ending) {
      this.hasEnded = true;
      for (const item of this.decoder.end()) this.parse(item, batch);
    }
    if (batch.length > 0) sink.onBatch(batch);
    if (this.ending) sink.onEnd(this.ending.error);
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
  return new UpstreamError('network', `upstream request failed: ${error instanceof Error ? error.message : String(error)}`);
}

// Upstreams word their errors differently; the message is what users need to see.
function errorMessageOf(status: number, text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: string } | string; detail?: string; message?: string };
    const message = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.detail ?? parsed.message);
    if (message) return `upstream answered HTTP ${status}: ${message}`;
  } catch {
    // Not JSON: fall through to the text.
  }
  return `upstream answered HTTP ${status}${text ? `: ${text}` : ''}`;
}
