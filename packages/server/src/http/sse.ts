/** Response headers of an event stream that no proxy may buffer. */
export const eventStreamHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/** The last event of an OpenAI-style stream. */
export const sseDone = 'data: [DONE]\n\n';

/**
 * One server-sent event carrying `data` (a single line, such as JSON); `event` names its type,
 * `id` is what a reconnecting client sends back as Last-Event-ID.
 */
export function sseEvent(data: string, options?: { event?: string; id?: number | string }): string {
  const name = options?.event === undefined ? '' : `event: ${options.event}\n`;
  const id = options?.id === undefined ? '' : `id: ${options.id}\n`;
  return `${name}data: ${data}\n${id}\n`;
}

/** A comment line: clients ignore it, so it serves as a greeting or a heartbeat that keeps proxies from closing. */
export function sseComment(text: string): string {
  return `: ${text}\n\n`;
}
