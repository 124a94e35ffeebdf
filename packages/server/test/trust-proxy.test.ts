// TRUST_PROXY decides which X-Forwarded-For entry is the client's address (the audit log's `ip`,
// the rate limiters' key). The test client plays the proxy nearest to Parley (it connects from
// 127.0.0.1) and sends the chain a client and the proxies would have built: `spoofed` is what the
// client wrote itself, the entries to its right are what each proxy appended.
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/test-app.js';
import type { AuditPage, Session } from './support/wire.js';

const spoofed = '6.6.6.6';
const client = '203.0.113.7'; // appended by the outer proxy: the client's real address
const outerProxy = '10.1.2.3'; // appended by the inner proxy (the outer proxy's address)

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** Starts Parley with TRUST_PROXY=`trustProxy`, signs up once with `forwardedFor` and returns the address the audit log recorded. */
async function recordedAddress(trustProxy: string, forwardedFor: string): Promise<string | null> {
  app = await startTestApp({ TRUST_PROXY: trustProxy });
  const signUp = await app.request<Session>('POST', '/api/v1/auths/signup', {
    body: { email: 'first@example.com', password: 'correct horse battery', name: 'Admin' },
    headers: { 'x-forwarded-for': forwardedFor },
  });
  expect(signUp.status).toBe(200);
  const audit = await app.request<AuditPage>('GET', `/api/v1/audit/?action=auth.signup&target=${signUp.body.id}`, { token: signUp.body.token });
  expect(audit.status).toBe(200);
  return audit.body.events[0]!.ip;
}

describe('TRUST_PROXY', () => {
  it('1: the entry the one trusted proxy appended is the address; what the client wrote to its left is ignored', async () => {
    expect(await recordedAddress('1', `${spoofed}, ${client}`)).toBe(client);
  });

  it('2: two proxies (a load balancer, then nginx): the entry the outer one appended', async () => {
    expect(await recordedAddress('2', `${spoofed}, ${client}, ${outerProxy}`)).toBe(client);
  });

  it('a list of ranges: entries are walked from the right while they are trusted proxies', async () => {
    expect(await recordedAddress('127.0.0.1, 10.0.0.0/8', `${spoofed}, ${client}, ${outerProxy}`)).toBe(client);
    await app!.close();
    // Only the socket's peer is a listed proxy: its X-Forwarded-For entry is the client's address.
    expect(await recordedAddress('loopback', `${spoofed}, ${client}`)).toBe(client);
  });

  it('true trusts every entry, so the leftmost, client-written one wins (why SECURITY.md advises against it)', async () => {
    expect(await recordedAddress('true', `${spoofed}, ${client}`)).toBe(spoofed);
  });

  it('false (the default) ignores X-Forwarded-For: the address is the socket peer', async () => {
    expect(await recordedAddress('false', `${spoofed}, ${client}`)).toBe('127.0.0.1');
  });
});
