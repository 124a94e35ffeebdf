import { sql, type Kysely, type Updateable } from 'kysely';
import type { ChatRow, ChatsTable, Database, MessageRow, MessagesTable } from '../../platform/db/schema.js';

type Q = Kysely<Database>;

// Rows per insert statement: 13 parameters each stays far below SQLite's and PostgreSQL's limits.
const insertChunk = 500;

/** Which of a user's chats a listing shows. */
export interface ChatFilter {
  isArchived?: boolean;
  isPinned?: boolean;
  /** Matches the title or any message's content, case-insensitively. */
  text?: string;
}

/** The columns a chat listing needs; never the messages. */
export type ChatSummary = Pick<ChatRow, 'id' | 'title' | 'is_pinned' | 'is_archived' | 'created_at' | 'updated_at'>;

/** `%text%` for LIKE with the wildcards in `text` escaped (the escape character is a backslash). */
function containsPattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** One page of a user's chats, newest activity first. */
export function listChats(db: Q, userId: string, filter: ChatFilter, page: { limit: number; offset: number }): Promise<ChatSummary[]> {
  let query = db
    .selectFrom('chats')
    .select(['chats.id', 'chats.title', 'chats.is_pinned', 'chats.is_archived', 'chats.created_at', 'chats.updated_at'])
    .where('chats.user_id', '=', userId);
  if (filter.isArchived !== undefined) query = query.where('chats.is_archived', '=', filter.isArchived ? 1 : 0);
  if (filter.isPinned !== undefined) query = query.where('chats.is_pinned', '=', filter.isPinned ? 1 : 0);
  if (filter.text) {
    const pattern = containsPattern(filter.text);
    query = query.where((eb) =>
      eb.or([
        sql<boolean>`lower(${sql.ref('chats.title')}) like ${pattern} escape '\\'`,
        eb.exists(
          eb
            .selectFrom('messages')
            .select(sql<number>`1`.as('one'))
            .whereRef('messages.chat_id', '=', 'chats.id')
            .where(sql<boolean>`lower(${sql.ref('messages.content')}) like ${pattern} escape '\\'`),
        ),
      ]),
    );
  }
  return query.orderBy('chats.updated_at', 'desc').orderBy('chats.id', 'desc').limit(page.limit).offset(page.offset).execute();
}

/** A chat of `userId`, or undefined (also for another user's chat). */
export function findChat(db: Q, userId: string, chatId: string): Promise<ChatRow | undefined> {
  return db.selectFrom('chats').selectAll().where('id', '=', chatId).where('user_id', '=', userId).executeTakeFirst();
}

/** The next `limit` chats of a user after `afterId`, in id order (an export's pages: an edit cannot move a chat past the cursor). */
export function listChatsAfter(db: Q, userId: string, afterId: string | null, limit: number): Promise<ChatRow[]> {
  let query = db.selectFrom('chats').selectAll().where('user_id', '=', userId);
  if (afterId !== null) query = query.where('id', '>', afterId);
  return query.orderBy('id').limit(limit).execute();
}

/** Inserts a chat. */
export async function insertChat(db: Q, chat: ChatRow): Promise<void> {
  await db.insertInto('chats').values(chat).execute();
}

/** Changes a user's chat; false when it does not exist. */
export async function updateChat(db: Q, userId: string, chatId: string, patch: Updateable<ChatsTable>): Promise<boolean> {
  const result = await db.updateTable('chats').set(patch).where('id', '=', chatId).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Flips a 0/1 flag of a user's chat in one statement; false when the chat does not exist. */
export async function toggleChatFlag(db: Q, userId: string, chatId: string, flag: 'is_pinned' | 'is_archived', now: number): Promise<boolean> {
  const result = await db
    .updateTable('chats')
    .set({ [flag]: sql<number>`1 - ${sql.ref(flag)}`, updated_at: now })
    .where('id', '=', chatId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Archives or unarchives all of a user's chats. */
export async function setAllArchived(db: Q, userId: string, isArchived: boolean, now: number): Promise<void> {
  await db
    .updateTable('chats')
    .set({ is_archived: isArchived ? 1 : 0, updated_at: now })
    .where('user_id', '=', userId)
    .where('is_archived', '=', isArchived ? 0 : 1)
    .execute();
}

/** Sets the title only while it is still `untouched`. */
export async function setTitleIfUnchanged(db: Q, chatId: string, untouched: string, title: string): Promise<void> {
  await db.updateTable('chats').set({ title }).where('id', '=', chatId).where('title', '=', untouched).execute();
}

/** Bumps a chat's activity time (internal callers). */
export async function touchChat(db: Q, chatId: string, now: number): Promise<void> {
  await db.updateTable('chats').set({ updated_at: now }).where('id', '=', chatId).execute();
}

/** Deletes one of a user's chats with its messages; false when it does not exist. */
export async function deleteChat(db: Q, userId: string, chatId: string): Promise<boolean> {
  const owned = db.selectFrom('chats').select('id').where('id', '=', chatId).where('user_id', '=', userId);
  await db.deleteFrom('messages').where('chat_id', 'in', owned).execute();
  const result = await db.deleteFrom('chats').where('id', '=', chatId).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Deletes every chat of a user and their messages. */
export async function deleteChatsOfUser(db: Q, userId: string): Promise<void> {
  await db
    .deleteFrom('messages')
    .where('chat_id', 'in', db.selectFrom('chats').select('id').where('user_id', '=', userId))
    .execute();
  await db.deleteFrom('chats').where('user_id', '=', userId).execute();
}

/** A chat's messages, oldest first (siblings keep their order). */
export function listMessages(db: Q, chatId: string): Promise<MessageRow[]> {
  return db.selectFrom('messages').selectAll().where('chat_id', '=', chatId).orderBy('created_at').orderBy('id').execute();
}

/** Where a paged read of several chats' messages stands: the sort key of the last message read. */
export interface MessageKey {
  chat_id: string;
  created_at: number;
  id: string;
}

/**
 * Bytes a message takes in the database, as UTF-8: its text plus the JSON of its details, usage,
 * attachments' records and error (what a client controls; ids and flags are left out).
 */
function storedBytes(table?: 'messages') {
  const column = (name: string) => sql.ref(table ? `${table}.${name}` : name);
  return sql<number>`octet_length(${column('content')}) + octet_length(${column('info')}) + octet_length(${column('files')}) + coalesce(octet_length(${column('usage')}), 0) + coalesce(octet_length(${column('error')}), 0)`;
}

/** The messages of `chatIds` after `after`, by chat (in SQL's id order), then created_at, then id. */
function messagesAfter(db: Q, chatIds: readonly string[], after: MessageKey | null) {
  let query = db.selectFrom('messages').where('chat_id', 'in', chatIds);
  if (after) query = query.where((eb) => eb(eb.refTuple('chat_id', 'created_at', 'id'), '>', eb.tuple(after.chat_id, after.created_at, after.id)));
  return query.orderBy('chat_id').orderBy('created_at').orderBy('id');
}

/** Sort keys and stored sizes of the next `limit` messages of `chatIds` after `after`: what a page may hold, without reading it. */
export function listMessageSizesAfter(db: Q, chatIds: readonly string[], after: MessageKey | null, limit: number): Promise<Array<MessageKey & { bytes: number }>> {
  return messagesAfter(db, chatIds, after).select(['chat_id', 'created_at', 'id', storedBytes().as('bytes')]).limit(limit).execute();
}

/** The next `limit` messages of `chatIds` after `after`, in the same order as their sizes. */
export function listMessagesAfter(db: Q, chatIds: readonly string[], after: MessageKey | null, limit: number): Promise<MessageRow[]> {
  return messagesAfter(db, chatIds, after).selectAll().limit(limit).execute();
}

/** Bytes all of a user's messages take (as `storedBytes` counts them), and how many of them are in `chatId`. */
export async function storedContentBytes(db: Q, userId: string, chatId: string | null): Promise<{ total: number; ofChat: number }> {
  const bytes = storedBytes('messages');
  const row = await db
    .selectFrom('messages')
    .innerJoin('chats', 'chats.id', 'messages.chat_id')
    .select([
      sql<number | string | null>`sum(${bytes})`.as('total'),
      sql<number | string | null>`sum(case when ${sql.ref('messages.chat_id')} = ${chatId} then ${bytes} else 0 end)`.as('of_chat'),
    ])
    .where('chats.user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return { total: Number(row.total ?? 0), ofChat: Number(row.of_chat ?? 0) };
}

/** One message of a chat. */
export function findMessage(db: Q, chatId: string, messageId: string): Promise<MessageRow | undefined> {
  return db.selectFrom('messages').selectAll().where('chat_id', '=', chatId).where('id', '=', messageId).executeTakeFirst();
}

/** Ids of a message's children, in stored order. */
export async function findChildIds(db: Q, chatId: string, messageId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('messages')
    .select('id')
    .where('chat_id', '=', chatId)
    .where('parent_id', '=', messageId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((row) => row.id);
}

/** How many messages of a role a chat holds. */
export async function countMessages(db: Q, chatId: string, role: MessageRow['role'], status?: MessageRow['status']): Promise<number> {
  let query = db
    .selectFrom('messages')
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .where('chat_id', '=', chatId)
    .where('role', '=', role);
  if (status) query = query.where('status', '=', status);
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Which of `ids` already name a stored message (of any chat). */
export async function findTakenMessageIds(db: Q, ids: readonly string[]): Promise<Set<string>> {
  const taken = new Set<string>();
  for (let start = 0; start < ids.length; start += insertChunk) {
    const rows = await db.selectFrom('messages').select('id').where('id', 'in', ids.slice(start, start + insertChunk)).execute();
    for (const row of rows) taken.add(row.id);
  }
  return taken;
}

/** Inserts messages in chunks. */
export async function insertMessages(db: Q, rows: readonly MessageRow[]): Promise<void> {
  for (let start = 0; start < rows.length; start += insertChunk) {
    await db.insertInto('messages').values(rows.slice(start, start + insertChunk)).execute();
  }
}

/** Deletes all messages of a chat. */
export async function deleteMessagesOfChat(db: Q, chatId: string): Promise<void> {
  await db.deleteFrom('messages').where('chat_id', '=', chatId).execute();
}

/** Changes one message of a chat; false when it does not exist. */
export async function updateMessage(db: Q, chatId: string, messageId: string, patch: Updateable<MessagesTable>): Promise<boolean> {
  const result = await db.updateTable('messages').set(patch).where('id', '=', messageId).where('chat_id', '=', chatId).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** True for a primary-key or unique violation on either database. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** What `chats.meta` holds: the chat-level fields of Open WebUI's chat JSON that Parley keeps. */
export interface ChatMeta {
  models: string[];
  params: Record<string, unknown>;
  /** Open WebUI's own `meta` (tags and the like), kept as given. */
  meta: Record<string, unknown>;
}

/** Reads `chats.meta`; a damaged or older value reads as empty. */
export function readChatMeta(text: string): ChatMeta {
  let value: Partial<ChatMeta> = {};
  try {
    value = JSON.parse(text) as Partial<ChatMeta>;
  } catch {
    // Keep the defaults.
  }
  return {
    models: Array.isArray(value.models) ? value.models : [],
    params: value.params && typeof value.params === 'object' ? value.params : {},
    meta: value.meta && typeof value.meta === 'object' ? value.meta : {},
  };
}

/** Encodes `chats.meta`. */
export function writeChatMeta(meta: ChatMeta): string {
  return JSON.stringify(meta);
}

/** Where a walk through the unfinished answers stands: the last one seen, in (created_at, id) order. */
export interface AnswerCursor {
  createdAt: number;
  id: string;
}

/** Which unfinished answers to read: created in [from, before), after `after`, at most `limit`. */
export interface UnfinishedWindow {
  from?: number;
  before: number;
  after?: AnswerCursor;
  limit: number;
}

/**
 * Assistant messages still marked streaming, with their chat's owner, in (created_at, id) order: candidates
 * for takeover or for marking as interrupted. The status is a literal so both databases use the partial
 * index `messages_streaming_created` (a bound parameter would not prove its condition).
 */
export function findUnfinishedAnswers(db: Q, window: UnfinishedWindow) {
  let query = db
    .selectFrom('messages')
    .innerJoin('chats', 'chats.id', 'messages.chat_id')
    .select(['messages.id', 'messages.chat_id', 'messages.model', 'messages.created_at', 'chats.user_id'])
    .where('messages.status', '=', sql.lit('streaming'))
    .where('messages.role', '=', 'assistant')
    .where('messages.created_at', '<', window.before);
  if (window.from !== undefined) query = query.where('messages.created_at', '>=', window.from);
  const after = window.after;
  if (after) {
    query = query.where((eb) =>
      eb.or([eb('messages.created_at', '>', after.createdAt), eb.and([eb('messages.created_at', '=', after.createdAt), eb('messages.id', '>', after.id)])]),
    );
  }
  return query.orderBy('messages.created_at', 'asc').orderBy('messages.id', 'asc').limit(window.limit).execute();
}

/** Ids of a chat's messages the server is still writing. */
export async function findStreamingIds(db: Q, chatId: string): Promise<string[]> {
  const rows = await db.selectFrom('messages').select('id').where('chat_id', '=', chatId).where('status', '=', sql.lit('streaming')).execute();
  return rows.map((row) => row.id);
}

/** An assistant message of a chat owned by `userId`: where a generation's answer is saved. */
export function findAnswerOfUser(db: Q, userId: string, messageId: string) {
  return db
    .selectFrom('messages')
    .innerJoin('chats', 'chats.id', 'messages.chat_id')
    .select(['messages.id', 'messages.chat_id', 'messages.model', 'messages.status', 'messages.content', 'messages.error', 'messages.created_at'])
    .where('messages.id', '=', messageId)
    .where('messages.role', '=', 'assistant')
    .where('chats.user_id', '=', userId)
    .executeTakeFirst();
}
