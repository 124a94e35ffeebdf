import { sql, type Kysely } from 'kysely';
import type { Database, NewUser, UserRow, UserUpdate } from '../../platform/db/schema.js';
import type { ListUsersQuery } from './users.schema.js';

type Q = Kysely<Database>;

/** `%`, `_` and the escape character itself, made literal for LIKE … ESCAPE '\'. */
function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function matching(db: Q, search: string | undefined) {
  let query = db.selectFrom('users');
  if (search) {
    const pattern = likePattern(search);
    query = query.where((eb) =>
      eb.or([
        eb(sql<string>`lower(name)`, 'like', sql<string>`${pattern} escape '\\'`),
        eb(sql<string>`lower(email)`, 'like', sql<string>`${pattern} escape '\\'`),
      ]),
    );
  }
  return query;
}

/** One page of users matching the search, and how many match in all. */
export async function listUsers(db: Q, options: ListUsersQuery): Promise<{ users: UserRow[]; total: number }> {
  const { order_by: orderBy, direction } = options;
  // Names sort case-insensitively, the same way on SQLite and PostgreSQL whatever the collation.
  const sortKey = orderBy === 'name' ? sql`lower(name)` : sql.ref(orderBy);
  const users = await matching(db, options.query)
    .selectAll()
    .orderBy(sortKey, direction)
    .orderBy('id', direction)
    .limit(options.limit)
    .offset((options.page - 1) * options.limit)
    .execute();
  const count = await matching(db, options.query)
    .select((eb) => eb.fn.countAll<number | string>().as('total'))
    .executeTakeFirstOrThrow();
  return { users, total: Number(count.total) };
}

/** Finds a user by id. */
export function findUserById(db: Q, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Finds a user by (lower-cased) email. */
export function findUserByEmail(db: Q, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
}

/**
 * The ids of all admins. With `lock` (PostgreSQL) their rows stay locked until
 * the transaction ends, so two admins demoting or deleting each other at once
 * cannot both pass the last-admin check; SQLite transactions are serial already.
 */
export async function adminIds(db: Q, lock: boolean): Promise<string[]> {
  const rows = await db
    .selectFrom('users')
    .select('id')
    .where('role', '=', 'admin')
    .$if(lock, (query) => query.forUpdate())
    .execute();
  return rows.map((row) => row.id);
}

/** Inserts a user. */
export async function insertUser(db: Q, user: NewUser): Promise<void> {
  await db.insertInto('users').values(user).execute();
}

/** Applies changes to a user. */
export async function updateUser(db: Q, id: string, changes: UserUpdate): Promise<void> {
  await db.updateTable('users').set(changes).where('id', '=', id).execute();
}

/** Deletes the user row itself; false when it was already gone. */
export async function deleteUserRow(db: Q, id: string): Promise<boolean> {
  const result = await db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
