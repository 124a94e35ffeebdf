/** Receives one published message. Errors it throws or rejects with are logged, never propagated. */
export type MessageHandler = (message: string) => void | Promise<void>;

/**
 * Fire-and-forget broadcast to every instance. Messages published while an
 * instance is disconnected are lost to it: treat a message as a hint to re-read
 * the source of truth, never as the truth itself.
 */
export interface PubSub {
  /** Sends `message` to every current subscriber of `channel`, on every instance. */
  publish(channel: string, message: string): Promise<void>;
  /**
   * Calls `handler` for each message on `channel` (always asynchronously), until the
   * returned unsubscribe function is called. Survives reconnects once it has resolved.
   */
  subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>>;
}

/** Calls `handler` so that neither a throw nor a rejection escapes (a bad handler must not break delivery to others). */
export function invokeHandler(handler: MessageHandler, message: string, onError: (error: unknown) => void): void {
  try {
    const result = handler(message);
    if (result instanceof Promise) result.catch(onError);
  } catch (error) {
    onError(error);
  }
}
