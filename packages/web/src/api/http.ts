import type { ErrorCode } from '@parley/wire';

/** A failed API call: the status, the server's `detail` and `code`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: ErrorCode,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Listener = (error: ApiError) => void;
const unauthenticatedListeners = new Set<Listener>();

/** Runs `listener` whenever a call answers 401 (the session ended). */
export function onUnauthenticated(listener: Listener): () => void {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}

/** Turns a non-2xx response into an ApiError with the server's message. */
export async function errorFrom(response: Response): Promise<ApiError> {
  let detail = `${response.status} ${response.statusText}`.trim();
  let code: ErrorCode | undefined;
  try {
    const body = (await response.json()) as { detail?: unknown; code?: unknown };
    if (typeof body.detail === 'string') detail = body.detail;
    // Codes come from the server's one error handler, which writes only ErrorCode values.
    if (typeof body.code === 'string') code = body.code as ErrorCode;
  } catch {
    // Not JSON (a proxy's error page): the status line says enough.
  }
  const error = new ApiError(response.status, detail, code);
  if (response.status === 401) for (const listener of unauthenticatedListeners) listener(error);
  return error;
}

/** Options of one API call. */
export interface RequestOptions {
  method?: 'GET' | 'POST' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
}

/**
 * Marks a change as made by this app's scripts: the server refuses cookie-authenticated changes
 * that carry neither a JSON body nor this header (a form on another site can send neither).
 */
export const scriptedRequestHeader = { 'x-requested-with': 'XMLHttpRequest' } as const;

/** Calls the API with the session cookie; JSON in and out; throws ApiError on a non-2xx status. */
export async function api<T>(path: string, { method = 'GET', body, signal }: RequestOptions = {}): Promise<T> {
  const response = await fetch(path, {
    method,
    signal,
    credentials: 'same-origin',
    headers: {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(method === 'GET' ? {} : scriptedRequestHeader),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw await errorFrom(response);
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** The message to show for any thrown value. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
