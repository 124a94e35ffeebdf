/**
 * The shared state (Redis) cannot be reached right now, or this SharedState is
 * closed. Retryable: the HTTP layer answers 503.
 */
export class SharedStateUnavailableError extends Error {
  override readonly name = 'SharedStateUnavailableError';
  readonly code = 'shared_state_unavailable';

  constructor(message = 'Shared state is unavailable', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** True when `error` means the shared state is unavailable (see SharedStateUnavailableError). */
export function isSharedStateUnavailable(error: unknown): error is SharedStateUnavailableError {
  return error instanceof SharedStateUnavailableError;
}

/** The error every operation gives after close(). */
export function closedError(): SharedStateUnavailableError {
  return new SharedStateUnavailableError('Shared state is closed');
}
