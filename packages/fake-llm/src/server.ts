import { createServer as createHttp1Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createH2cServer } from 'node:http2';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createRequestListener, type ServerState } from './router.js';
import { DEFAULT_OPTIONS, type FakeLlm, type FakeLlmOptions, type FakeLlmOptionsPatch } from './types.js';

const NUMERIC_OPTIONS = ['ttftMs', 'tokenMs', 'tokens', 'slowHeadersMs', 'hugeLineBytes'] as const;

/** Rejects options that would make timing or lengths meaningless, naming every bad one. */
function checkOptions(options: FakeLlmOptions): void {
  const bad: string[] = NUMERIC_OPTIONS.filter((name) => !Number.isFinite(options[name]) || options[name] < 0);
  if (!Number.isInteger(options.tokens)) bad.push('tokens');
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) bad.push('port');
  if (!['continue', 'restart', 'vllm'].includes(options.openaiContinuation)) bad.push('openaiContinuation');
  if (bad.length > 0) throw new RangeError(`invalid fake-llm options: ${[...new Set(bad)].join(', ')}`);
}

/** Waits until the server listens, or rejects with the bind error (port in use...). */
function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The 24 bytes every HTTP/2 client sends first; an HTTP/1 request can never start with 'PRI '. */
const H2_PREFACE_START = Buffer.from('PRI * HTTP/2.0');

interface ClosableServer extends Server {
  /** Cuts every open connection, stalled streams and idle keep-alive ones included. */
  destroyAllSockets(): void;
}

/** HTTP/1.1 only, on Node's native parser. */
function createHttp1OnlyServer(listener: (req: IncomingMessage, res: ServerResponse) => void): ClosableServer {
  const server = createHttp1Server({ keepAlive: true, noDelay: true }, listener);
  // Benchmarks reuse connections; outlive typical client pools' idle timeouts.
  server.keepAliveTimeout = 30_000;
  return Object.assign(server, { destroyAllSockets: () => server.closeAllConnections() });
}

/**
 * One port for HTTP/1.1 and cleartext HTTP/2 with prior knowledge (h2c), as model servers
 * behind an h2c-speaking proxy offer: the first bytes of each connection pick the protocol.
 */
function createDualProtocolServer(listener: (req: IncomingMessage, res: ServerResponse) => void): ClosableServer {
  const http1 = createHttp1OnlyServer(listener);
  // Node's compatibility request and response carry the same methods the routes use.
  const h2c = createH2cServer({ settings: { maxConcurrentStreams: 1000 } }, listener as never);
  const sockets = new Set<Socket>();
  const front = createTcpServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    let head = Buffer.alloc(0);
    const sniff = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const seen = Math.min(head.length, H2_PREFACE_START.length);
      const isH2 = head.subarray(0, seen).equals(H2_PREFACE_START.subarray(0, seen));
      // A short first read that could still be either protocol: wait for more.
      if (isH2 && seen < H2_PREFACE_START.length) return;
      socket.off('data', sniff);
      socket.pause();
      socket.unshift(head);
      // HTTP/2 reads the buffered bytes itself on the next tick; resuming would drop them.
      if (isH2) h2c.emit('connection', socket);
      else {
        http1.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', sniff);
  });
  return Object.assign(front, {
    destroyAllSockets: () => {
      for (const socket of sockets) socket.destroy();
    },
  });
}

/** Starts a fake model server speaking the OpenAI and Ollama wire formats. */
export async function startFakeLlm(overrides: Partial<FakeLlmOptions> = {}): Promise<FakeLlm> {
  const options: FakeLlmOptions = { ...DEFAULT_OPTIONS, ...overrides };
  checkOptions(options);
  const state: ServerState = { options, requests: [] };
  const listener = createRequestListener(state);
  const server = options.h2c ? createDualProtocolServer(listener) : createHttp1OnlyServer(listener);
  await listen(server, options.port, options.host);

  const { port } = server.address() as AddressInfo;
  const hostInUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostInUrl}:${port}`,
    port,
    requests: state.requests,
    get options() {
      return state.options;
    },
    setOptions(patch: FakeLlmOptionsPatch) {
      const next = { ...state.options, ...patch, port: state.options.port, host: state.options.host };
      checkOptions(next);
      state.options = next;
    },
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Stalled streams and idle keep-alive sockets would otherwise hold close() open forever.
        server.destroyAllSockets();
      });
      return closing;
    },
  };
}
