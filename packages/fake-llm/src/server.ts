import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequestListener, type ServerState } from './router.js';
import { DEFAULT_OPTIONS, type FakeLlm, type FakeLlmOptions, type FakeLlmOptionsPatch } from './types.js';

const NUMERIC_OPTIONS = ['ttftMs', 'tokenMs', 'tokens', 'slowHeadersMs'] as const;

/** Rejects options that would make timing or lengths meaningless, naming every bad one. */
function checkOptions(options: FakeLlmOptions): void {
  const bad: string[] = NUMERIC_OPTIONS.filter((name) => !Number.isFinite(options[name]) || options[name] < 0);
  if (!Number.isInteger(options.tokens)) bad.push('tokens');
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) bad.push('port');
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

/** Starts a fake model server speaking the OpenAI and Ollama wire formats. */
export async function startFakeLlm(overrides: Partial<FakeLlmOptions> = {}): Promise<FakeLlm> {
  const options: FakeLlmOptions = { ...DEFAULT_OPTIONS, ...overrides };
  checkOptions(options);
  const state: ServerState = { options, requests: [] };
  const server = createServer({ keepAlive: true, noDelay: true }, createRequestListener(state));
  // Benchmarks reuse connections; outlive typical client pools' idle timeouts.
  server.keepAliveTimeout = 30_000;
  // Once per socket rather than per response: tokens must leave immediately, not wait for Nagle.
  server.on('connection', (socket) => socket.setNoDelay(true));
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
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
