import type { ErrorCode } from '@parley/wire';

/** Stable machine-readable error codes (listed in @parley/wire: clients may branch on them). */
export type { ErrorCode };

/** An error that maps to an HTTP response `{ detail, code }` (Open WebUI clients read `detail`). */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Constructors for the errors routes and services raise. */
export const httpErrors = {
  badRequest: (message: string) => new HttpError(400, 'bad_request', message),
  /** Input refused before validation (a NUL character, nesting too deep): see http/input-guard.ts. */
  invalidInput: (message: string) => new HttpError(400, 'invalid_input', message),
  unauthenticated: (message = 'Not authenticated') => new HttpError(401, 'unauthenticated', message),
  forbidden: (message = 'You do not have permission to do this') => new HttpError(403, 'forbidden', message),
  crossSite: (message: string) => new HttpError(403, 'cross_site', message),
  pending: () => new HttpError(403, 'pending_approval', 'Your account is waiting for an administrator to approve it'),
  notFound: (what: string) => new HttpError(404, 'not_found', `${what} not found`),
  conflict: (message: string) => new HttpError(409, 'conflict', message),
  payloadTooLarge: (message: string) => new HttpError(413, 'payload_too_large', message),
  /** A per-user storage limit would be passed (the request itself may be small). */
  quotaExceeded: (message: string) => new HttpError(413, 'quota_exceeded', message),
  rateLimited: (message: string, retryAfterMs: number) =>
    new HttpError(429, 'rate_limited', message, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) }),
  upstream: (message: string) => new HttpError(502, 'upstream_error', message),
  upstreamRateLimited: (message: string, retryAfter?: string) =>
    new HttpError(429, 'upstream_rate_limited', message, retryAfter ? { 'retry-after': retryAfter } : {}),
  upstreamTimeout: (message: string) => new HttpError(504, 'upstream_timeout', message),
  unavailable: (message: string) => new HttpError(503, 'unavailable', message, { 'retry-after': '1' }),
};
