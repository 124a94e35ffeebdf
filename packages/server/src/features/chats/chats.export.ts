import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import type { Database, MessageRow } from '../../platform/db/schema.js';
import * as repo from './chats.repo.js';
import type { FullChat } from './chats.store.js';

/** How much one step of an export reads: chats per page, and messages per page by count and by stored bytes. */
export interface ExportPages {
  chats: number;
  messages: number;
  bytes: number;
}

/**
 * An export holds one page of messages and the chat being assembled, never the user's whole
 * history: 30 chats of 9 MB each are read about 2 MB at a time (a synchronous SQLite read stays short).
 */
export const exportPages: ExportPages = { chats: 50, messages: 500, bytes: 2 * 1024 * 1024 };

/** How many of `sizes` (in order) fit in `budget` bytes; at least one, so a message bigger than the budget still goes. */
export function countWithin(sizes: ReadonlyArray<{ bytes: number }>, budget: number): number {
  let total = 0;
  let count = 0;
  for (const { bytes } of sizes) {
    if (count > 0 && total + bytes > budget) break;
    total += bytes;
    count += 1;
  }
  return count;
}

/**
 * Every chat of a user with its messages (sorted by created_at, id), archived ones too, one
 * chat at a time, reading page by page: chats in id order, then their messages in pages bounded
 * by count and stored size (sizes are read first, then only the rows that fit). A chat is yielded
 * once a page shows its messages are complete. Gives the event loop a turn after every page.
 */
export async function* readAllChats(db: Kysely<Database>, userId: string, pages: ExportPages = exportPages): AsyncGenerator<FullChat> {
  let afterChat: string | null = null;
  for (;;) {
    const chats = await repo.listChatsAfter(db, userId, afterChat, pages.chats);
    if (chats.length === 0) return;
    afterChat = chats.at(-1)!.id;
    const ids = chats.map((chat) => chat.id);
    // The messages come grouped by chat in the same SQL order as the chats, so positions say which chats are complete.
    const position = new Map(ids.map((id, index) => [id, index]));
    let pending: MessageRow[] = [];
    let pendingChat = 0;
    let after: repo.MessageKey | null = null;
    for (;;) {
      const sizes = await repo.listMessageSizesAfter(db, ids, after, pages.messages);
      // Empty once nothing is left after the cursor (rows deleted between the two reads included).
      const rows: MessageRow[] = sizes.length === 0 ? [] : await repo.listMessagesAfter(db, ids, after, countWithin(sizes, pages.bytes));
      if (rows.length === 0) break;
      for (const row of rows) {
        // A row of a later chat means every chat before it is complete.
        const at = position.get(row.chat_id)!;
        while (pendingChat < at) {
          yield { chat: chats[pendingChat]!, messages: pending };
          pending = [];
          pendingChat += 1;
        }
        pending.push(row);
      }
      const last = rows.at(-1)!;
      after = { chat_id: last.chat_id, created_at: last.created_at, id: last.id };
      await nextTurn();
    }
    while (pendingChat < chats.length) {
      yield { chat: chats[pendingChat]!, messages: pending };
      pending = [];
      pendingChat += 1;
    }
    if (chats.length < pages.chats) return;
  }
}

/**
 * Runs `source` up to its first item now and hands back the whole sequence: a failure of the first
 * read (the database down) then happens before any byte of the answer is sent.
 */
export async function startedEarly<T>(source: AsyncGenerator<T>): Promise<AsyncGenerator<T>> {
  const first = await source.next();
  return (async function* () {
    if (first.done) return;
    yield first.value;
    yield* source;
  })();
}
