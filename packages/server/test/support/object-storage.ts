import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';
import { createS3Client, S3Storage, type S3StorageOptions, type S3StorageTuning } from '../../src/platform/storage/s3-storage.js';
import { S3RVER_CREDENTIALS, startS3Server, type S3TestServer } from './s3-server.js';

export const MiB = 1024 * 1024;

/** The bucket `useS3Bucket` creates. */
export const BUCKET = 'parley-test';

/** The sha256 of `bytes`, in hex, as the storages report it. */
export const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Every file below `root`, relative to it; none when it does not exist. */
export function filesUnder(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)));
}

/**
 * A bucket on its own s3rver for the enclosing suite: started before its tests, stopped after them,
 * with the storages made through it closed.
 */
export function useS3Bucket() {
  let server: S3TestServer | undefined;
  let admin: S3Client | undefined;
  const opened: S3Storage[] = [];

  /** Settings that reach the bucket, with `overrides`. */
  const options = (overrides: Partial<S3StorageOptions> = {}): S3StorageOptions => ({
    S3_ENDPOINT_URL: server!.endpoint,
    S3_BUCKET_NAME: BUCKET,
    S3_REGION_NAME: 'us-east-1',
    ...S3RVER_CREDENTIALS,
    S3_ADDRESSING_STYLE: 'path',
    ...overrides,
  });

  beforeAll(async () => {
    server = await startS3Server();
    admin = createS3Client(options());
    await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });
  afterAll(async () => {
    for (const storage of opened) storage.close();
    admin?.destroy();
    await server?.close();
  });

  return {
    options,
    /** The running s3rver. */
    server: () => server!,
    /** A client to look behind the storage. */
    admin: () => admin!,
    /** An S3Storage on the bucket (closed with the suite). */
    storage(overrides: Partial<S3StorageOptions> = {}, tuning: S3StorageTuning = {}): S3Storage {
      const storage = new S3Storage(options(overrides), tuning);
      opened.push(storage);
      return storage;
    },
    /** Closes `storage` with the suite. */
    track(storage: S3Storage): void {
      opened.push(storage);
    },
    /** Every key in the bucket under `prefix`. */
    async keysUnder(prefix = ''): Promise<string[]> {
      const listing = await admin!.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
      return (listing.Contents ?? []).map((object) => object.Key!).sort();
    },
    /** Multipart uploads begun and neither completed nor aborted. */
    async pendingUploads() {
      return (await admin!.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? [];
    },
  };
}
