import { startSpan, wouldRecord } from './tracing.js';

/** What a generation span needs to know when it starts (a subset of GenerationInfo). */
interface GenerationFacts {
  id: string;
  model: string;
  upstreamModel: string;
  connectionId: string;
}

/** What a generation span records when it ends (a subset of GenerationOutcome). */
interface GenerationEnd {
  status: 'done' | 'error';
  error: string | null;
  isStopped: boolean;
  finishReason: string | null;
  usage: { prompt_tokens: number; completion_tokens: number } | null;
  ttftMs: number | null;
  durationMs: number;
}

/** The span of one generation, from the upstream call to the last token. */
export interface GenerationTrace {
  /** Runs the upstream call under the generation span, so its HTTP client span is a child. */
  run<T>(fn: () => T): T;
  /** Ends the span when the upstream call failed before streaming. */
  fail(error: unknown): void;
  /** Ends the span with model, token counts and time to first token once `done` settles. */
  endWith(done: Promise<GenerationEnd>): void;
}

const UNTRACED_GENERATION: GenerationTrace = { run: (fn) => fn(), fail: () => undefined, endWith: () => undefined };

/**
 * Starts a `generation` span under the request's, named with OpenTelemetry's
 * GenAI attributes. A saved generation outlives its request, so the span is
 * ended by the generation, not by the response. A no-op when tracing is off or
 * the request's trace was not sampled.
 */
export function traceGeneration(info: GenerationFacts): GenerationTrace {
  if (!wouldRecord()) return UNTRACED_GENERATION;
  const span = startSpan('generation', {
    'gen_ai.operation.name': 'chat',
    'gen_ai.request.model': info.model,
    'parley.upstream_model': info.upstreamModel,
    'parley.connection_id': info.connectionId,
    'parley.generation_id': info.id,
  });
  return {
    run: (fn) => span.run(fn),
    fail: (error) => span.end({ 'parley.status': 'error' }, error),
    endWith(done) {
      done.then(
        (outcome) => {
          span.end(
            {
              'parley.status': outcome.status,
              'parley.stopped': outcome.isStopped,
              'parley.duration_ms': outcome.durationMs,
              ...(outcome.ttftMs !== null ? { 'parley.ttft_ms': outcome.ttftMs } : {}),
              ...(outcome.finishReason ? { 'gen_ai.response.finish_reasons': [outcome.finishReason] } : {}),
              ...(outcome.usage
                ? { 'gen_ai.usage.input_tokens': outcome.usage.prompt_tokens, 'gen_ai.usage.output_tokens': outcome.usage.completion_tokens }
                : {}),
            },
            outcome.error ?? undefined,
          );
        },
        (error: unknown) => span.end({ 'parley.status': 'error' }, error),
      );
    },
  };
}
