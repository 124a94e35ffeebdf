import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, type TestUser } from './support/factories.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import type { AdminConfig, PublicConfig } from './support/wire.js';

/** The directives of a Content-Security-Policy header, by name. */
function cspOf(headers: Headers): Map<string, string[]> {
  const header = headers.get('content-security-policy');
  expect(header, 'Content-Security-Policy').toBeTruthy();
  return new Map(
    header!
      .split(';')
      .map((directive) => directive.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name!, values]),
  );
}

// The page's one inline script (the theme, set before the first paint) and its CSP hash.
const inlineScript = "document.documentElement.dataset.theme = 'dark';";
const inlineScriptHash = `'sha256-${createHash('sha256').update(inlineScript).digest('base64')}'`;

/** The headers every response must carry, whatever it is. */
function expectSecurityHeaders(headers: Headers, what: string): void {
  expect(headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(headers.get('x-frame-options'), what).toBe('DENY');
  expect(headers.get('referrer-policy'), what).toBe('same-origin');
  expect(headers.get('permissions-policy'), what).toMatch(/camera=\(\).*microphone=\(\).*geolocation=\(\)/);
  const csp = cspOf(headers);
  expect(csp.get('default-src'), what).toEqual(["'self'"]);
  // Scripts from the server's own files, plus exactly the page's own inline script.
  expect(csp.get('script-src'), what).toEqual(["'self'", inlineScriptHash]);
  expect(csp.get('style-src'), what).toEqual(["'self'"]);
  expect(csp.get('style-src-elem'), what).toEqual(["'self'"]);
  expect(csp.get('script-src-attr'), what).toEqual(["'none'"]);
  expect(csp.get('frame-ancestors'), what).toEqual(["'none'"]);
  expect(csp.get('connect-src'), what).toEqual(["'self'"]);
  expect(csp.get('object-src'), what).toEqual(["'none'"]);
  expect(csp.get('img-src'), what).toEqual(["'self'", 'data:', 'blob:']);
}

describe('security headers', () => {
  let app: TestApp;
  let admin: TestUser;
  let webRoot: string;

  beforeAll(async () => {
    webRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-web-'));
    fs.mkdirSync(path.join(webRoot, 'assets'));
    fs.writeFileSync(
      path.join(webRoot, 'index.html'),
      `<!doctype html><title>Parley</title><script>${inlineScript}</script><script type="module" src="/assets/app-abc123.js"></script><div id="root"></div>`,
    );
    fs.writeFileSync(path.join(webRoot, 'assets', 'app-abc123.js'), 'console.log("hi")');
    app = await startTestApp({}, { webRoot });
    admin = await signUp(app);
  });
  afterAll(async () => {
    await app.close();
    fs.rmSync(webRoot, { recursive: true, force: true });
  });

  it('are on the page, a static asset, a client-side route, API JSON and errors', async () => {
    const responses = {
      page: await fetch(`${app.url}/`),
      route: await fetch(`${app.url}/c/some-chat`),
      asset: await fetch(`${app.url}/assets/app-abc123.js`),
      api: await fetch(`${app.url}/api/v1/auths/`, { headers: { authorization: `Bearer ${admin.token}` } }),
      unauthenticated: await fetch(`${app.url}/api/v1/auths/`),
      notFound: await fetch(`${app.url}/api/v1/nothing-here`),
      health: await fetch(`${app.url}/health`),
    };
    expect(responses.page.status).toBe(200);
    expect(responses.asset.status).toBe(200);
    expect(responses.api.status).toBe(200);
    expect(responses.unauthenticated.status).toBe(401);
    expect(responses.notFound.status).toBe(404);
    for (const [what, response] of Object.entries(responses)) expectSecurityHeaders(response.headers, what);
  });

  it('send no HSTS over plain HTTP', async () => {
    const response = await fetch(`${app.url}/`);
    expect(response.headers.get('strict-transport-security')).toBeNull();
    expect(cspOf(response.headers).has('upgrade-insecure-requests')).toBe(false);
  });

  it('let pages load remote images only once an admin allows them', async () => {
    const before = await app.request<PublicConfig>('GET', '/api/config');
    expect(before.body.features.enable_remote_images).toBe(false);
    expect((await app.request<AdminConfig>('GET', '/api/v1/auths/admin/config', { token: admin.token })).body.ENABLE_REMOTE_IMAGES).toBe(false);

    const changed = await app.request<AdminConfig>('POST', '/api/v1/auths/admin/config', { token: admin.token, body: { ENABLE_REMOTE_IMAGES: true } });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ ENABLE_REMOTE_IMAGES: true, ENABLE_SIGNUP: true });
    expect((await app.request<PublicConfig>('GET', '/api/config')).body.features.enable_remote_images).toBe(true);
    const page = await fetch(`${app.url}/c/some-chat`);
    expect(cspOf(page.headers).get('img-src')).toEqual(["'self'", 'data:', 'blob:', 'https:', 'http:']);
    // Everything else in the policy stays as strict.
    expect(cspOf(page.headers).get('script-src')).toEqual(["'self'", inlineScriptHash]);

    await app.request('POST', '/api/v1/auths/admin/config', { token: admin.token, body: { ENABLE_REMOTE_IMAGES: false } });
    expect(cspOf((await fetch(`${app.url}/`)).headers).get('img-src')).toEqual(["'self'", 'data:', 'blob:']);
  });

  it('only admins change the remote-image setting', async () => {
    const user = await signUp(app);
    const refused = await app.request('POST', '/api/v1/auths/admin/config', { token: user.token, body: { ENABLE_REMOTE_IMAGES: true } });
    expect(refused.status).toBe(403);
  });
});

describe('security headers behind HTTPS', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ WEBUI_SESSION_COOKIE_SECURE: 'true', ENABLE_REMOTE_IMAGES: 'true' });
  });
  afterAll(() => app.close());

  it('add HSTS and upgrade-insecure-requests; the environment can allow remote images from the start', async () => {
    const response = await fetch(`${app.url}/health`);
    expect(response.headers.get('strict-transport-security')).toBe('max-age=31536000');
    expect(cspOf(response.headers).has('upgrade-insecure-requests')).toBe(true);
    expect((await app.request<PublicConfig>('GET', '/api/config')).body.features.enable_remote_images).toBe(true);
  });
});
