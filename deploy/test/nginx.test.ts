// deploy/nginx.conf: its directives, then Debian's nginx itself (`nginx -t`, and a
// running nginx in front of three stand-in upstreams) on a test copy whose only
// changes are addresses (./nginx-support.ts). Skipped when /usr/sbin/nginx is
// missing unless PARLEY_REQUIRE_NGINX=1. nginx-parley.test.ts puts it in front of Parley.
import { randomUUID } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { NginxRunner, nginxAvailable, nginxBinary, nginxSource as source, rawRequest, writeTestCopy } from './nginx-support.js';
import { deployDir, directives, freePort, nginxSeconds, nginxSize, parseNginx, type NginxDirective } from './support.js';

const conf = parseNginx(source);
const httpBlock = directives(conf, 'http')[0]!.block!;
const server = directives(httpBlock, 'server')[0]!.block!;
const location = (pattern: string) => directives(server, 'location').find((d) => d.args.join(' ') === pattern)!.block!;
const apiLocation = location('~ ^/(api|ollama)/');
const arg = (block: NginxDirective[], name: string) => directives(block, name)[0]?.args;
/** The effective value of a directive in a location: its own, else the server's, else http's. */
const effective = (block: NginxDirective[], name: string) => arg(block, name) ?? arg(server, name) ?? arg(httpBlock, name);

const FILE_MAX_SIZE_DEFAULT = 104857600;

describe('nginx.conf: directives', () => {
  it('balances over the three instances by least connections, keeping upstream connections alive', () => {
    const upstream = directives(httpBlock, 'upstream')[0]!;
    expect(upstream.args).toEqual(['parley']);
    expect(directives(upstream.block, 'least_conn')).toHaveLength(1);
    expect(directives(upstream.block, 'server').map((d) => d.args[0])).toEqual(['parley-1:8080', 'parley-2:8080', 'parley-3:8080']);
    expect(Number(arg(upstream.block!, 'keepalive')![0])).toBeGreaterThan(0);
    expect(effective(apiLocation, 'proxy_http_version')).toEqual(['1.1']);
    // Keep-alive to upstreams needs the client's Connection header replaced.
    const connection = directives(server, 'proxy_set_header').find((d) => d.args[0] === 'Connection')!;
    const map = directives(httpBlock, 'map').find((d) => d.args[1] === connection.args[1])!;
    expect(map.block!.find((d) => d.name === '')!.args).toEqual(['']); // "" -> "": no Connection header
  });

  it('streams event streams: no buffering, no cache, an hour to read, no gzip', () => {
    expect(arg(apiLocation, 'proxy_buffering')).toEqual(['off']);
    expect(arg(apiLocation, 'proxy_cache')).toEqual(['off']);
    expect(nginxSeconds(arg(apiLocation, 'proxy_read_timeout')![0]!)).toBeGreaterThanOrEqual(3600);
    expect(directives(apiLocation, 'proxy_pass')[0]!.args).toEqual(['http://parley']);
    const gzipTypes = arg(httpBlock, 'gzip_types') ?? [];
    expect(gzipTypes).not.toContain('text/event-stream');
    expect(gzipTypes).not.toContain('application/x-ndjson');
  });

  it('retries only idempotent requests on another instance, at most 3 tries', () => {
    const next = effective(apiLocation, 'proxy_next_upstream')!;
    expect(next).toEqual(expect.arrayContaining(['error', 'timeout', 'http_502', 'http_503', 'http_504']));
    const all = (block: NginxDirective[]): NginxDirective[] => block.flatMap((d) => [d, ...all(d.block ?? [])]);
    const retries = all(conf).filter((d) => d.name === 'proxy_next_upstream');
    expect(retries.length).toBeGreaterThan(0);
    for (const d of retries) expect(d.args).not.toContain('non_idempotent');
    expect(effective(apiLocation, 'proxy_next_upstream_tries')).toEqual(['3']);
  });

  it('accepts uploads up to FILE_MAX_SIZE and passes the client’s address and a request id', () => {
    expect(nginxSize(effective(apiLocation, 'client_max_body_size')![0]!)).toBe(FILE_MAX_SIZE_DEFAULT);
    const headers = new Map(directives(server, 'proxy_set_header').map((d) => [d.args[0], d.args[1]]));
    expect(headers.get('X-Forwarded-For')).toBe('$remote_addr');
    expect(headers.get('X-Real-IP')).toBe('$remote_addr');
    const requestIdMap = directives(httpBlock, 'map').find((d) => d.args[1] === headers.get('X-Request-Id'))!;
    expect(requestIdMap.args[0]).toBe('$http_x_request_id');
    // The client's id only when it is safe, as Parley's own rule says; else (or none given) nginx's.
    expect(requestIdMap.block!.find((d) => d.name === 'default')!.args).toEqual(['$request_id']);
    expect(requestIdMap.block!.find((d) => d.name === '~^[A-Za-z0-9._:-]{1,128}$')!.args).toEqual(['$http_x_request_id']);
  });

  it('adds X-Request-Id only to the answers nginx makes itself: Parley echoes it on the rest', () => {
    const all = (block: NginxDirective[]): NginxDirective[] => block.flatMap((d) => [d, ...all(d.block ?? [])]);
    const proxying = (block: NginxDirective[]) => directives(block, 'proxy_pass').length > 0;
    for (const block of [httpBlock, server, ...directives(server, 'location').filter((d) => proxying(d.block!)).map((d) => d.block!)]) {
      expect(directives(block, 'add_header').filter((d) => d.args[0]!.toLowerCase() === 'x-request-id')).toEqual([]);
    }
    const answering = directives(server, 'location').filter((d) => directives(d.block, 'return').length > 0);
    expect(answering.length).toBeGreaterThanOrEqual(3); // /metrics, 413, 503
    for (const location of answering) {
      expect(directives(location.block, 'add_header').map((d) => d.args), location.args.join(' ')).toContainEqual(['X-Request-Id', '$parley_request_id', 'always']);
    }
    expect(all(conf).filter((d) => d.name === 'proxy_hide_header')).toEqual([]);
  });

  it('answers /metrics itself with 404 and never proxies it', () => {
    const metrics = directives(server, 'location').find((d) => d.args[0] === '~*' && new RegExp(d.args[1]!, 'i').test('/metrics'))!;
    expect(directives(metrics.block, 'proxy_pass')).toEqual([]);
    expect(directives(metrics.block, 'return')[0]!.args[0]).toBe('404');
    // Regex locations are tried in order: it must come before any proxying one that could match first.
    const regexes = directives(server, 'location').filter((d) => d.args[0] === '~' || d.args[0] === '~*');
    expect(regexes[0]).toBe(metrics);
  });
});

const hasNginx = nginxAvailable();
const runner = new NginxRunner();
const servers: http.Server[] = [];
afterAll(async () => {
  runner.stopAll();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  servers.forEach((s) => s.closeAllConnections());
});
const startNginx = (upstreamPorts: number[]) => runner.start(upstreamPorts);

interface Upstream {
  port: number;
  hits: { method: string; url: string; headers: http.IncomingHttpHeaders }[];
}
/** A stand-in Parley instance whose answers the test decides. */
async function upstream(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<Upstream> {
  const hits: Upstream['hits'] = [];
  const srv = http.createServer((req, res) => {
    hits.push({ method: req.method!, url: req.url!, headers: req.headers });
    req.resume();
    req.on('end', () => handler(req, res));
  });
  servers.push(srv);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return { port: (srv.address() as net.AddressInfo).port, hits };
}
const ok = (_req: http.IncomingMessage, res: http.ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
/** Answers as Parley does: 200 for any path, echoing the request id it was given (or making one). */
const echoingParley = (req: http.IncomingMessage, res: http.ServerResponse) =>
  res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': String(req.headers['x-request-id'] ?? randomUUID()) }).end('{"ok":true}');
const unavailable = (_req: http.IncomingMessage, res: http.ServerResponse) =>
  res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"detail":"draining","code":"unavailable"}');

describe.skipIf(!hasNginx)('nginx.conf: Debian nginx', () => {
  it('passes nginx -t', () => {
    const dir = fs.mkdtempSync(path.join(runner.root, 'check-'));
    const file = writeTestCopy([18081, 18082, 18083], 18080, dir);
    // stdout to /dev/null: access_log /dev/stdout cannot be opened on the socket Node would give it
    // (in a container it is a pipe, as the official image's own /dev/stdout log links expect).
    const result = spawnSync(nginxBinary, ['-t', '-p', dir, '-c', file], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    expect(result.stderr).toContain('test is successful');
    expect(result.status).toBe(0);
  });

  it('relays an event stream chunk by chunk, without gzip', async () => {
    const stream = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
      res.write('data: {"n":1}\n\n');
      setTimeout(() => res.end('data: [DONE]\n\n'), 700);
    });
    const port = await startNginx([stream.port, stream.port, stream.port]);
    const started = performance.now();
    const response = await fetch(`http://127.0.0.1:${port}/api/chat/completions`, {
      method: 'POST',
      headers: { 'accept-encoding': 'gzip', 'content-type': 'application/json' },
      body: '{}',
    });
    const reader = response.body!.getReader();
    const first = await reader.read();
    const firstAt = performance.now() - started;
    expect(new TextDecoder().decode(first.value)).toBe('data: {"n":1}\n\n');
    expect(firstAt).toBeLessThan(500); // before the upstream finished
    expect(response.headers.get('content-encoding')).toBeNull();
    while (!(await reader.read()).done);
  });

  it('retries a GET that an instance refused with 503 on another instance', async () => {
    const draining = await upstream(unavailable);
    const healthy = [await upstream(ok), await upstream(ok)];
    const port = await startNginx([draining.port, healthy[0]!.port, healthy[1]!.port]);
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`http://127.0.0.1:${port}/api/models`);
      expect(response.status).toBe(200);
    }
    expect(draining.hits.length).toBeGreaterThan(0); // it was tried, and the client never saw its 503
  });

  it('never replays a POST that reached an instance, but retries one whose connection failed', async () => {
    const refusing = [await upstream(unavailable), await upstream(unavailable), await upstream(unavailable)];
    const port = await startNginx(refusing.map((u) => u.port));
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/chats/new`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(503);
    expect(refusing.reduce((sum, u) => sum + u.hits.length, 0)).toBe(1);

    const dead = await freePort(); // nothing listens there: connection refused
    const alive = [await upstream(ok), await upstream(ok)];
    const port2 = await startNginx([dead, alive[0]!.port, alive[1]!.port]);
    for (let i = 0; i < 6; i++) {
      const posted = await fetch(`http://127.0.0.1:${port2}/api/v1/chats/new`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      expect(posted.status).toBe(200);
    }
    expect(alive[0]!.hits.length + alive[1]!.hits.length).toBe(6);
  });

  it('overwrites a spoofed X-Forwarded-For with the client’s address', async () => {
    const echo = await upstream(ok);
    const port = await startNginx([echo.port, echo.port, echo.port]);
    await rawRequest(port, '/api/models', { headers: { 'x-forwarded-for': '6.6.6.6', 'x-real-ip': '6.6.6.6' }, from: '127.0.0.3' });
    expect(echo.hits[0]!.headers['x-forwarded-for']).toBe('127.0.0.3');
    expect(echo.hits[0]!.headers['x-real-ip']).toBe('127.0.0.3');
  });

  it('gives one X-Request-Id: the client’s safe id or nginx’s own, passed to the instance and echoed once', async () => {
    const parley = await upstream(echoingParley);
    const port = await startNginx([parley.port, parley.port, parley.port]);

    const given = await rawRequest(port, '/api/models', { headers: { 'x-request-id': 'abc-123.x:y_Z' } });
    expect(given.all('x-request-id')).toEqual(['abc-123.x:y_Z']);
    expect(parley.hits.at(-1)!.headers['x-request-id']).toBe('abc-123.x:y_Z');

    const made = await rawRequest(port, '/api/models');
    expect(made.all('x-request-id')).toHaveLength(1);
    expect(made.all('x-request-id')[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(parley.hits.at(-1)!.headers['x-request-id']).toBe(made.all('x-request-id')[0]);

    // Too long or an unsafe alphabet: nginx's own id replaces it before any log sees it.
    for (const headers of [{ 'x-request-id': 'a'.repeat(129) }, { 'x-request-id': 'id with spaces' }, { 'x-request-id': '<script>' }, { 'x-request-id': 'é' }]) {
      const replaced = await rawRequest(port, '/', { headers });
      expect(replaced.all('x-request-id'), JSON.stringify(headers)).toHaveLength(1);
      expect(replaced.all('x-request-id')[0]).toMatch(/^[0-9a-f]{32}$/);
      expect(parley.hits.at(-1)!.headers['x-request-id']).toBe(replaced.all('x-request-id')[0]);
    }
    // Two of them: the instance gets one id (nginx 1.22 keeps the first, later versions join them and so make their own).
    const twice = await rawRequest(port, '/', { headers: { 'x-request-id': ['one', 'two'] } });
    expect(twice.all('x-request-id')).toHaveLength(1);
    expect(twice.all('x-request-id')[0]).toMatch(/^(one|[0-9a-f]{32})$/);
    expect(parley.hits.at(-1)!.headers['x-request-id']).toBe(twice.all('x-request-id')[0]);
    const longest = 'b'.repeat(128);
    expect((await rawRequest(port, '/', { headers: { 'x-request-id': longest } })).all('x-request-id')).toEqual([longest]);
  });

  it('answers every spelling of /metrics with 404 itself, so no instance is asked', async () => {
    const parley = await upstream(echoingParley); // would answer 200 to anything
    const port = await startNginx([parley.port, parley.port, parley.port]);
    for (const target of ['/metrics', '/metrics?name=x', '/metrics/', '//metrics', '/%6Detrics', '/Metrics', '/api/../metrics', '/./metrics', '/metrics;x', '/metrics.txt']) {
      const reply = await rawRequest(port, target, { headers: { 'x-request-id': 'probe-1' } });
      expect(reply.status, target).toBe(404);
      expect(JSON.parse(reply.body), target).toEqual({ detail: 'Not found', code: 'not_found' });
      expect(reply.all('x-request-id'), target).toEqual(['probe-1']);
    }
    const post = await rawRequest(port, '/metrics', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(post.status).toBe(404);
    expect(parley.hits).toEqual([]);
    // Neighbouring paths still reach the instance.
    expect((await rawRequest(port, '/metricsboard')).status).toBe(200);
    expect((await rawRequest(port, '/api/v1/metrics')).status).toBe(200);
    expect(parley.hits.map((h) => h.url)).toEqual(['/metricsboard', '/api/v1/metrics']);
  });

  it('answers in Parley’s error shape when every instance is down or a body is too large', async () => {
    const port = await startNginx([await freePort(), await freePort(), await freePort()]);
    const down = await fetch(`http://127.0.0.1:${port}/api/models`);
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('1');
    expect(await down.json()).toEqual({ detail: expect.any(String), code: 'unavailable' });
    expect((await rawRequest(port, '/api/models', { headers: { 'x-request-id': 'down-1' } })).all('x-request-id')).toEqual(['down-1']);

    // nginx refuses on the declared length alone; no 100 MB body needs sending.
    const tooLarge = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () =>
        socket.write(`POST /api/v1/files/ HTTP/1.1\r\nHost: x\r\nContent-Length: ${FILE_MAX_SIZE_DEFAULT + 1}\r\nConnection: close\r\n\r\n`),
      );
      let data = '';
      // Read the answer and hang up: nginx would otherwise linger for the announced body.
      socket.on('data', (chunk) => {
        data += chunk.toString();
        if (data.includes('"code"')) {
          socket.destroy();
          resolve(data);
        }
      });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(tooLarge).toMatch(/^HTTP\/1\.1 413/);
    expect(tooLarge.match(/^x-request-id:/gim)).toHaveLength(1);
    expect(tooLarge).toContain('"code":"payload_too_large"');
  });

  it('the compose health check for nginx succeeds through it', async () => {
    const health = await upstream(ok);
    const port = await startNginx([health.port, health.port, health.port]);
    const compose = YAML.parse(fs.readFileSync(path.join(deployDir, 'compose.yaml'), 'utf8'), { merge: true });
    const [kind, shell, flag, script] = compose.services.nginx.healthcheck.test as string[];
    expect([kind, shell, flag]).toEqual(['CMD', 'bash', '-c']);
    // Asynchronously: the stand-in upstream answers from this very process.
    const child = spawn('bash', ['-c', script!.replace('/127.0.0.1/8080', `/127.0.0.1/${port}`)], { stdio: 'ignore' });
    const status = await new Promise((resolve) => child.on('exit', resolve));
    expect(status).toBe(0);
    expect(health.hits.map((h) => h.url)).toContain('/health');
  });
});
