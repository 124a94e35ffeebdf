import { HttpError, httpErrors } from '../../http/errors.js';
import { UpstreamError } from '../../platform/llm/types.js';

/** Maps an upstream failure before the stream to the status the client sees. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (!(error instanceof UpstreamError)) return httpErrors.upstream(String(error));
  if (error.kind === 'status' && error.status === 429) return httpErrors.upstreamRateLimited(error.message, error.retryAfter);
  if (error.kind === 'timeout') return httpErrors.upstreamTimeout(error.message);
  // The model server is fine; this instance is full. A retryable 503 lets the client or proxy go elsewhere.
  if (error.kind === 'exhausted') return httpErrors.unavailable(`${error.message}; retry on another instance`);
  return httpErrors.upstream(error.message);
}

/** The `kind` label of an upstream failure before the stream, for metrics. */
export function failureKindOf(error: unknown): string {
  return error instanceof UpstreamError ? error.kind : 'network';
}
