import { Agent, buildConnector } from 'undici';

/**
 * Streams sharing one HTTP/2 connection: Node's servers advertise 100 by default; a server
 * that allows fewer makes the extra requests wait for a free stream.
 */
const STREAMS_PER_HTTP2_CONNECTION = 100;

const keepAlive = { keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000 };

/**
 * A connection pool to model servers. HTTP/1.1: keep-alive connections, one request on each
 * at a time, as many connections as requests in flight. HTTP/2, for connections that enable
 * it: offered through ALPN over TLS (falling back to HTTP/1.1), spoken with prior knowledge
 * (h2c) in cleartext; many streams share a connection, so ten thousand held answers need a
 * hundred sockets instead of ten thousand, and a few hundred fewer objects each.
 */
export function createUpstreamAgent(http2: boolean): Agent {
  if (!http2) return new Agent({ ...keepAlive, connections: null, pipelining: 1 });
  // undici's typings lag its options: useH2c is accepted by buildConnector since 7.x.
  const connect = buildConnector({ allowH2: true, useH2c: true } as buildConnector.BuildOptions);
  return new Agent({ ...keepAlive, allowH2: true, pipelining: STREAMS_PER_HTTP2_CONNECTION, connect });
}
