import type { Readable } from 'node:stream';

/** What storing an object produced. */
export interface StoredObject {
  size: number;
  sha256: string;
}

/** Thrown by put() when the stream exceeds maxBytes; nothing is left stored. */
export class ObjectTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`object exceeds ${maxBytes} bytes`);
  }
}

/**
 * The store failed or could not be reached: what every implementation throws then, so that
 * requests needing it answer a retryable 503 whichever storage is configured.
 */
export class ObjectStorageUnavailableError extends Error {
  constructor(message: string, cause?: unknown) {
    super(`Object storage unavailable: ${message}`, { cause });
    this.name = 'ObjectStorageUnavailableError';
  }
}

/**
 * Blob storage for uploaded files: local disk for the embedded default,
 * S3-compatible storage at scale. Objects are streamed, never held whole in memory.
 */
export interface ObjectStorage {
  /** Streams `body` to `key`; rejects with ObjectTooLargeError past maxBytes. */
  put(key: string, body: Readable, options: { maxBytes: number; contentType: string }): Promise<StoredObject>;
  /** Opens a stream of the object, or undefined when it does not exist. */
  get(key: string): Promise<Readable | undefined>;
  /** Removes the object; absent objects are not an error. */
  delete(key: string): Promise<void>;
  /** Resolves when the storage is reachable; rejects with ObjectStorageUnavailableError when not. */
  ping(): Promise<void>;
  /** Releases connections, where there are any. */
  close?(): void | Promise<void>;
}
