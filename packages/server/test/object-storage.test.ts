import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDiskStorage } from '../src/platform/storage/local-disk-storage.js';
import { ObjectTooLargeError, type ObjectStorage } from '../src/platform/storage/object-storage.js';
import { filesUnder, MiB, sha256, useS3Bucket } from './support/object-storage.js';

const options = { maxBytes: 64 * MiB, contentType: 'application/octet-stream' };

// One contract, both implementations. One s3rver for the file; run once, in the sqlite project (nothing here touches a database).
describe.skipIf(process.env.PARLEY_TEST_DB === 'postgres')('object storage', () => {
  const bucket = useS3Bucket();
  let prefixCount = 0;

  /** The two implementations, each with a way to list what it holds, for the shared expectations. */
  const implementations = [
    {
      name: 'LocalDiskStorage',
      async open() {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-storage-'));
        const storage: ObjectStorage = new LocalDiskStorage(path.join(root, 'uploads'));
        // Relative to the storage root, so a file that escaped it would show as `../...`.
        const stored = async () => filesUnder(root).map((file) => path.relative('uploads', file));
        return { storage, stored, cleanUp: () => fs.rmSync(root, { recursive: true, force: true }) };
      },
    },
    {
      name: 'S3Storage',
      async open() {
        // A prefix per test keeps the tests apart in the one bucket.
        const prefix = `shared-${++prefixCount}/`;
        const storage: ObjectStorage = bucket.storage({ S3_KEY_PREFIX: prefix });
        return { storage, stored: () => bucket.keysUnder(prefix).then((keys) => keys.map((key) => key.slice(prefix.length))), cleanUp: () => undefined };
      },
    },
  ];

  describe.each(implementations)('$name: shared behaviour', ({ open }) => {
    let subject: Awaited<ReturnType<typeof open>>;
    const storage = () => subject.storage;

    beforeAll(async () => {
      subject = await open();
    });
    afterAll(() => subject.cleanUp());

    it('stores, reads back and deletes an object, reporting its size and sha256', async () => {
      const bytes = randomBytes(300_000);
      const stored = await storage().put('user-1/file-1', Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]), options);
      expect(stored).toEqual({ size: bytes.length, sha256: sha256(bytes) });
      expect(await subject.stored()).toEqual([path.join('user-1', 'file-1')]);

      const chunks: Buffer[] = [];
      for await (const chunk of (await storage().get('user-1/file-1'))!) chunks.push(chunk as Buffer);
      expect(Buffer.compare(Buffer.concat(chunks), bytes)).toBe(0);

      await storage().delete('user-1/file-1');
      expect(await storage().get('user-1/file-1')).toBeUndefined();
      expect(await subject.stored()).toEqual([]);
      await expect(storage().delete('user-1/file-1')).resolves.toBeUndefined();
    });

    it('stores an empty object', async () => {
      expect(await storage().put('user-1/empty', Readable.from([]), options)).toEqual({ size: 0, sha256: sha256(Buffer.alloc(0)) });
      expect(await text((await storage().get('user-1/empty'))!)).toBe('');
      await storage().delete('user-1/empty');
    });

    it('answers undefined for an object that was never stored, and deletes it without complaint', async () => {
      expect(await storage().get('nobody/nothing')).toBeUndefined();
      await expect(storage().delete('nobody/nothing')).resolves.toBeUndefined();
    });

    it('replaces an object stored again under the same key', async () => {
      await storage().put('k/1', Readable.from([Buffer.from('first')]), options);
      await storage().put('k/1', Readable.from([Buffer.from('second')]), options);
      expect(await text((await storage().get('k/1'))!)).toBe('second');
      await storage().delete('k/1');
    });

    it('rejects an object past maxBytes and keeps nothing of it', async () => {
      const chunks = Array.from({ length: 10 }, () => randomBytes(1000));
      await expect(storage().put('user-1/big', Readable.from(chunks), { ...options, maxBytes: 4500 })).rejects.toBeInstanceOf(ObjectTooLargeError);
      expect(await storage().get('user-1/big')).toBeUndefined();
      expect(await subject.stored()).toEqual([]);
    });

    it('rejects with the incoming stream’s own error when it fails, and keeps nothing', async () => {
      const failing = new Readable({
        read() {
          this.push(randomBytes(1000));
          this.destroy(new Error('client went away'));
        },
      });
      await expect(storage().put('user-1/broken', failing, options)).rejects.toThrow('client went away');
      expect(await subject.stored()).toEqual([]);
    });

    it.each(['../escape', 'a/../../escape', '/etc/passwd', 'a//b', 'a/', '', '.', 'a/./b', 'a\\b', 'a b', 'é'])(
      'refuses the unsafe key %j for put, get and delete',
      async (key) => {
        await expect(storage().put(key, Readable.from([Buffer.from('x')]), options)).rejects.toThrow(/unsafe object key/);
        await expect(storage().get(key)).rejects.toThrow(/unsafe object key/);
        await expect(storage().delete(key)).rejects.toThrow(/unsafe object key/);
        expect(await subject.stored()).toEqual([]);
      },
    );

    it('reports itself reachable', async () => {
      await expect(storage().ping()).resolves.toBeUndefined();
    });
  });
});
