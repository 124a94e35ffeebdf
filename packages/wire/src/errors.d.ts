/** Stable machine-readable error codes; clients may branch on them. */
export type ErrorCode =
  | 'bad_request'
  | 'validation_failed'
  | 'invalid_input'
  | 'malformed_json'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'quota_exceeded'
  | 'unauthenticated'
  | 'forbidden'
  | 'pending_approval'
  | 'cross_site'
  | 'not_found'
  | 'conflict'
  | 'rate_limited'
  | 'upstream_error'
  | 'upstream_rate_limited'
  | 'upstream_timeout'
  | 'unavailable'
  | 'internal';

/** The body of every failed request (Open WebUI clients read `detail`). */
export interface ErrorBody {
  detail: string;
  code: ErrorCode;
  /** The validator's findings, on `validation_failed`. */
  errors?: unknown;
}
