/** Resolves once the browser says it is online, or when `signal` is aborted. */
export function untilOnline(signal?: AbortSignal): Promise<void> {
  if (navigator.onLine || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      window.removeEventListener('online', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    window.addEventListener('online', done);
    signal?.addEventListener('abort', done);
  });
}

/**
 * Waits `ms` before a retry; cut short when the browser comes back online (the
 * retry then has its best chance) or when `signal` is aborted.
 */
export function pauseBeforeRetry(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      window.removeEventListener('online', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    window.addEventListener('online', done);
    signal?.addEventListener('abort', done);
  });
}
