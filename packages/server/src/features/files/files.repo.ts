import type { Kysely } from 'kysely';
import type { Database, FileRow } from '../../platform/db/schema.js';

type Q = Kysely<Database>;

/** Inserts a file's record (after its object is stored). */
export async function insertFile(db: Q, file: FileRow): Promise<void> {
  await db.insertInto('files').values(file).execute();
}

/** One of a user's files; another user's id finds nothing. */
export function findFileOfUser(db: Q, userId: string, id: string): Promise<FileRow | undefined> {
  return db.selectFrom('files').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
}

/** A user's files, newest first; `page` limits it to one page. */
export function listFilesOfUser(db: Q, userId: string, page?: { limit: number; offset: number }): Promise<FileRow[]> {
  let query = db
    .selectFrom('files')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc');
  if (page) query = query.limit(page.limit).offset(page.offset);
  return query.execute();
}

/** Deletes one of a user's file records; false when there was none. */
export async function deleteFileOfUser(db: Q, userId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('files').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Deletes the given records of a user. */
export async function deleteFilesOfUser(db: Q, userId: string, ids: string[]): Promise<void> {
  // In slices, to stay far below SQLite's and PostgreSQL's limits on bound parameters.
  for (let start = 0; start < ids.length; start += 500) {
    const slice = ids.slice(start, start + 500);
    await db.deleteFrom('files').where('user_id', '=', userId).where('id', 'in', slice).execute();
  }
}
