import { randomUUID } from 'node:crypto';

/**
 * What a client's `X-Request-Id` may be to be kept: what proxies and tracing tools generate (UUIDs,
 * hex, `host:pid-counter`, dotted ids), short enough for a log line and an audit row.
 */
const safeRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The id of a request: the client's `X-Request-Id` when it is a single safe token of at most 128
 * characters, else a generated UUID, so that no client string of any size or alphabet is echoed,
 * logged or stored in the audit log. Two headers (Node joins them with ", ") count as unsafe.
 */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && safeRequestId.test(header) ? header : randomUUID();
}
