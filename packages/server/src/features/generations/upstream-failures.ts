import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { HttpError, httpErrors } from '../../http/errors.js';
import { redactSecrets } from '../../platform/llm/redact.js';
import { UpstreamError } from '../../platform/llm/types.js';
import type { GenerationInfo, UpstreamErrorPresenter } from './generation.js';

/** Shows an upstream error whole (Parley's words, then the upstream's): what admins and tests without a log see. */
const wholeError = (message: string, detail: string): string => `${message}: ${detail}`;

/**
 * Maps an upstream failure before the stream to the status the client sees. `present` words a failure
 * that carries the upstream's text (see createUpstreamErrorPresenter); the others are Parley's words.
 */
export function toHttpError(error: unknown, present: (message: string, detail: string) => string = wholeError): HttpError {
  if (error instanceof HttpError) return error;
  if (!(error instanceof UpstreamError)) return httpErrors.upstream(present('upstream request failed', redactSecrets(String(error))));
  const message = error.detail === undefined ? error.message : present(error.message, error.detail);
  if (error.kind === 'status' && error.status === 429) return httpErrors.upstreamRateLimited(message, error.retryAfter);
  if (error.kind === 'timeout') return httpErrors.upstreamTimeout(message);
  // The model server is fine; this instance is full. A retryable 503 lets the client or proxy go elsewhere.
  if (error.kind === 'exhausted') return httpErrors.unavailable(`${message}; retry on another instance`);
  return httpErrors.upstream(message);
}

/** The `kind` label of an upstream failure before the stream, for metrics. */
export function failureKindOf(error: unknown): string {
  return error instanceof UpstreamError ? error.kind : 'network';
}

/**
 * Builds the presenter of upstream errors. What an upstream says when it fails may hold anything (a key it
 * echoed, internal host names), so its words, already redacted, are logged with a random reference; admins
 * see them with the reference, everyone else a generic message naming the reference.
 */
export function createUpstreamErrorPresenter(log: Logger): UpstreamErrorPresenter {
  return (info: GenerationInfo, message: string, detail: string) => {
    const ref = randomBytes(6).toString('hex');
    log.warn({ generation: info.id, connection: info.connectionId, ref, upstreamError: message, upstreamDetail: detail }, 'upstream error');
    return info.seesUpstreamDetail ? `${wholeError(message, detail)} (ref ${ref})` : `Upstream error (ref ${ref}): ${message}`;
  };
}
