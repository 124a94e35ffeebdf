// Running Debian's nginx on a test copy of deploy/nginx.conf, and raw HTTP requests to it.
// The copy's only changes are addresses: the upstream names parley-N:8080 (resolvable only
// inside compose) become 127.0.0.1 ports, the listen port a free one, the pid file a
// temporary one.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { deployDir, freePort } from './support.js';

export const nginxBinary = '/usr/sbin/nginx';
export const nginxSource = fs.readFileSync(path.join(deployDir, 'nginx.conf'), 'utf8');

/** Whether the live nginx tests can run; throws when PARLEY_REQUIRE_NGINX=1 and nginx is missing. */
export function nginxAvailable(): boolean {
  const isThere = fs.existsSync(nginxBinary);
  if (!isThere && process.env.PARLEY_REQUIRE_NGINX === '1') {
    throw new Error(`nginx is required (PARLEY_REQUIRE_NGINX=1) but ${nginxBinary} is missing: apt-get install -y nginx`);
  }
  if (!isThere) console.warn(`${nginxBinary} not found: skipping nginx -t and the live nginx tests (apt-get install -y nginx)`);
  return isThere;
}

/** Writes the test copy into `dir`: only addresses and the pid file change. */
export function writeTestCopy(upstreamPorts: number[], listenPort: number, dir: string): string {
  let copy = nginxSource;
  upstreamPorts.forEach((port, i) => {
    copy = copy.replace(`server parley-${i + 1}:8080`, `server 127.0.0.1:${port}`);
  });
  copy = copy.replace(/^(\s*)listen 8080;/m, `$1listen 127.0.0.1:${listenPort};`).replace('pid /tmp/nginx.pid;', `pid ${dir}/nginx.pid;`);
  const file = path.join(dir, 'nginx.conf');
  fs.writeFileSync(file, copy);
  return file;
}

/** Starts nginx processes on test copies and stops them all at the end. */
export class NginxRunner {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-nginx-'));
  private readonly children: ChildProcess[] = [];

  /** Starts nginx in front of `upstreamPorts`; resolves with its port once it accepts connections. */
  async start(upstreamPorts: number[]): Promise<number> {
    const dir = fs.mkdtempSync(path.join(this.root, 'run-'));
    const port = await freePort();
    const file = writeTestCopy(upstreamPorts, port, dir);
    const child = spawn(nginxBinary, ['-p', dir, '-c', file, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    this.children.push(child);
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
      const isUp = await new Promise<boolean>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
        socket.on('error', () => resolve(false));
      });
      if (isUp) return port;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`nginx did not start: ${stderr}`);
  }

  /** Stops every nginx this runner started and removes their folders. */
  stopAll(): void {
    for (const child of this.children) child.kill('SIGTERM');
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** A response with its headers as sent: `all(name)` lists every occurrence of a header. */
export interface RawReply {
  status: number;
  body: string;
  all(name: string): string[];
}

/**
 * A request whose headers go out exactly as given (fetch would merge or refuse some),
 * optionally from another loopback address (`from`, e.g. 127.0.0.3) so that the
 * client's address differs from the one nginx connects upstream from.
 */
export function rawRequest(
  port: number,
  target: string,
  options: { method?: string; headers?: Record<string, string | string[]>; body?: string; from?: string } = {},
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port, path: target, method: options.method ?? 'GET', headers: options.headers, localAddress: options.from, agent: false },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => {
          const headers = pairs(response.rawHeaders);
          resolve({ status: response.statusCode!, body, all: (name) => headers.filter(([key]) => key.toLowerCase() === name.toLowerCase()).map(([, value]) => value) });
        });
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

/** Node's rawHeaders (name, value, name, value, …) as pairs. */
const pairs = (raw: string[]): [string, string][] => raw.flatMap((value, i) => (i % 2 === 0 ? [[value, raw[i + 1]!] as [string, string]] : []));
