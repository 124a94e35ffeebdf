import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ObjectStorageUnavailableError, ObjectTooLargeError } from '../src/platform/storage/object-storage.js';
import { LocalDiskStorage } from '../src/platform/storage/local-disk-storage.js';
import { filesUnder } from './support/object-storage.js';

const options = { maxBytes: 1024 * 1024, contentType: 'application/octet-stream' };

describe('LocalDiskStorage', () => {
  let root: string;
  let storage: LocalDiskStorage;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-storage-'));
    storage = new LocalDiskStorage(path.join(root, 'uploads'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('stores, reads back and deletes an object, reporting its size and sha256', async () => {
    const bytes = randomBytes(300_000);
    const stored = await storage.put('user-1/file-1', Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]), options);
    expect(stored).toEqual({ size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    expect(filesUnder(path.join(root, 'uploads'))).toEqual([path.join('user-1', 'file-1')]);

    const stream = await storage.get('user-1/file-1');
    const chunks: Buffer[] = [];
    for await (const chunk of stream!) chunks.push(chunk as Buffer);
    expect(Buffer.compare(Buffer.concat(chunks), bytes)).toBe(0);

    await storage.delete('user-1/file-1');
    expect(await storage.get('user-1/file-1')).toBeUndefined();
    await expect(storage.delete('user-1/file-1')).resolves.toBeUndefined();
  });

  it('answers undefined for an object that was never stored', async () => {
    expect(await storage.get('nobody/nothing')).toBeUndefined();
  });

  it('replaces an object stored again under the same key', async () => {
    await storage.put('k/1', Readable.from([Buffer.from('first')]), options);
    await storage.put('k/1', Readable.from([Buffer.from('second')]), options);
    expect(await text((await storage.get('k/1'))!)).toBe('second');
  });

  it('rejects an object past maxBytes and leaves no file behind, not even a .part', async () => {
    const chunks = Array.from({ length: 10 }, () => randomBytes(1000));
    await expect(storage.put('user-1/big', Readable.from(chunks), { ...options, maxBytes: 4500 })).rejects.toBeInstanceOf(ObjectTooLargeError);
    expect(filesUnder(path.join(root, 'uploads'))).toEqual([]);
    expect(await storage.get('user-1/big')).toBeUndefined();
  });

  it('leaves no file behind when the incoming stream fails', async () => {
    const failing = new Readable({
      read() {
        this.push(randomBytes(1000));
        this.destroy(new Error('client went away'));
      },
    });
    await expect(storage.put('user-1/broken', failing, options)).rejects.toThrow('client went away');
    expect(filesUnder(path.join(root, 'uploads'))).toEqual([]);
  });

  it.each(['../escape', 'a/../../escape', '/etc/passwd', 'a//b', 'a/', '', '.', 'a/./b', 'a\\b', 'a b', 'é'])(
    'refuses the unsafe key %j for put, get and delete',
    async (key) => {
      await expect(storage.put(key, Readable.from([Buffer.from('x')]), options)).rejects.toThrow(/unsafe object key/);
      await expect(storage.get(key)).rejects.toThrow(/unsafe object key/);
      await expect(storage.delete(key)).rejects.toThrow(/unsafe object key/);
      expect(filesUnder(root)).toEqual([]);
      expect(fs.existsSync(path.join(root, 'escape'))).toBe(false);
    },
  );

  it('reports itself reachable', async () => {
    await expect(storage.ping()).resolves.toBeUndefined();
  });

  it('reports a folder it can no longer write to as unavailable, as every storage does', async () => {
    fs.rmSync(path.join(root, 'uploads'), { recursive: true });
    await expect(storage.ping()).rejects.toThrow(ObjectStorageUnavailableError);
  });
});
