import path from 'node:path';
import { GuardedStorage, type GuardedStorageOptions } from './guarded-storage.js';
import { LocalDiskStorage } from './local-disk-storage.js';
import type { ObjectStorage } from './object-storage.js';
import { S3Storage, type S3StorageOptions, type S3StorageTuning } from './s3-storage.js';

/** Storage settings as the configuration names them (Open WebUI's variables); a Config object fits as is. */
export type StorageOptions = Partial<S3StorageOptions> & {
  /** `local` (files under DATA_DIR/uploads, one instance) or `s3` (shared by a cluster). */
  STORAGE_PROVIDER: 'local' | 's3';
  DATA_DIR: string;
};

/** Picks the object storage the configuration asks for, failing fast while it is down (GuardedStorage). */
export function createObjectStorage(options: StorageOptions, tuning: S3StorageTuning & GuardedStorageOptions = {}): ObjectStorage {
  return new GuardedStorage(createStore(options, tuning), { log: tuning.log });
}

function createStore(options: StorageOptions, tuning: S3StorageTuning): ObjectStorage {
  if (options.STORAGE_PROVIDER === 'local') return new LocalDiskStorage(path.resolve(options.DATA_DIR, 'uploads'));
  const bucket = options.S3_BUCKET_NAME;
  if (!bucket) throw new Error('S3_BUCKET_NAME is required when STORAGE_PROVIDER=s3');
  return new S3Storage({ ...options, S3_BUCKET_NAME: bucket }, tuning);
}
