import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { text } from 'node:stream/consumers';
import { AbortMultipartUploadCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it, vi } from 'vitest';
import { createObjectStorage } from '../src/platform/storage/create-storage.js';
import { GuardedStorage } from '../src/platform/storage/guarded-storage.js';
import { LocalDiskStorage } from '../src/platform/storage/local-disk-storage.js';
import { ObjectStorageUnavailableError, ObjectTooLargeError } from '../src/platform/storage/object-storage.js';
import { createS3Client, normalizeKeyPrefix, S3Storage } from '../src/platform/storage/s3-storage.js';
import { BUCKET, filesUnder, MiB, sha256, useS3Bucket } from './support/object-storage.js';
import { closedPort } from './support/ports.js';
import { startTcpProxy } from './support/tcp-proxy.js';

const options = { maxBytes: 64 * MiB, contentType: 'application/octet-stream' };

/** A body of `totalBytes` random bytes made chunk by chunk as it is read, never held whole. */
function generatedBody(totalBytes: number, chunkBytes = 64 * 1024): { stream: Readable; sha256(): string; produced(): number } {
  const hash = createHash('sha256');
  let produced = 0;
  const stream = new Readable({
    read() {
      if (produced >= totalBytes) return void this.push(null);
      const chunk = randomBytes(Math.min(chunkBytes, totalBytes - produced));
      produced += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, sha256: () => hash.digest('hex'), produced: () => produced };
}

/** Reads a stream through, returning its size and sha256 without keeping the bytes. */
async function digestOf(stream: Readable): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    hash.update(chunk as Buffer);
  }
  return { size, sha256: hash.digest('hex') };
}

// V8 frees Buffers' memory only when it collects, which it may put off for tens of megabytes; collecting
// before each sample makes the resident set size show what is really held.
v8.setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** How far memory rose while `work` ran, sampled after a collection: the process as a whole, and Buffers alone. */
async function peakMemoryGrowth(work: () => Promise<void>): Promise<{ rss: number; buffers: number }> {
  const sample = () => {
    collectGarbage();
    const usage = process.memoryUsage();
    return { rss: usage.rss, buffers: usage.arrayBuffers };
  };
  const before = sample();
  const peak = { ...before };
  const sampler = setInterval(() => {
    const now = sample();
    peak.rss = Math.max(peak.rss, now.rss);
    peak.buffers = Math.max(peak.buffers, now.buffers);
  }, 20);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  return { rss: peak.rss - before.rss, buffers: peak.buffers - before.buffers };
}

/** Names of the S3 commands a storage sends, in order. */
function recordCommands(storage: S3Storage): string[] {
  const names: string[] = [];
  storage.client.middlewareStack.add(
    (next, context) => async (args) => {
      names.push(String(context.commandName).replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: 'recordCommandNames' },
  );
  return names;
}

// What only the S3 implementation shows (the behaviour both share is in object-storage.test.ts).
// One s3rver for the file; run once, in the sqlite project (nothing here touches a database).
describe.skipIf(process.env.PARLEY_TEST_DB === 'postgres')('object storage', () => {
  const bucket = useS3Bucket();
  const { options: s3Options, storage: s3Storage, keysUnder, pendingUploads } = bucket;

  describe('S3Storage', () => {
    it('round-trips a multi-megabyte object in parts, bytes, size and sha256 intact', async () => {
      const storage = s3Storage({ S3_KEY_PREFIX: 'round-trip' });
      const commands = recordCommands(storage);
      const bytes = randomBytes(12 * MiB + 12345);
      const chunks = Array.from({ length: Math.ceil(bytes.length / 100_000) }, (_, i) => bytes.subarray(i * 100_000, (i + 1) * 100_000));
      const stored = await storage.put('user-1/big', Readable.from(chunks), { ...options, contentType: 'application/pdf' });
      expect(stored).toEqual({ size: bytes.length, sha256: sha256(bytes) });
      // 5 MiB parts: two full ones and the rest.
      expect(commands).toEqual(['CreateMultipartUpload', 'UploadPart', 'UploadPart', 'UploadPart', 'CompleteMultipartUpload']);

      const head = await bucket.admin().send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'round-trip/user-1/big' }));
      expect(head.ContentLength).toBe(bytes.length);
      expect(head.ContentType).toBe('application/pdf');
      const chunksRead: Buffer[] = [];
      for await (const chunk of (await storage.get('user-1/big'))!) chunksRead.push(chunk as Buffer);
      expect(Buffer.compare(Buffer.concat(chunksRead), bytes)).toBe(0);
    });

    it('stores a small object with a single PUT', async () => {
      const storage = s3Storage({ S3_KEY_PREFIX: 'single' });
      const commands = recordCommands(storage);
      await storage.put('user-1/small', Readable.from([Buffer.from('hello')]), { ...options, contentType: 'text/plain' });
      expect(commands).toEqual(['PutObject']);
      const head = await bucket.admin().send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'single/user-1/small' }));
      expect(head.ContentType).toBe('text/plain');
    });

    it('streams a large upload and download: memory stays bounded, the source is read only as parts are sent', async () => {
      const partSize = 5 * MiB;
      const queueSize = 2;
      const storage = s3Storage({ S3_KEY_PREFIX: 'streamed' }, { partSize, queueSize });
      // Warm up the client and its sockets, so the measurement sees the transfer only.
      await storage.put('warm/up', Readable.from([randomBytes(1000)]), options);
      const size = 100 * MiB;
      const body = generatedBody(size);
      const uploads = path.join(bucket.server().directory, BUCKET, '._S3rver_uploads');
      let largestLead = 0;
      let received = 0;
      const watchLead = setInterval(() => {
        // Bytes taken from the source that s3rver has not written yet: parts being filled or in flight.
        // (Kept at its largest: s3rver removes the parts once it has joined them.)
        const parts = filesUnder(uploads).filter((file) => /\/\d+$/.test(file));
        received = Math.max(received, parts.reduce((sum, file) => sum + (fs.statSync(path.join(uploads, file), { throwIfNoEntry: false })?.size ?? 0), 0));
        largestLead = Math.max(largestLead, body.produced() - received);
      }, 5);
      let stored: { size: number; sha256: string } | undefined;
      const uploadGrowth = await peakMemoryGrowth(async () => {
        stored = await storage.put('user-1/stream', body.stream, { ...options, maxBytes: size });
      }).finally(() => clearInterval(watchLead));
      expect(stored).toEqual({ size, sha256: body.sha256() });

      let read: { size: number; sha256: string } | undefined;
      const downloadGrowth = await peakMemoryGrowth(async () => {
        read = await digestOf((await storage.get('user-1/stream'))!);
      });
      expect(read).toEqual(stored);
      const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
      console.info(
        `${size / MiB} MiB object: largest lead ${mib(largestLead)}; growth on upload ${mib(uploadGrowth.rss)} rss, ${mib(uploadGrowth.buffers)} buffers; ` +
          `on download ${mib(downloadGrowth.rss)} rss, ${mib(downloadGrowth.buffers)} buffers`,
      );
      // The exact bound: the parts in flight, the one being filled, and stream buffers, whatever the size.
      expect(largestLead).toBeLessThan((queueSize + 2) * partSize);
      // Memory: a whole object held would be 100 MiB or more; half leaves room for the collector's and
      // the allocator's slack and for s3rver, which runs in this process (peaks seen: about 40 MiB up, 13 to 28 MiB down).
      expect(Math.max(uploadGrowth.rss, uploadGrowth.buffers)).toBeLessThan(size / 2);
      expect(Math.max(downloadGrowth.rss, downloadGrowth.buffers)).toBeLessThan(size / 2);
    }, 60_000);

    it('applies S3_KEY_PREFIX, normalised to one slash', async () => {
      const storage = s3Storage({ S3_KEY_PREFIX: '/tenant-a//files/' });
      await storage.put('user-1/file-1', Readable.from([Buffer.from('prefixed')]), options);
      expect(await keysUnder('tenant-a')).toEqual(['tenant-a/files/user-1/file-1']);
      expect(await text((await s3Storage({ S3_KEY_PREFIX: 'tenant-a/files' }).get('user-1/file-1'))!)).toBe('prefixed');
      expect(await s3Storage({ S3_KEY_PREFIX: 'tenant-b' }).get('user-1/file-1')).toBeUndefined();
      expect(await s3Storage({ S3_KEY_PREFIX: '' }).get('user-1/file-1')).toBeUndefined();
      await storage.delete('user-1/file-1');
      expect(await keysUnder('tenant-a')).toEqual([]);
    });

    it('aborts a multipart upload that grows past maxBytes: no object, no upload in progress, no parts kept', async () => {
      const storage = s3Storage({ S3_KEY_PREFIX: 'too-large' });
      const commands = recordCommands(storage);
      const body = generatedBody(20 * MiB);
      await expect(storage.put('user-1/big', body.stream, { ...options, maxBytes: 12 * MiB })).rejects.toBeInstanceOf(ObjectTooLargeError);
      // Two 5 MiB parts went up before the limit was crossed, so there was something to abort.
      expect(commands).toEqual(['CreateMultipartUpload', 'UploadPart', 'UploadPart', 'AbortMultipartUpload']);
      expect(body.stream.destroyed).toBe(true);
      expect(await keysUnder('too-large')).toEqual([]);
      expect(await pendingUploads()).toEqual([]);
      expect(filesUnder(path.join(bucket.server().directory, BUCKET, '._S3rver_uploads'))).toEqual([]);
      expect(await storage.get('user-1/big')).toBeUndefined();
    });

    it('rejects an upload past maxBytes within the first part without sending anything', async () => {
      const storage = s3Storage({ S3_KEY_PREFIX: 'too-large-small' });
      const commands = recordCommands(storage);
      await expect(storage.put('user-1/big', generatedBody(MiB).stream, { ...options, maxBytes: 100_000 })).rejects.toBeInstanceOf(ObjectTooLargeError);
      expect(commands).toEqual([]);
    });

    it('aborts the multipart upload when the incoming stream fails midway, and rejects with that failure', async () => {
      const storage = s3Storage({ S3_KEY_PREFIX: 'broken' });
      const commands = recordCommands(storage);
      let sent = 0;
      const failing = new Readable({
        read() {
          if (sent >= 12 * MiB) return void this.destroy(new Error('client went away'));
          sent += 256 * 1024;
          this.push(randomBytes(256 * 1024));
        },
      });
      await expect(storage.put('user-1/broken', failing, options)).rejects.toThrow('client went away');
      expect(commands.at(-1)).toBe('AbortMultipartUpload');
      expect(await keysUnder('broken')).toEqual([]);
      expect(await pendingUploads()).toEqual([]);
    });

    it('still rejects with ObjectTooLargeError when the abort itself fails, and says what was left', async () => {
      const warn = vi.fn();
      const storage = s3Storage({ S3_KEY_PREFIX: 'abort-fails' }, { log: { warn } });
      storage.client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'AbortMultipartUploadCommand') throw Object.assign(new Error('store went away'), { name: 'InternalError' });
          return next(args);
        },
        { step: 'initialize', name: 'failAborts' },
      );
      await expect(storage.put('user-1/big', generatedBody(20 * MiB).stream, { ...options, maxBytes: 7 * MiB })).rejects.toBeInstanceOf(ObjectTooLargeError);
      const [left] = await pendingUploads();
      expect(left?.Key).toBe('abort-fails/user-1/big');
      expect(warn).toHaveBeenCalledWith(
        { key: 'abort-fails/user-1/big', uploadId: left?.UploadId, reason: 'store went away' },
        expect.stringContaining('could not abort'),
      );
      // Cleaned up here, as the bucket's lifecycle rule would.
      await s3Storage().client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: left!.Key!, UploadId: left!.UploadId! }));
      expect(await pendingUploads()).toEqual([]);
    });

    it.each(['../x', '/abs', 'a//b'])('refuses the unsafe key %j before any request', async (key) => {
      const storage = s3Storage();
      const commands = recordCommands(storage);
      // Pointed at nothing, so reaching the network would fail differently.
      const unreachable = s3Storage({ S3_ENDPOINT_URL: `http://127.0.0.1:${await closedPort()}` });
      for (const subject of [storage, unreachable]) {
        await expect(subject.put(key, Readable.from([Buffer.from('x')]), options)).rejects.toThrow(/unsafe object key/);
        await expect(subject.get(key)).rejects.toThrow(/unsafe object key/);
        await expect(subject.delete(key)).rejects.toThrow(/unsafe object key/);
      }
      expect(commands).toEqual([]);
    });

    it('fails fast with a clear error when the store is not listening', async () => {
      const endpoint = `http://127.0.0.1:${await closedPort()}`;
      const storage = s3Storage({ S3_ENDPOINT_URL: endpoint });
      const started = Date.now();
      const failure = await storage.ping().catch((error: unknown) => error);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(failure).toBeInstanceOf(ObjectStorageUnavailableError);
      expect((failure as Error).message).toMatch(new RegExp(`S3 bucket "${BUCKET}" at ${endpoint} is not reachable: .*ECONNREFUSED`));

      const body = generatedBody(MiB);
      await expect(storage.put('user-1/file', body.stream, options)).rejects.toThrow(/Object storage unavailable: could not store "user-1\/file" .*ECONNREFUSED/);
      // The caller's stream is released rather than left paused.
      expect(body.stream.destroyed).toBe(true);
      await expect(storage.get('user-1/file')).rejects.toThrow(ObjectStorageUnavailableError);
      await expect(storage.delete('user-1/file')).rejects.toThrow(ObjectStorageUnavailableError);
      expect(Date.now() - started).toBeLessThan(10_000);
    }, 15_000);

    it('times out against a store that accepts connections but never answers', async () => {
      const sockets = new Set<net.Socket>();
      const silent = net.createServer((socket) => sockets.add(socket.on('error', () => undefined)));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const port = (silent.address() as net.AddressInfo).port;
        const storage = s3Storage({ S3_ENDPOINT_URL: `http://127.0.0.1:${port}` }, { requestTimeoutMs: 300, pingTimeoutMs: 1_000 });
        let started = Date.now();
        await expect(storage.ping()).rejects.toThrow(/is not reachable: timed out/);
        expect(Date.now() - started).toBeLessThan(2_000);
        started = Date.now();
        await expect(storage.get('user-1/file')).rejects.toThrow(/could not read "user-1\/file" .*timed out/);
        expect(Date.now() - started).toBeLessThan(5_000);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
    }, 15_000);

    it('says so when the bucket is missing or the credentials are wrong', async () => {
      await expect(s3Storage({ S3_BUCKET_NAME: 'no-such-bucket' }).ping()).rejects.toThrow(/S3 bucket "no-such-bucket" .* is not reachable: the bucket does not exist/);
      await expect(s3Storage({ S3_BUCKET_NAME: 'no-such-bucket' }).get('user-1/file')).rejects.toThrow(ObjectStorageUnavailableError);
      await expect(s3Storage({ S3_ACCESS_KEY_ID: 'WRONG', S3_SECRET_ACCESS_KEY: 'WRONG' }).ping()).rejects.toThrow(/access denied/);
    });

    it('recovers by itself once the store is back', async () => {
      const proxy = await startTcpProxy({ host: '127.0.0.1', port: bucket.server().port });
      try {
        const storage = s3Storage({ S3_ENDPOINT_URL: `http://127.0.0.1:${proxy.port}`, S3_KEY_PREFIX: 'outage' });
        await storage.put('user-1/file', Readable.from([Buffer.from('kept')]), options);
        await proxy.cut();
        await expect(storage.ping()).rejects.toThrow(ObjectStorageUnavailableError);
        await expect(storage.get('user-1/file')).rejects.toThrow(ObjectStorageUnavailableError);
        await proxy.restore();
        await expect(storage.ping()).resolves.toBeUndefined();
        expect(await text((await storage.get('user-1/file'))!)).toBe('kept');
      } finally {
        await proxy.close();
      }
    });
  });

  describe('configuration', () => {
    it.each([
      [{ S3_ADDRESSING_STYLE: 'path' as const }, true],
      [{ S3_ADDRESSING_STYLE: 'virtual' as const }, false],
      [{ S3_ADDRESSING_STYLE: 'auto' as const }, true],
      [{ S3_ADDRESSING_STYLE: undefined }, true],
      [{ S3_ADDRESSING_STYLE: 'auto' as const, S3_ENDPOINT_URL: undefined }, false],
      [{ S3_ADDRESSING_STYLE: 'path' as const, S3_ENDPOINT_URL: undefined }, true],
    ])('%j uses path-style addressing: %s', async (overrides, isPathStyle) => {
      const client = createS3Client(s3Options(overrides));
      expect(client.config.forcePathStyle).toBe(isPathStyle);
      client.destroy();
    });

    it('uses the given credentials and region, or the defaults', async () => {
      const client = createS3Client(s3Options({ S3_REGION_NAME: 'eu-west-3' }));
      expect(await client.config.region()).toBe('eu-west-3');
      expect(await client.config.credentials()).toMatchObject({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
      const bare = createS3Client({ S3_BUCKET_NAME: BUCKET });
      expect(await bare.config.region()).toBe('us-east-1');
      expect(bare.config.followRegionRedirects).toBe(true);
      client.destroy();
      bare.destroy();
    });

    it('refuses half a set of credentials and a missing bucket', () => {
      expect(() => createS3Client(s3Options({ S3_SECRET_ACCESS_KEY: undefined }))).toThrow(/must be set together/);
      expect(() => new S3Storage(s3Options({ S3_BUCKET_NAME: '' }))).toThrow(/S3_BUCKET_NAME is required/);
      expect(() => createObjectStorage({ STORAGE_PROVIDER: 's3', DATA_DIR: os.tmpdir() })).toThrow(/S3_BUCKET_NAME is required when STORAGE_PROVIDER=s3/);
    });

    it('normalises the key prefix', () => {
      expect(normalizeKeyPrefix(undefined)).toBe('');
      expect(normalizeKeyPrefix('')).toBe('');
      expect(normalizeKeyPrefix('/')).toBe('');
      expect(normalizeKeyPrefix('parley')).toBe('parley/');
      expect(normalizeKeyPrefix('/a//b/')).toBe('a/b/');
    });

    it('creates the storage the provider names', async () => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-create-storage-'));
      try {
        const local = createObjectStorage({ STORAGE_PROVIDER: 'local', DATA_DIR: dataDir });
        expect(local).toBeInstanceOf(GuardedStorage);
        expect((local as GuardedStorage).store).toBeInstanceOf(LocalDiskStorage);
        await local.put('user-1/file', Readable.from([Buffer.from('on disk')]), options);
        expect(fs.readFileSync(path.join(dataDir, 'uploads', 'user-1', 'file'), 'utf8')).toBe('on disk');

        const remote = createObjectStorage({ STORAGE_PROVIDER: 's3', DATA_DIR: dataDir, ...s3Options({ S3_KEY_PREFIX: 'created' }) });
        const store = (remote as GuardedStorage).store;
        expect(store).toBeInstanceOf(S3Storage);
        bucket.track(store as S3Storage);
        await remote.put('user-1/file', Readable.from([Buffer.from('in the bucket')]), options);
        expect(await keysUnder('created')).toEqual(['created/user-1/file']);
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
});
