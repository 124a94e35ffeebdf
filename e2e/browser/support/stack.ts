import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..', '..');

/** A running Parley server wired to a running fake model server. */
export interface Stack {
  baseUrl: string;
  fakeUrl: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** Options of the fake model server's pacing. */
export interface StackOptions {
  ttftMs?: number;
  tokenMs?: number;
  tokens?: number;
  env?: Record<string, string>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, child: ChildProcess, output: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}:\n${output()}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not come up within ${timeoutMs} ms:\n${output()}`);
}

function start(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => output };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts the fake model server and a Parley server (built: packages/server/dist,
 * packages/web/dist) with a fresh SQLite database in a temporary folder.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  for (const built of ['packages/server/dist/main.js', 'packages/fake-llm/dist/cli.js', 'packages/web/dist/index.html']) {
    if (!fs.existsSync(path.join(root, built))) throw new Error(`${built} is missing: run \`npm run build\` first`);
  }
  const [fakePort, port] = [await freePort(), await freePort()];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-e2e-'));
  const fake = start(
    [
      'packages/fake-llm/dist/cli.js',
      '--port', String(fakePort),
      '--host', '127.0.0.1',
      '--ttft-ms', String(options.ttftMs ?? 50),
      '--token-ms', String(options.tokenMs ?? 20),
      ...(options.tokens ? ['--tokens', String(options.tokens)] : []),
    ],
    {},
  );
  const fakeUrl = `http://127.0.0.1:${fakePort}`;
  await waitFor(`${fakeUrl}/v1/models`, fake.child, fake.output);
  const server = start(['packages/server/dist/main.js'], {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    OPENAI_API_BASE_URLS: `${fakeUrl}/v1`,
    DEFAULT_USER_ROLE: 'pending',
    LOG_LEVEL: 'warn',
    SHUTDOWN_TIMEOUT: '2',
    ...options.env,
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitFor(`${baseUrl}/ready`, server.child, server.output);
  return {
    baseUrl,
    fakeUrl,
    dataDir,
    async stop() {
      await stopChild(server.child);
      await stopChild(fake.child);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
