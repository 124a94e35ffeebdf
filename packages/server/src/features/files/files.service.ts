import { randomUUID } from 'node:crypto';
import { PassThrough, finished, type Readable } from 'node:stream';
import { httpErrors } from '../../http/errors.js';
import type { FileRow } from '../../platform/db/schema.js';
import type { Platform } from '../../platform/platform.js';
import { ObjectTooLargeError } from '../../platform/storage/object-storage.js';
import { cleanContentType, cleanFilename } from './file-names.js';
import * as repo from './files.repo.js';
import { FILES_PAGE_SIZE } from './files.schema.js';

/** An upload as the route hands it over: the part's claims and its byte stream. */
export interface UploadInput {
  filename: string | undefined;
  contentType: string | undefined;
  body: Readable;
  /** Whether the transport cut the stream short at its own size limit (checked once the stream ended). */
  isTruncated(): boolean;
}

/** The upload stream as storage reads it, and whether it was the incoming side that failed. */
interface GuardedSource {
  stream: Readable;
  hasFailed(): boolean;
}

/**
 * Feeds `source` through a stream we own, so a failing source (client gone,
 * malformed body) is told apart from a failing store, and a failing store
 * leaves the source alone to be drained.
 */
function guardSource(source: Readable): GuardedSource {
  const stream = new PassThrough();
  let hasFailed = false;
  // Storage may not be reading yet when the source fails; the error is kept on the stream for it.
  stream.on('error', () => undefined);
  finished(source, (error) => {
    if (!error) return;
    hasFailed = true;
    stream.destroy(error);
  });
  source.pipe(stream);
  return { stream, hasFailed: () => hasFailed };
}

/** Uploaded files: bytes in object storage under `${userId}/${fileId}`, metadata in the database. */
export function createFilesService(platform: Platform) {
  const { db, storage, clock, config, log } = platform;
  const tooLarge = () => httpErrors.payloadTooLarge(`File is larger than the limit of ${config.FILE_MAX_SIZE} bytes`);

  async function findOwned(userId: string, id: string): Promise<FileRow> {
    const row = await repo.findFileOfUser(db.kysely, userId, id);
    if (!row) throw httpErrors.notFound('File');
    return row;
  }

  async function deleteObjects(keys: string[]): Promise<void> {
    const failures: unknown[] = [];
    // In small batches, so a user with thousands of files does not open thousands of requests at once.
    for (let start = 0; start < keys.length; start += 16) {
      const results = await Promise.allSettled(keys.slice(start, start + 16).map((key) => storage.delete(key)));
      for (const result of results) if (result.status === 'rejected') failures.push(result.reason);
    }
    // The records are gone already; an object left behind is garbage, not a broken file.
    if (failures.length > 0) log.warn({ failed: failures.length, reason: String(failures[0]) }, 'file objects left in storage');
  }

  return {
    /** Streams an upload into storage, then records it; a too-large upload leaves neither object nor record. */
    async upload(userId: string, input: UploadInput): Promise<FileRow> {
      const id = randomUUID();
      const key = `${userId}/${id}`;
      const contentType = cleanContentType(input.contentType);
      const source = guardSource(input.body);
      let stored;
      try {
        stored = await storage.put(key, source.stream, { maxBytes: config.FILE_MAX_SIZE, contentType });
      } catch (error) {
        // Whatever is left of the request is read and dropped, so the response can go out cleanly.
        input.body.resume();
        if (error instanceof ObjectTooLargeError) throw tooLarge();
        if (source.hasFailed()) throw httpErrors.badRequest(`The upload was interrupted or malformed: ${(error as Error).message}`);
        throw error;
      }
      if (input.isTruncated()) {
        await storage.delete(key);
        throw tooLarge();
      }
      const row: FileRow = {
        id,
        user_id: userId,
        filename: cleanFilename(input.filename),
        content_type: contentType,
        size: stored.size,
        storage_key: key,
        sha256: stored.sha256,
        created_at: clock.now(),
      };
      try {
        await repo.insertFile(db.kysely, row);
      } catch (error) {
        await storage.delete(key).catch(() => undefined);
        throw error;
      }
      return row;
    },

    /** The caller's files, newest first; all of them, or one page of FILES_PAGE_SIZE. */
    list(userId: string, page?: number): Promise<FileRow[]> {
      const window = page === undefined ? undefined : { limit: FILES_PAGE_SIZE, offset: (page - 1) * FILES_PAGE_SIZE };
      return repo.listFilesOfUser(db.kysely, userId, window);
    },

    /** One of the caller's files; 404 for anyone else's. */
    get: findOwned,

    /** The record and an open stream of the bytes; 404 when either is missing. */
    async open(userId: string, id: string): Promise<{ file: FileRow; body: Readable }> {
      const file = await findOwned(userId, id);
      const body = await storage.get(file.storage_key);
      if (!body) {
        log.warn({ fileId: id, key: file.storage_key }, 'file record without a stored object');
        throw httpErrors.notFound('File content');
      }
      return { file, body };
    },

    /** Deletes one of the caller's files: the record first, so no reader finds a record without bytes. */
    async delete(userId: string, id: string): Promise<void> {
      const file = await findOwned(userId, id);
      if (!(await repo.deleteFileOfUser(db.kysely, userId, id))) throw httpErrors.notFound('File');
      await deleteObjects([file.storage_key]);
    },

    /** Deletes every file of a user, in storage and in the database; returns how many. */
    async deleteAllForUser(userId: string): Promise<number> {
      const files = await repo.listFilesOfUser(db.kysely, userId);
      await repo.deleteFilesOfUser(db.kysely, userId, files.map((file) => file.id));
      await deleteObjects(files.map((file) => file.storage_key));
      return files.length;
    },
  };
}

export type FilesService = ReturnType<typeof createFilesService>;
