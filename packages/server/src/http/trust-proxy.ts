import type { Config } from '../config.js';

/** Fastify's `trustProxy` forms, a hop count being a function of the hop. */
export type TrustProxyOption = boolean | string[] | ((address: string, hop: number) => boolean);

/**
 * TRUST_PROXY as Fastify takes it. A hop count N becomes "the socket peer and the
 * N-1 X-Forwarded-For entries to its right are proxies": the address is the entry
 * the outermost trusted proxy appended, and whatever a client wrote further left
 * is ignored. (Fastify 5.12 no longer accepts a number, since a count cannot tell
 * a proxy from a client that connects directly: hop counts are for deployments
 * where only the proxies can reach Parley, as in deploy/; ranges are stricter.)
 */
export function trustProxyOption(value: Config['TRUST_PROXY']): TrustProxyOption {
  if (typeof value !== 'number') return value;
  return (_address, hop) => hop < value;
}
