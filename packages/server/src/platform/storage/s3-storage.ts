import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { assertSafeKey, meteringStream } from './local-disk-storage.js';
import { ObjectStorageUnavailableError, type ObjectStorage, type StoredObject } from './object-storage.js';
import { describeS3Failure, isMissingObject } from './s3-errors.js';

/** S3 settings, named and typed after Open WebUI's environment variables. */
export interface S3StorageOptions {
  /** Endpoint of an S3-compatible store (MinIO, Ceph, R2...); unset for AWS itself. */
  S3_ENDPOINT_URL?: string | undefined;
  S3_BUCKET_NAME: string;
  /** Unset: `us-east-1`, following the bucket's region when AWS redirects. */
  S3_REGION_NAME?: string | undefined;
  /** With S3_SECRET_ACCESS_KEY; both unset: the SDK's default credential chain (env, profile, IAM role). */
  S3_ACCESS_KEY_ID?: string | undefined;
  S3_SECRET_ACCESS_KEY?: string | undefined;
  /** Prepended to every key, joined with one `/`. */
  S3_KEY_PREFIX?: string | undefined;
  /** `path` (bucket in the path), `virtual` (bucket in the host name), `auto`: path with a custom endpoint, else virtual. */
  S3_ADDRESSING_STYLE?: 'path' | 'virtual' | 'auto' | undefined;
}

/** Knobs with safe defaults, set by tests and the composition root rather than by users. */
export interface S3StorageTuning {
  /** Multipart part size; S3's minimum is 5 MiB. Memory per upload is about (queueSize + 2) parts. */
  partSize?: number;
  /** Parts uploaded at once per upload. */
  queueSize?: number;
  connectionTimeoutMs?: number;
  /** Longest wait for a response's headers, the request body included. */
  requestTimeoutMs?: number;
  /** Longest silence on an open socket, downloads included. */
  socketTimeoutMs?: number;
  /** Bound on ping() as a whole, retries included, so readiness answers promptly. */
  pingTimeoutMs?: number;
  /** Told when an aborted upload could not be cleaned up (the bucket's lifecycle rule must then reap it). */
  log?: { warn(details: object, message: string): void };
}

const defaults = {
  partSize: 5 * 1024 * 1024,
  queueSize: 2,
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 60_000,
  socketTimeoutMs: 60_000,
  // Within readiness' own bound (2 s), so a store that stops answering is known to be down by then.
  pingTimeoutMs: 2_000,
} satisfies S3StorageTuning;

/** `a/b/` from ` /a//b/ `; empty when there is no prefix. */
export function normalizeKeyPrefix(prefix: string | undefined): string {
  const parts = (prefix ?? '').split('/').filter((part) => part.trim() !== '');
  return parts.length === 0 ? '' : `${parts.join('/')}/`;
}

/** Builds the SDK client from Open WebUI-style settings. */
export function createS3Client(options: S3StorageOptions, tuning: S3StorageTuning = {}): S3Client {
  const hasKeyId = Boolean(options.S3_ACCESS_KEY_ID);
  if (hasKeyId !== Boolean(options.S3_SECRET_ACCESS_KEY)) {
    throw new Error('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set together (or both left unset for the default credential chain)');
  }
  const style = options.S3_ADDRESSING_STYLE ?? 'auto';
  const config: S3ClientConfig = {
    region: options.S3_REGION_NAME || 'us-east-1',
    followRegionRedirects: !options.S3_REGION_NAME,
    forcePathStyle: style === 'path' || (style === 'auto' && Boolean(options.S3_ENDPOINT_URL)),
    // Many S3-compatible stores reject or cannot produce the newer default checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // NodeHttpHandler's options; without throwOnRequestTimeout a breached requestTimeout only logs a warning.
    requestHandler: {
      connectionTimeout: tuning.connectionTimeoutMs ?? defaults.connectionTimeoutMs,
      requestTimeout: tuning.requestTimeoutMs ?? defaults.requestTimeoutMs,
      throwOnRequestTimeout: true,
      socketTimeout: tuning.socketTimeoutMs ?? defaults.socketTimeoutMs,
    },
  };
  if (options.S3_ENDPOINT_URL) config.endpoint = options.S3_ENDPOINT_URL;
  if (options.S3_ACCESS_KEY_ID && options.S3_SECRET_ACCESS_KEY) {
    config.credentials = { accessKeyId: options.S3_ACCESS_KEY_ID, secretAccessKey: options.S3_SECRET_ACCESS_KEY };
  }
  return new S3Client(config);
}

/** ObjectStorage on an S3-compatible bucket, shared by every instance of a cluster. */
export class S3Storage implements ObjectStorage {
  /** The SDK client; public so tests can observe the commands sent. */
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly where: string;
  private readonly tuning: S3StorageTuning & typeof defaults;

  constructor(options: S3StorageOptions, tuning: S3StorageTuning = {}) {
    if (!options.S3_BUCKET_NAME) throw new Error('S3_BUCKET_NAME is required for S3 object storage');
    this.tuning = { ...defaults, ...tuning };
    this.client = createS3Client(options, tuning);
    this.bucket = options.S3_BUCKET_NAME;
    this.prefix = normalizeKeyPrefix(options.S3_KEY_PREFIX);
    this.where = `S3 bucket "${this.bucket}"${options.S3_ENDPOINT_URL ? ` at ${options.S3_ENDPOINT_URL}` : ''}`;
  }

  async put(key: string, body: Readable, options: { maxBytes: number; contentType: string }): Promise<StoredObject> {
    const objectKey = this.keyOf(key);
    const meter = meteringStream(options.maxBytes);
    let bodyError: unknown;
    // The callback form, because the upload consumes `meter`; a failure on either side destroys both.
    pipeline(body, meter, (error) => {
      if (error && bodyError === undefined && error.code !== 'ERR_STREAM_PREMATURE_CLOSE') bodyError = error;
    });
    meter.on('error', (error) => (bodyError ??= error));
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: objectKey, Body: meter, ContentType: options.contentType },
      partSize: this.tuning.partSize,
      queueSize: this.tuning.queueSize,
      // Cleaned up below instead, so a failing abort cannot hide why the upload failed.
      leavePartsOnError: true,
    });
    try {
      await upload.done();
    } catch (error) {
      meter.destroy();
      if (upload.uploadId) await this.abortMultipart(objectKey, upload.uploadId);
      // The incoming stream's own failure (too large, client gone) explains the upload's.
      if (bodyError !== undefined) throw bodyError;
      throw new ObjectStorageUnavailableError(`could not store "${objectKey}" in ${this.where}: ${describeS3Failure(error)}`, error);
    }
    return meter.result();
  }

  async get(key: string): Promise<Readable | undefined> {
    const objectKey = this.keyOf(key);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      // On Node the SDK answers with the response stream itself (an IncomingMessage).
      return response.Body as Readable;
    } catch (error) {
      if (isMissingObject(error)) return undefined;
      throw new ObjectStorageUnavailableError(`could not read "${objectKey}" from ${this.where}: ${describeS3Failure(error)}`, error);
    }
  }

  async delete(key: string): Promise<void> {
    const objectKey = this.keyOf(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey }));
    } catch (error) {
      if (isMissingObject(error)) return;
      throw new ObjectStorageUnavailableError(`could not delete "${objectKey}" from ${this.where}: ${describeS3Failure(error)}`, error);
    }
  }

  async ping(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), {
        abortSignal: AbortSignal.timeout(this.tuning.pingTimeoutMs),
      });
    } catch (error) {
      throw new ObjectStorageUnavailableError(`${this.where} is not reachable: ${describeS3Failure(error)}`, error);
    }
  }

  /** Releases the client's sockets. */
  close(): void {
    this.client.destroy();
  }

  private keyOf(key: string): string {
    assertSafeKey(key);
    return this.prefix + key;
  }

  private async abortMultipart(objectKey: string, uploadId: string): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: objectKey, UploadId: uploadId }));
    } catch (error) {
      this.tuning.log?.warn({ key: objectKey, uploadId, reason: describeS3Failure(error) }, 'could not abort a failed multipart upload; its parts stay until the bucket lifecycle reaps them');
    }
  }
}
