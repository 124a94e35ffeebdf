import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ObjectStorageUnavailableError, ObjectTooLargeError, type ObjectStorage, type StoredObject } from './object-storage.js';

/** Rejects keys that could escape the storage root. */
export function assertSafeKey(key: string): void {
  if (!/^[A-Za-z0-9._\-/]+$/.test(key) || key.split('/').some((part) => part === '..' || part === '.' || part === '')) {
    throw new Error(`unsafe object key: ${key}`);
  }
}

/** Counts and hashes bytes as they pass; fails past maxBytes. */
export function meteringStream(maxBytes: number): Transform & { result(): StoredObject } {
  const hash = createHash('sha256');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > maxBytes) return callback(new ObjectTooLargeError(maxBytes));
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  return Object.assign(stream, { result: () => ({ size, sha256: hash.digest('hex') }) });
}

/** ObjectStorage on the local file system, for the embedded default. */
export class LocalDiskStorage implements ObjectStorage {
  constructor(private readonly root: string) {
    fs.mkdirSync(root, { recursive: true });
  }

  async put(key: string, body: Readable, options: { maxBytes: number }): Promise<StoredObject> {
    const target = this.pathOf(key);
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    // Written beside the target and renamed, so a reader never sees half a file.
    const temporary = `${target}.${randomUUID()}.part`;
    const meter = meteringStream(options.maxBytes);
    // Opened here rather than by the write stream: a stream still opening when the
    // pipeline fails would create the file after the clean-up below removed it.
    const handle = await fs.promises.open(temporary, 'wx');
    try {
      await pipeline(body, meter, handle.createWriteStream());
      await fs.promises.rename(temporary, target);
    } catch (error) {
      await handle.close().catch(() => undefined);
      await fs.promises.rm(temporary, { force: true });
      throw error;
    }
    return meter.result();
  }

  async get(key: string): Promise<Readable | undefined> {
    // Opened before returning, so a delete racing the caller cannot turn into a stream error later.
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(this.pathOf(key), 'r');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw error;
    }
    return handle.createReadStream();
  }

  async delete(key: string): Promise<void> {
    await fs.promises.rm(this.pathOf(key), { force: true });
  }

  async ping(): Promise<void> {
    try {
      await fs.promises.access(this.root, fs.constants.W_OK);
    } catch (error) {
      throw new ObjectStorageUnavailableError(error instanceof Error ? error.message : String(error), error);
    }
  }

  private pathOf(key: string): string {
    assertSafeKey(key);
    return path.join(this.root, key);
  }
}
