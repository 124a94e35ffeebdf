// Private PostgreSQL, Redis and nginx for the cluster test: each on its own free
// loopback port and temporary directory, so restarting them never disturbs the
// shared services other suites use at the same time.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Debian's nginx, PostgreSQL binaries and Redis; the cluster test needs all three. */
export const binaries = {
  nginx: '/usr/sbin/nginx',
  postgresBin: findPostgresBin(),
  redis: ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((file) => fs.existsSync(file)),
};

function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return undefined;
  const versions = fs.readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => path.join(root, v, 'bin')).find((bin) => ['initdb', 'pg_ctl'].every((b) => fs.existsSync(path.join(bin, b))));
}

/** What is missing for the cluster test, as readable names (empty when everything is there). */
export function missingBinaries(): string[] {
  const missing: string[] = [];
  if (!fs.existsSync(binaries.nginx)) missing.push(binaries.nginx);
  if (!binaries.postgresBin) missing.push('/usr/lib/postgresql/*/bin/{initdb,pg_ctl}');
  if (!binaries.redis) missing.push('redis-server');
  return missing;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function listenOnce(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as net.AddressInfo;
      server.close(() => resolve(bound));
    });
  });
}

/** The first port the kernel hands out to outgoing connections (32768 on Linux by default). */
function ephemeralStart(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

/**
 * A free TCP port on 127.0.0.1, picked up front so a restarted service gets the
 * same one; below the ephemeral range, so no outgoing connection takes it while
 * its service is down.
 */
export async function freePort(): Promise<number> {
  const high = Math.min(ephemeralStart(), 32768);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await listenOnce(20_000 + Math.floor(Math.random() * Math.max(1, high - 20_000)));
    if (port !== undefined) return port;
  }
  return (await listenOnce(0))!;
}

/** Polls `check` every `everyMs` until it is true; false when `timeoutMs` passes first. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}

/** Runs a command to its end without blocking the event loop (the load keeps running meanwhile). */
export function run(command: string, args: string[], timeoutMs = 60_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // stdout ignored: a postmaster started by pg_ctl logs to its own file and must not hold our pipes.
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} took over ${timeoutMs} ms: ${output}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** A private PostgreSQL cluster (fsync on: restarts must keep every committed write). */
export interface Postgres {
  port: number;
  url: string;
  /** `pg_ctl restart -m fast`: disconnects everyone, shuts down cleanly, starts again. */
  restart(): Promise<void>;
  /** `pg_ctl stop -m immediate` (no clean shutdown, as a crash), down for `downMs`, then started again (crash recovery). */
  outage(downMs: number): Promise<void>;
  isUp(): Promise<boolean>;
  stop(): Promise<void>;
}

/** initdb into `dir` (owned by the postgres user when we are root), trust auth, then start. */
export async function startPostgres(dir: string): Promise<Postgres> {
  const bin = binaries.postgresBin!;
  const port = await freePort();
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  fs.mkdirSync(dir, { recursive: true });
  // PostgreSQL refuses to run as root: run its tools as the postgres user, which must own the directory.
  const isRoot = process.getuid?.() === 0;
  if (isRoot) {
    const entry = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((line) => line.startsWith('postgres:'));
    if (!entry) throw new Error('running as root, but there is no postgres user to run PostgreSQL as');
    const [uid, gid] = entry.split(':').slice(2, 4).map(Number) as [number, number];
    fs.chownSync(dir, uid, gid);
    fs.closeSync(fs.openSync(logFile, 'a'));
    fs.chownSync(logFile, uid, gid);
  }
  const pgTool = (tool: string, args: string[], timeoutMs?: number) =>
    isRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args], timeoutMs) : run(path.join(bin, tool), args, timeoutMs);
  const must = async (step: string, result: Promise<{ code: number | null; output: string }>) => {
    const { code, output } = await result;
    if (code !== 0) throw new Error(`${step} failed (${code}): ${output}\n${fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-4000) : ''}`);
  };
  await must('initdb', pgTool('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-instructions']));
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=100`;
  await must('pg_ctl start', pgTool('pg_ctl', ['start', '-D', dataDir, '-l', logFile, '-o', options, '-w', '-t', '60']));
  const isUp = () =>
    new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    isUp,
    // pg_ctl restart reuses the options the server was started with (postmaster.opts).
    restart: () => must('pg_ctl restart', pgTool('pg_ctl', ['restart', '-D', dataDir, '-l', logFile, '-m', 'fast', '-w', '-t', '60'])),
    async outage(downMs) {
      await must('pg_ctl stop', pgTool('pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '30']));
      await sleep(downMs);
      await must('pg_ctl start', pgTool('pg_ctl', ['start', '-D', dataDir, '-l', logFile, '-o', options, '-w', '-t', '60']));
    },
    async stop() {
      await pgTool('pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '30']).catch(() => undefined);
    },
  };
}

/** Sends one Redis command in the inline protocol and returns the first reply line. */
function redisCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`${command}\r\n`));
    socket.setTimeout(1000, () => socket.destroy(new Error('redis timed out')));
    socket.once('data', (data) => (socket.destroy(), resolve(data.toString().split('\r\n')[0]!)));
    socket.once('error', reject);
  });
}

/** A private Redis without persistence: a restart loses everything in it, as a crash would. */
export interface Redis {
  port: number;
  url: string;
  /** Kills Redis (SIGKILL), leaves it down for `downMs`, starts it again on the same port. */
  restart(downMs: number): Promise<void>;
  isUp(): Promise<boolean>;
  stop(): Promise<void>;
}

/** Starts redis-server on a free port, its files in `dir`. */
export async function startRedis(dir: string): Promise<Redis> {
  const port = await freePort();
  fs.mkdirSync(dir, { recursive: true });
  let child: ChildProcess;
  let exited: Promise<void>;
  const isUp = async () => (await redisCommand(port, 'PING').catch(() => '')) === '+PONG';
  const launch = async () => {
    child = spawn(binaries.redis!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: 'ignore',
    });
    exited = new Promise((resolve) => child.once('exit', () => resolve()));
    if (!(await waitUntil(isUp, 10_000, 50))) throw new Error(`redis-server did not start on port ${port}`);
  };
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    isUp,
    async restart(downMs) {
      child.kill('SIGKILL');
      await exited;
      await sleep(downMs);
      await launch();
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** nginx in front of the instances, running a test copy of deploy/nginx.conf. */
export interface Nginx {
  port: number;
  url: string;
  accessLog: string;
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * The test copy of deploy/nginx.conf: upstream names become the instances'
 * loopback ports, it listens on a free loopback port, and its pid, logs and
 * temporary files go to `dir`. Nothing else changes.
 */
export function nginxTestConfig(source: string, upstreamPorts: number[], listenPort: number, dir: string): string {
  let copy = source;
  upstreamPorts.forEach((port, i) => {
    const from = `server parley-${i + 1}:8080`;
    if (!copy.includes(from)) throw new Error(`deploy/nginx.conf has no "${from}"`);
    copy = copy.replace(from, `server 127.0.0.1:${port}`);
  });
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${dir}/temp/${kind};`).join('\n');
  return copy
    .replace(/^(\s*)listen 8080;/m, `$1listen 127.0.0.1:${listenPort};`)
    .replace('pid /tmp/nginx.pid;', `pid ${dir}/nginx.pid;`)
    .replace(/^(\s*)access_log \/dev\/stdout parley;/m, `$1access_log ${dir}/access.log parley;`)
    .replace(/^(\s*)access_log \/dev\/stdout;/m, `$1access_log ${dir}/access.log;`)
    .replace(/^http \{\n/m, `http {\n${temp}\n`);
}

/** Starts nginx (`daemon off`, logs and temporary files in `dir`); resolves once it accepts connections. */
export async function startNginx(source: string, upstreamPorts: number[], dir: string): Promise<Nginx> {
  fs.mkdirSync(path.join(dir, 'temp'), { recursive: true });
  // Workers run as an unprivileged user when nginx starts as root: they must be able to write here.
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(path.join(dir, 'temp'), 0o777);
  const port = await freePort();
  const file = path.join(dir, 'nginx.conf');
  fs.writeFileSync(file, nginxTestConfig(source, upstreamPorts, port, dir));
  const child = spawn(binaries.nginx, ['-p', dir, '-c', file, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const isUp = () =>
    new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
  if (!(await waitUntil(async () => child.exitCode === null && (await isUp()), 10_000, 50))) {
    child.kill('SIGKILL');
    throw new Error(`nginx did not start: ${stderr}`);
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    accessLog: path.join(dir, 'access.log'),
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
