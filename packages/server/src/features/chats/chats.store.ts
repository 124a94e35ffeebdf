import type { Kysely } from 'kysely';
import { httpErrors } from '../../http/errors.js';
import type { ChatRow, Database, MessageRow } from '../../platform/db/schema.js';
import * as repo from './chats.repo.js';
import { messageToRow, remapIds, type MessageTree, type TreeMessage } from './message-tree.js';

/*
 * Building blocks the chats service composes inside its transactions: ownership
 * checks, whole-chat reads and writes, and the handling of taken message ids.
 */

type Q = Kysely<Database>;

/** A chat row with its messages sorted by created_at, id: what a full chat response is built from. */
export interface FullChat {
  chat: ChatRow;
  messages: MessageRow[];
}

/** A message with the defaults of a freshly written one. */
export function newMessage(fields: Pick<TreeMessage, 'id' | 'parentId' | 'role' | 'content'> & Partial<TreeMessage>, now: number): TreeMessage {
  return { model: null, status: 'done', error: null, usage: null, info: {}, files: [], createdAt: now, updatedAt: now, ...fields };
}

/** Rows in stored order; tree building keeps siblings on distinct times, so the id tie-break never decides between them. */
function sortRows(rows: MessageRow[]): MessageRow[] {
  return rows.sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A chat of `userId`; 404 otherwise, whether it is missing or someone else's. */
export async function ownedChat(q: Q, userId: string, chatId: string): Promise<ChatRow> {
  const chat = await repo.findChat(q, userId, chatId);
  if (!chat) throw httpErrors.notFound('Chat');
  return chat;
}

/** A chat of `userId` with its messages, in two queries. */
export async function loadChat(q: Q, userId: string, chatId: string): Promise<FullChat> {
  const chat = await ownedChat(q, userId, chatId);
  return { chat, messages: await repo.listMessages(q, chatId) };
}

/** Stores a tree in a chat, renaming the ids another message already holds (all of them when `renameAll`). */
export async function storeTree(q: Q, chatId: string, tree: MessageTree, renameAll: boolean): Promise<{ rows: MessageRow[]; currentId: string | null }> {
  const taken = renameAll ? 'all' : await repo.findTakenMessageIds(q, tree.messages.map((m) => m.id));
  const stored = remapIds(tree, taken);
  const rows = stored.messages.map((m) => messageToRow(chatId, m));
  await repo.insertMessages(q, rows);
  return { rows: sortRows(rows), currentId: stored.currentId };
}

/** Inserts a new chat with its messages. */
export async function insertFullChat(q: Q, chat: Omit<ChatRow, 'current_message_id'>, tree: MessageTree | null, renameAll: boolean): Promise<FullChat> {
  // The chat row goes first (messages reference it) and learns its current id afterwards, as ids may be renamed.
  const row: ChatRow = { ...chat, current_message_id: null };
  await repo.insertChat(q, row);
  if (!tree) return { chat: row, messages: [] };
  const { rows, currentId } = await storeTree(q, row.id, tree, renameAll);
  row.current_message_id = currentId;
  await repo.updateChat(q, row.user_id, row.id, { current_message_id: currentId });
  return { chat: row, messages: rows };
}

/** Inserts one message whose id the caller chose; 409 when the id is taken. */
export async function insertNewMessage(q: Q, chatId: string, message: TreeMessage): Promise<void> {
  if ((await repo.findTakenMessageIds(q, [message.id])).size > 0) throw httpErrors.conflict('A message with this id already exists');
  await repo.insertMessages(q, [messageToRow(chatId, message)]);
}

/** Runs `work` in a transaction; if a concurrent writer took one of its message ids, runs it again with fresh ids. */
export async function withFreshIdsOnClash<T>(db: Q, work: (trx: Q, renameAll: boolean) => Promise<T>): Promise<T> {
  try {
    return await db.transaction().execute((trx) => work(trx, false));
  } catch (error) {
    if (!repo.isUniqueViolation(error)) throw error;
    return db.transaction().execute((trx) => work(trx, true));
  }
}

/** Runs `work` in a transaction, reporting a message id taken meanwhile as a 409. */
export async function withMessageIdConflict<T>(db: Q, work: (trx: Q) => Promise<T>): Promise<T> {
  try {
    return await db.transaction().execute(work);
  } catch (error) {
    if (repo.isUniqueViolation(error)) throw httpErrors.conflict('A message with this id already exists');
    throw error;
  }
}
