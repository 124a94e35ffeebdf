import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestUser } from './support/factories.js';
import { startWithUsers } from './support/start-with-users.js';
import type { ApiResponse, TestApp } from './support/test-app.js';
import type { ErrorBody, Session, UploadedFile } from './support/wire.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Posts a multipart form the way a browser would; `Body` is the answer expected. */
async function postForm<Body = UploadedFile>(app: TestApp, token: string, form: FormData): Promise<ApiResponse<Body>> {
  const response = await fetch(`${app.url}/api/v1/files/`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Body };
}

/** Uploads bytes as the form field `file`. */
function upload<Body = UploadedFile>(app: TestApp, user: TestUser, bytes: Uint8Array<ArrayBuffer>, filename: string, type = 'application/octet-stream') {
  const form = new FormData();
  form.append('file', new Blob([bytes], { type }), filename);
  return postForm<Body>(app, user.token, form);
}

/** Every file under the storage root, relative to it (including any `.part` left behind). */
function storedObjects(app: TestApp): string[] {
  const root = path.resolve(app.parley.platform.config.DATA_DIR, 'uploads');
  return fs.existsSync(root) ? fs.readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name))) : [];
}

function objectPath(app: TestApp, userId: string, fileId: string): string {
  return path.resolve(app.parley.platform.config.DATA_DIR, 'uploads', userId, fileId);
}

async function fileRows(app: TestApp, userId: string) {
  return app.parley.platform.db.kysely.selectFrom('files').selectAll().where('user_id', '=', userId).execute();
}

describe('files', () => {
  let app: TestApp;
  let user: TestUser;
  let other: TestUser;

  beforeAll(async () => {
    ({ app, admin: other, user } = await startWithUsers());
  });
  afterAll(() => app.close());

  it('round-trips a multi-megabyte upload byte for byte, with its sha256', async () => {
    const bytes = randomBytes(5 * 1024 * 1024 + 123);
    const created = await upload(app, user, bytes, 'data.bin');
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      user_id: user.id,
      filename: 'data.bin',
      hash: sha256(bytes),
      meta: { name: 'data.bin', content_type: 'application/octet-stream', size: bytes.length },
    });
    expect(Math.abs(created.body.created_at - Date.now() / 1000)).toBeLessThan(60);
    expect(fs.statSync(objectPath(app, user.id, created.body.id)).size).toBe(bytes.length);

    const download = await fetch(`${app.url}/api/v1/files/${created.body.id}/content`, { headers: { authorization: `Bearer ${user.token}` } });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-length')).toBe(String(bytes.length));
    expect(download.headers.get('x-content-type-options')).toBe('nosniff');
    const received = new Uint8Array(await download.arrayBuffer());
    expect(received.length).toBe(bytes.length);
    expect(sha256(received)).toBe(sha256(bytes));
    expect(Buffer.compare(received, bytes)).toBe(0);
  });

  it('keeps the display name and type, and encodes non-ASCII names per RFC 5987', async () => {
    const created = await upload(app, user, new TextEncoder().encode('hello'), '../..\\evil\\résumé (final).txt', 'text/plain');
    expect(created.body.filename).toBe('résumé (final).txt');
    expect(created.body.meta.name).toBe('résumé (final).txt');
    const download = await fetch(`${app.url}/api/v1/files/${created.body.id}/content`, { headers: { authorization: `Bearer ${user.token}` } });
    expect(download.headers.get('content-type')).toMatch(/^text\/plain/);
    const disposition = download.headers.get('content-disposition')!;
    expect(disposition).toMatch(/^inline; filename="r_sum_ \(final\).txt"; /);
    expect(disposition).toContain(`filename*=UTF-8''r%C3%A9sum%C3%A9%20%28final%29.txt`);
    expect(await download.text()).toBe('hello');
  });

  it('serves active content (HTML, SVG) as an octet-stream attachment', async () => {
    const active = [
      ['page.html', 'text/html'],
      ['image.svg', 'image/svg+xml'],
      ['page.xhtml', 'application/xhtml+xml'],
      ['feed.xml', 'application/xml'],
      ['app.js', 'text/javascript'],
    ] as const;
    for (const [name, type] of active) {
      const created = await upload(app, user, new TextEncoder().encode('<script>alert(1)</script>'), name, type);
      expect(created.body.meta.content_type).toBe(type);
      const download = await fetch(`${app.url}/api/v1/files/${created.body.id}/content`, { headers: { authorization: `Bearer ${user.token}` } });
      expect(download.headers.get('content-type')).toBe('application/octet-stream');
      expect(download.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="${name}"`));
      expect(download.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const image = await upload(app, user, randomBytes(64), 'photo.png', 'image/png');
    const shown = await fetch(`${app.url}/api/v1/files/${image.body.id}/content`, { headers: { authorization: `Bearer ${user.token}` } });
    expect(shown.headers.get('content-type')).toBe('image/png');
    expect(shown.headers.get('content-disposition')).toMatch(/^inline; filename="photo.png"/);
    expect(shown.headers.get('cache-control')).toMatch(/private/);
  });

  it('lists only the caller\'s files, newest first, with paging', async () => {
    const first = await upload(app, other, new Uint8Array([1]), 'first.txt');
    const second = await upload(app, other, new Uint8Array([2]), 'second.txt');
    const list = await app.request<UploadedFile[]>('GET', '/api/v1/files/', { token: other.token });
    expect(list.status).toBe(200);
    expect(list.body.map((f) => f.id)).toEqual([second.body.id, first.body.id]);
    const page1 = await app.request('GET', '/api/v1/files/?page=1', { token: other.token });
    expect(page1.body).toHaveLength(2);
    const page2 = await app.request('GET', '/api/v1/files/?page=2', { token: other.token });
    expect(page2.body).toEqual([]);
    expect((await app.request('GET', '/api/v1/files/?page=0', { token: other.token })).status).toBe(400);
    const mine = await app.request<UploadedFile[]>('GET', '/api/v1/files/', { token: user.token });
    expect(mine.body.every((f) => f.user_id === user.id)).toBe(true);
    expect(mine.body.some((f) => f.id === first.body.id)).toBe(false);
  });

  it('returns metadata, then deletes the record and the object', async () => {
    const created = await upload(app, user, randomBytes(2048), 'gone.bin');
    const meta = await app.request('GET', `/api/v1/files/${created.body.id}`, { token: user.token });
    expect(meta.status).toBe(200);
    expect(meta.body).toEqual(created.body);
    const file = objectPath(app, user.id, created.body.id);
    expect(fs.existsSync(file)).toBe(true);

    const deleted = await app.request('DELETE', `/api/v1/files/${created.body.id}`, { token: user.token });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ status: true });
    expect(fs.existsSync(file)).toBe(false);
    expect((await app.request('GET', `/api/v1/files/${created.body.id}`, { token: user.token })).status).toBe(404);
    expect((await app.request('DELETE', `/api/v1/files/${created.body.id}`, { token: user.token })).status).toBe(404);
  });

  it('hides another user\'s file: 404 for metadata, content and delete, and leaves it intact', async () => {
    const bytes = randomBytes(1000);
    const theirs = await upload(app, other, bytes, 'private.bin');
    for (const [method, suffix] of [['GET', ''], ['GET', '/content'], ['DELETE', '']] as const) {
      const response = await app.request<ErrorBody>(method, `/api/v1/files/${theirs.body.id}${suffix}`, { token: user.token });
      expect(response.status).toBe(404);
      expect(response.body.detail).toMatch(/not found/i);
    }
    const download = await fetch(`${app.url}/api/v1/files/${theirs.body.id}/content`, { headers: { authorization: `Bearer ${other.token}` } });
    expect(Buffer.compare(new Uint8Array(await download.arrayBuffer()), bytes)).toBe(0);
    expect((await fileRows(app, other.id)).some((row) => row.id === theirs.body.id)).toBe(true);
  });

  it('answers 404 JSON for unknown ids and for a record whose object is missing', async () => {
    expect((await app.request('GET', '/api/v1/files/not-a-file/content', { token: user.token })).status).toBe(404);
    const created = await upload(app, user, randomBytes(10), 'lost.bin');
    fs.rmSync(objectPath(app, user.id, created.body.id));
    const response = await app.request<ErrorBody>('GET', `/api/v1/files/${created.body.id}/content`, { token: user.token });
    expect(response.status).toBe(404);
    expect(response.body.code).toBe('not_found');
  });

  it('rejects a non-multipart body and a form without a file part as 4xx JSON, storing nothing', async () => {
    const rowsBefore = (await fileRows(app, user.id)).length;
    const objectsBefore = storedObjects(app).length;
    const json = await app.request<ErrorBody>('POST', '/api/v1/files/', { token: user.token, body: { file: 'not a file' } });
    expect(json.status).toBe(415);
    expect(typeof json.body.detail).toBe('string');
    const text = await app.request<ErrorBody>('POST', '/api/v1/files/', { token: user.token, body: 'plain', headers: { 'content-type': 'text/plain' } });
    expect([400, 415]).toContain(text.status);
    expect(typeof text.body.detail).toBe('string');
    const fieldsOnly = new FormData();
    fieldsOnly.append('name', 'no file here');
    const missing = await postForm<ErrorBody>(app, user.token, fieldsOnly);
    expect(missing.status).toBe(400);
    expect(missing.body.detail).toMatch(/file/);
    const broken = await app.request('POST', '/api/v1/files/', {
      token: user.token,
      body: '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nunterminated',
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
    });
    expect(broken.status).toBe(400);
    const noBoundary = await app.request('POST', '/api/v1/files/', { token: user.token, body: 'x', headers: { 'content-type': 'multipart/form-data' } });
    expect(noBoundary.status).toBe(400);
    expect((await fileRows(app, user.id)).length).toBe(rowsBefore);
    expect(storedObjects(app).length).toBe(objectsBefore);
  });

  it('keeps nothing of an upload the client abandons halfway', async () => {
    const rowsBefore = (await fileRows(app, user.id)).length;
    const objectsBefore = storedObjects(app);
    const boundary = 'parleytestboundary';
    const encoder = new TextEncoder();
    const controller = new AbortController();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(stream) {
        if (sent === 0) stream.enqueue(encoder.encode(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="half.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`));
        if (sent >= 8) {
          controller.abort();
          return;
        }
        stream.enqueue(randomBytes(64 * 1024));
        sent++;
        await new Promise((resolve) => setTimeout(resolve, 10));
      },
    });
    const request = fetch(`${app.url}/api/v1/files/`, {
      method: 'POST',
      body,
      signal: controller.signal,
      headers: { authorization: `Bearer ${user.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      duplex: 'half',
    } as RequestInit);
    await expect(request).rejects.toThrow();
    // The server notices the closed connection asynchronously.
    await expect.poll(() => storedObjects(app), { timeout: 2000 }).toEqual(objectsBefore);
    expect((await fileRows(app, user.id)).length).toBe(rowsBefore);
    expect((await app.request('GET', '/api/v1/files/', { token: user.token })).status).toBe(200);
  });

  it('deletes all of the caller\'s files and none of anyone else\'s', async () => {
    const mine = await upload(app, user, randomBytes(100), 'a.bin');
    const theirs = await upload(app, other, randomBytes(100), 'b.bin');
    const response = await app.request('DELETE', '/api/v1/files/all', { token: user.token });
    expect(response.status).toBe(200);
    expect(await fileRows(app, user.id)).toEqual([]);
    expect(storedObjects(app).some((key) => key.startsWith(user.id))).toBe(false);
    expect(fs.existsSync(objectPath(app, user.id, mine.body.id))).toBe(false);
    expect(fs.existsSync(objectPath(app, other.id, theirs.body.id))).toBe(true);
  });

  it('refuses pending users and anonymous callers', async () => {
    expect((await app.request('GET', '/api/v1/files/')).status).toBe(401);
    const pendingSignup = await app.request<Session>('POST', '/api/v1/auths/signup', { body: { email: 'pending-files@example.com', password: 'long enough pw', name: 'P' } });
    expect((await app.request('GET', '/api/v1/files/', { token: pendingSignup.body.token })).status).toBe(403);
  });
});

describe('files over the size limit', () => {
  let app: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    ({ app, user } = await startWithUsers({ FILE_MAX_SIZE: '1024' }));
  });
  afterAll(() => app.close());

  it('answers 413 and keeps neither a record nor an object (nor a .part)', async () => {
    const response = await upload<ErrorBody>(app, user, randomBytes(64 * 1024), 'big.bin');
    expect(response.status).toBe(413);
    expect(response.body.code).toBe('payload_too_large');
    expect(await fileRows(app, user.id)).toEqual([]);
    expect(storedObjects(app)).toEqual([]);
  });

  it('accepts a file of exactly the limit', async () => {
    const bytes = randomBytes(1024);
    const response = await upload(app, user, bytes, 'exact.bin');
    expect(response.status).toBe(200);
    expect(response.body.hash).toBe(sha256(bytes));
    expect(response.body.meta.size).toBe(1024);
  });
});
