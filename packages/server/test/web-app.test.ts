import fs from 'node:fs';
import { gzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/test-app.js';
import { jsonOf, type ErrorBody } from './support/wire.js';

describe('serving the web app', () => {
  let app: TestApp;
  let webRoot: string;

  beforeAll(async () => {
    webRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-web-'));
    fs.mkdirSync(path.join(webRoot, 'assets'));
    fs.writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>Parley</title><div id="root"></div>');
    fs.writeFileSync(path.join(webRoot, 'assets', 'app-abc123.js'), 'console.log("hi")');
    fs.writeFileSync(path.join(webRoot, 'assets', 'app-abc123.js.gz'), gzipSync('console.log("hi")'));
    app = await startTestApp({}, { webRoot });
  });
  afterAll(async () => {
    await app.close();
    fs.rmSync(webRoot, { recursive: true, force: true });
  });

  it('serves index.html at / and for client-side routes, never cached', async () => {
    for (const page of ['/', '/c/some-chat-id', '/admin/users']) {
      const response = await fetch(app.url + page);
      expect(response.status, page).toBe(200);
      expect(await response.text()).toContain('<title>Parley</title>');
      expect(response.headers.get('cache-control')).toBe('no-cache');
    }
  });

  it('serves hashed assets with a long cache', async () => {
    const response = await fetch(`${app.url}/assets/app-abc123.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/javascript/);
    expect(response.headers.get('cache-control')).toContain('immutable');
    expect(response.headers.get('content-encoding')).toBe('gzip');
    expect(await response.text()).toBe('console.log("hi")');
  });

  it('keeps JSON 404s for unknown API paths and does not leak files outside the root', async () => {
    const api = await fetch(`${app.url}/api/v1/nothing-here`);
    expect(api.status).toBe(404);
    expect((await jsonOf<ErrorBody>(api)).detail).toBeTruthy();
    const traversal = await fetch(`${app.url}/assets/..%2f..%2fetc%2fpasswd`);
    expect(await traversal.text()).not.toContain('root:');
  });
});
