import type { Kysely } from 'kysely';
import { httpErrors } from '../../http/errors.js';
import type { Database, MessageRow } from '../../platform/db/schema.js';
import * as repo from './chats.repo.js';
import { messageToRow, type MessageTree, type TreeMessage } from './message-tree.js';

/** Bytes a message row takes as the database counts them (`repo.storedContentBytes`): UTF-8 text plus its JSON columns. */
export function rowBytes(row: MessageRow): number {
  const utf8 = (text: string | null) => (text === null ? 0 : Buffer.byteLength(text, 'utf8'));
  return utf8(row.content) + utf8(row.info) + utf8(row.files) + utf8(row.usage) + utf8(row.error);
}

/** Bytes these messages will take once stored (their ids do not count, so renaming them changes nothing). */
export function messagesBytes(messages: readonly TreeMessage[]): number {
  return messages.reduce((sum, message) => sum + rowBytes(messageToRow('', message)), 0);
}

/** Bytes a tree from a request will take once stored; none for no tree. */
export const treeBytes = (tree: MessageTree | null): number => (tree ? messagesBytes(tree.messages) : 0);

/**
 * The per-user limit on stored chat content (CHAT_MAX_CONTENT_BYTES_PER_USER). Called inside the
 * write's transaction, before it writes: refuses with 413 `quota_exceeded` a write that would take
 * the user past `limit`, unless it shrinks what the user has (replacing a chat's messages with
 * fewer bytes is allowed even over the limit, so a user can always trim). Without a limit it
 * neither counts nor queries. Concurrent writes of one user may each pass (the total is read, not
 * locked): the overshoot is bounded by one request each.
 */
export function contentLimit(limit: number | undefined) {
  return async (q: Kysely<Database>, userId: string, adding: () => number, replacingChatId: string | null = null): Promise<void> => {
    if (limit === undefined) return;
    const added = adding();
    if (added === 0) return;
    const { total, ofChat } = await repo.storedContentBytes(q, userId, replacingChatId);
    const after = total - ofChat + added;
    if (after > limit && added > ofChat) {
      throw httpErrors.quotaExceeded(
        `Your chats would take ${after} bytes, over your limit of ${limit} (you have ${total}); delete or shorten some chats first`,
      );
    }
  };
}
export type ContentLimit = ReturnType<typeof contentLimit>;
