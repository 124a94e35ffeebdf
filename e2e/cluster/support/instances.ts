// Parley instances as real processes on fixed loopback ports, so a killed or
// drained instance comes back where nginx expects it.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { sleep, waitUntil } from './services.js';

const root = path.resolve(import.meta.dirname, '..', '..', '..');
const serverDir = path.join(root, 'packages', 'server');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(file) : fs.statSync(file).mtimeMs);
  }
  return newest;
}

/**
 * How to run the server: the build (`npm test` builds first), or the sources
 * through tsx when the build is missing or older than the sources (a dev run).
 */
export function serverCommand(script: 'main' | 'migrate'): { args: string[]; cwd: string; isBuilt: boolean } {
  const built = path.join(serverDir, 'dist', `${script}.js`);
  const isBuilt = fs.existsSync(built) && fs.statSync(path.join(serverDir, 'dist', 'app.js')).mtimeMs >= newestMtime(path.join(serverDir, 'src'));
  return isBuilt
    ? { args: [built], cwd: root, isBuilt }
    : { args: ['--import', 'tsx', path.join('src', `${script}.ts`)], cwd: serverDir, isBuilt };
}

/** Runs the migrations once, before any instance starts (as a deploy's migration job does). */
export async function migrate(env: Record<string, string>): Promise<void> {
  const { args, cwd } = serverCommand('migrate');
  const child = spawn(process.execPath, args, { cwd, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`migrate exited with ${code}: ${output}`);
}

/** How long a crashed instance stays down before it is started again. */
const crashRestartMs = 1000;

/** One Parley instance: a process that can be killed, drained and started again on the same port. */
export class Instance {
  private child: ChildProcess | undefined;
  private exitedPromise: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({ code: null, signal: null });
  /** What the instance printed (warnings and errors at LOG_LEVEL=warn), across restarts, newest last. */
  log = '';
  /** Exits nobody asked for (a crash): must stay empty. */
  readonly unexpectedExits: string[] = [];
  private isStopExpected = false;
  starts = 0;
  /** Told of every crash; the instance is started again `crashRestartMs` later, as an orchestrator would. */
  onCrash: ((detail: string) => void) | undefined;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get isRunning(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the process; `ready()` waits for it. */
  start(): void {
    if (this.isRunning) throw new Error(`${this.name} is already running`);
    const { args, cwd } = serverCommand('main');
    this.isStopExpected = false;
    this.starts++;
    const child = spawn(process.execPath, args, {
      cwd,
      env: { PATH: process.env.PATH, ...this.env, PORT: String(this.port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => (this.log = (this.log + chunk.toString()).slice(-200_000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.log += `\n--- ${this.name} start #${this.starts} at ${new Date().toISOString()}\n`;
    this.exitedPromise = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (!this.isStopExpected) {
          const detail = `${this.name} exited by itself (code ${code}, signal ${signal})`;
          this.unexpectedExits.push(detail);
          this.onCrash?.(detail);
          setTimeout(() => {
            if (!this.isRunning && !this.isStopExpected) this.start();
          }, crashRestartMs).unref();
        }
        resolve({ code, signal });
      }),
    );
    this.child = child;
  }

  /** True when the instance answers /ready with 200. */
  async isReady(timeoutMs = 2500): Promise<boolean> {
    const response = await fetch(`${this.url}/ready`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.status === 200;
  }

  /** Waits until /ready answers 200; throws (with the instance's output) after `timeoutMs`. */
  async ready(timeoutMs = 30_000): Promise<void> {
    const isUp = await waitUntil(async () => {
      if (!this.isRunning) throw new Error('exited');
      return this.isReady();
    }, timeoutMs);
    if (!isUp) throw new Error(`${this.name} was not ready within ${timeoutMs} ms:\n${this.log.slice(-4000)}`);
  }

  /** `kill -9`: the instance dies at once, mid-request and mid-stream. */
  async kill(): Promise<void> {
    this.isStopExpected = true;
    this.child?.kill('SIGKILL');
    await this.exitedPromise;
  }

  /** SIGTERM: the instance drains and exits by itself; returns its exit code (null if it had to be killed). */
  async terminate(timeoutMs: number): Promise<number | null> {
    this.isStopExpected = true;
    this.child?.kill('SIGTERM');
    const outcome = await Promise.race([this.exitedPromise, sleep(timeoutMs).then(() => undefined)]);
    if (outcome) return outcome.code;
    this.child?.kill('SIGKILL');
    await this.exitedPromise;
    return null;
  }
}

/** Ends what is left of the instances at teardown (a crashed one is not started again). */
export async function killAll(instances: Instance[]): Promise<void> {
  await Promise.all(instances.map((instance) => instance.kill()));
}
