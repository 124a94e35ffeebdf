import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import type { Config } from '../../config.js';

/*
 * Only @opentelemetry/api is imported here: without a registered SDK its calls
 * are no-ops, so features can annotate spans unconditionally. The SDK and the
 * instrumentations live in tracing-sdk.ts and are loaded only by startTracing.
 */

const tracer = trace.getTracer('parley');

/** A span that outlives the call that started it (a generation ends after its request). */
export interface TraceSpan {
  /** False for the no-op span and for spans of unsampled traces, whose attributes would go nowhere. */
  readonly isRecording: boolean;
  /** Runs `fn` with this span as the active one, so spans started inside become its children. */
  run<T>(fn: () => T): T;
  /** Adds attributes; they show when the span ends. */
  annotate(attributes: Attributes): void;
  /** Ends the span, marking it failed when `error` is given; later calls do nothing. */
  end(attributes?: Attributes, error?: unknown): void;
}

/**
 * The span of every call while no SDK runs. The API's own no-op spans still build a context
 * and closures per call, which a generation would keep alive for as long as it streams.
 */
const UNTRACED: TraceSpan = { isRecording: false, run: (fn) => fn(), annotate: () => undefined, end: () => undefined };
let isTracing = false;

/**
 * Whether a new span would be recorded: tracing is on and the active trace (if any) was
 * sampled. Inside an unsampled trace every child is unsampled too, so skipping it loses nothing.
 */
export function wouldRecord(): boolean {
  return isTracing && trace.getActiveSpan()?.isRecording() !== false;
}

/** Starts a span under the active one (a no-op span when tracing is off). */
export function startSpan(name: string, attributes: Attributes = {}): TraceSpan {
  return traceSpan(name, attributes, SpanKind.INTERNAL, context.active());
}

/**
 * Starts the server span of an incoming request, continuing the caller's trace when its
 * headers carry one (W3C `traceparent`); a no-op span when tracing is off. Attributes are
 * the caller's to add, and only when the span records: most requests are not sampled.
 */
export function startServerSpan(name: string, headers: Record<string, string | string[] | undefined>): TraceSpan {
  return traceSpan(name, {}, SpanKind.SERVER, propagation.extract(context.active(), headers));
}

function traceSpan(name: string, attributes: Attributes, kind: SpanKind, parent: Context): TraceSpan {
  if (!isTracing) return UNTRACED;
  const span = tracer.startSpan(name, { attributes, kind }, parent);
  return wrap(span, trace.setSpan(parent, span));
}

/**
 * Starts the client span of an outgoing HTTP call (to a model server) and writes the W3C
 * trace context into `headers`, so the server called continues the trace; inside an
 * unsampled trace only the context is passed on. Our own rather than undici's
 * instrumentation, which runs for every request through diagnostics channels, parsing its
 * URL and headers even when nothing is recorded: a third of what the tracing packages cost.
 * The query string stays out of `url.full`: some servers take their API key there.
 */
export function startClientSpan(method: string, url: URL, headers: Record<string, string>): TraceSpan {
  if (!isTracing) return UNTRACED;
  const parent = context.active();
  if (!wouldRecord()) {
    propagation.inject(parent, headers);
    return UNTRACED;
  }
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const attributes = { 'http.request.method': method, 'url.full': url.origin + url.pathname, 'server.address': url.hostname, 'server.port': Number(port) };
  const span = traceSpan(method, attributes, SpanKind.CLIENT, parent);
  span.run(() => propagation.inject(context.active(), headers));
  return span;
}

function wrap(span: Span, active: Context): TraceSpan {
  let isEnded = false;
  return {
    isRecording: span.isRecording(),
    run: (fn) => context.with(active, fn),
    annotate: (more) => void span.setAttributes(more),
    end(more, error) {
      if (isEnded) return;
      isEnded = true;
      if (more) span.setAttributes(more);
      if (error !== undefined && error !== null) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      }
      span.end();
    },
  };
}

/** Sets attributes on the active span (the request's, inside a route); a no-op when tracing is off. */
export function annotateActiveSpan(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/** The active trace id, for log lines; undefined when tracing is off or nothing is sampled. */
export function currentTraceId(): string | undefined {
  const span = trace.getActiveSpan();
  return span?.isRecording() ? span.spanContext().traceId : undefined;
}

type TracingSdk = Awaited<typeof import('./tracing-sdk.js')>;
let sdk: TracingSdk | undefined;

/**
 * Starts the OpenTelemetry SDK and its instrumentations. Must run before the
 * modules they patch (pg, ioredis, fastify, http) are imported: main.ts calls
 * it first and imports the app afterwards.
 */
export async function startTracing(config: Config): Promise<void> {
  if (sdk) return;
  sdk = await import('./tracing-sdk.js');
  sdk.start(config);
  isTracing = true;
}

/** Flushes the spans still queued and stops exporting; waits a few seconds at most. */
export async function stopTracing(): Promise<void> {
  isTracing = false;
  await sdk?.stop();
  sdk = undefined;
}
