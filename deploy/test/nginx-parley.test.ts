// Debian's nginx on the shipped nginx.conf in front of a real Parley started with the
// shipped TRUST_PROXY (compose.yaml's): the client's address, the request id and
// /metrics as the whole chain handles them. The client connects from 127.0.0.3 while
// nginx connects to Parley from 127.0.0.1, so the address Parley records tells which
// hop it believed. Skipped when /usr/sbin/nginx is missing unless PARLEY_REQUIRE_NGINX=1.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { startTestApp, type TestApp } from '../../packages/server/test/support/test-app.js';
import type { AuditPage, Session } from '../../packages/server/test/support/wire.js';
import { NginxRunner, nginxAvailable, rawRequest } from './nginx-support.js';
import { deployDir } from './support.js';

const compose = YAML.parse(fs.readFileSync(path.join(deployDir, 'compose.yaml'), 'utf8'), { merge: true });
const shippedTrustProxy = String(compose.services['parley-1'].environment.TRUST_PROXY);
const clientAddress = '127.0.0.3';

describe.skipIf(!nginxAvailable())('nginx.conf in front of Parley', () => {
  const runner = new NginxRunner();
  let parley: TestApp;
  let port: number;
  let admin: Session;

  /** The audit entry of the sign-up of the account `target`. */
  async function auditOf(target: string) {
    const page = await parley.request<AuditPage>('GET', `/api/v1/audit/?action=auth.signup&target=${target}`, { token: admin.token });
    expect(page.status).toBe(200);
    return page.body.events[0]!;
  }

  beforeAll(async () => {
    // Without METRICS_PORT, so that Parley itself would serve /metrics on the port nginx proxies to.
    parley = await startTestApp({ TRUST_PROXY: shippedTrustProxy });
    const parleyPort = Number(new URL(parley.url).port);
    port = await runner.start([parleyPort, parleyPort, parleyPort]);
    const first = await parley.request<Session>('POST', '/api/v1/auths/signup', { body: { email: 'admin@example.com', password: 'correct horse battery', name: 'Admin' } });
    expect(first.status).toBe(200);
    admin = first.body;
  });
  afterAll(async () => {
    runner.stopAll();
    await parley?.close();
  });

  /** Signs up through nginx from the client address with `headers`. */
  async function signUpThroughNginx(headers: Record<string, string>) {
    const reply = await rawRequest(port, '/api/v1/auths/signup', {
      method: 'POST',
      from: clientAddress,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ email: `u-${Math.random().toString(36).slice(2)}@example.com`, password: 'correct horse battery', name: 'Through nginx' }),
    });
    expect(reply.status, reply.body).toBe(200);
    return { reply, event: await auditOf((JSON.parse(reply.body) as Session).id) };
  }

  it('records the client’s address, not one the client wrote into X-Forwarded-For, nor nginx’s', async () => {
    const { event } = await signUpThroughNginx({ 'x-forwarded-for': '6.6.6.6', 'x-real-ip': '6.6.6.6' });
    expect(event.ip).toBe(clientAddress);
  });

  it('returns one X-Request-Id, the one Parley logged and stored: the client’s when safe, else nginx’s', async () => {
    const given = await signUpThroughNginx({ 'x-request-id': 'client-req-42' });
    expect(given.reply.all('x-request-id')).toEqual(['client-req-42']);
    expect(given.event.request_id).toBe('client-req-42');

    const unsafe = await signUpThroughNginx({ 'x-request-id': 'x'.repeat(2000) });
    expect(unsafe.reply.all('x-request-id')).toHaveLength(1);
    expect(unsafe.reply.all('x-request-id')[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(unsafe.event.request_id).toBe(unsafe.reply.all('x-request-id')[0]);

    const none = await signUpThroughNginx({});
    expect(none.reply.all('x-request-id')).toHaveLength(1);
    expect(none.event.request_id).toBe(none.reply.all('x-request-id')[0]);
  });

  it('keeps /metrics away from the public edge even when the instance serves it on its main port', async () => {
    expect((await fetch(`${parley.url}/metrics`)).status).toBe(200); // directly: Parley would answer
    const reply = await rawRequest(port, '/metrics', { from: clientAddress });
    expect(reply.status).toBe(404);
    expect(reply.body).not.toContain('parley_');
    expect(reply.all('x-request-id')).toHaveLength(1);
  });
});
