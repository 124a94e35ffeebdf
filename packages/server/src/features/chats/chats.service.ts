import { randomUUID } from 'node:crypto';
import type { Kysely, Updateable } from 'kysely';
import { httpErrors } from '../../http/errors.js';
import type { ChatsTable, Database, MessageRow } from '../../platform/db/schema.js';
import type { Platform } from '../../platform/platform.js';
import type { EventsService } from '../events/events.service.js';
import { readAllChats, startedEarly } from './chats.export.js';
import { contentLimit, messagesBytes, rowBytes, treeBytes } from './chats.quota.js';
import * as repo from './chats.repo.js';
import type { AddMessageInput, ChatJson, ImportItem, PageQuery } from './chats.schema.js';
import {
  insertFullChat,
  insertNewMessage,
  loadChat,
  newMessage,
  ownedChat,
  storeTree,
  withFreshIdsOnClash,
  withMessageIdConflict,
  type FullChat,
} from './chats.store.js';
import {
  messageFromRow,
  messageToRow,
  remapIds,
  storableText,
  toEpochMs,
  treeFromChatJson,
  unfinishedAnswerError,
  type MessageTree,
  type TreeMessage,
} from './message-tree.js';

export type { FullChat } from './chats.store.js';
export type { AnswerCursor } from './chats.repo.js';

/** Token usage and timings recorded on an assistant message. */
export interface AnswerRecord {
  content: string;
  status: 'done' | 'error';
  error: string | null;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
  /** Timings and details: ttft_ms, duration_ms, tokens_per_second, finish_reason, connection id. */
  info: Record<string, unknown>;
}

/** Where a completion's messages are saved in a chat's message tree. */
export interface ExchangeRequest {
  userId: string;
  chatId: string;
  model: string;
  /** The message the new user message hangs under (null: a new root). Ignored when regenerating. */
  parentId: string | null;
  /** The new user message; omitted when regenerating an answer to an existing user message. */
  userMessage?: { id?: string; content: string; files?: unknown[] };
  /** An existing user message to answer again (makes a sibling answer, a branch). */
  regenerateUserMessageId?: string;
}

/** An assistant message still marked streaming: its chat, owner, the model asked for, and when it began. */
export interface UnfinishedAnswer {
  chatId: string;
  messageId: string;
  userId: string;
  model: string;
  createdAt: number;
}

/** Which unfinished answers to list: created in [from, before), after the cursor, at most `limit`. */
export type UnfinishedWindow = repo.UnfinishedWindow;

/** A saved answer as a generation's follower needs it: finished or not, its text and error. */
export interface SavedAnswer {
  chatId: string;
  model: string | null;
  createdAt: number;
  status: MessageRow['status'];
  content: string;
  error: string | null;
}

/**
 * A tree a client sent, with the answers the server is still writing (`streamingIds`) kept streaming: a
 * client saving the chat mid-answer must neither end the server's answer nor hide it from the sweeper.
 */
function keepingServerAnswers(tree: MessageTree, streamingIds: readonly string[]): MessageTree {
  if (streamingIds.length === 0) return tree;
  const ids = new Set(streamingIds);
  return { ...tree, messages: tree.messages.map((m) => (ids.has(m.id) && m.role === 'assistant' ? { ...m, status: 'streaming', error: null } : m)) };
}

/** A copied message: an answer still being written is copied as unfinished (the server writes only the original). */
function copiedMessage(message: TreeMessage): TreeMessage {
  return message.status === 'streaming' ? { ...message, status: 'error', error: unfinishedAnswerError } : message;
}

/** The title of a chat nobody has named yet (generated titles replace only this). */
export const defaultTitle = 'New Chat';
const pageSize = 50;
const titleMax = 200;

/** Where the chats service announces its changes: the owner's open tabs. */
export type ChatEvents = Pick<EventsService, 'publish'>;

/**
 * Chats and their message trees, each scoped to its owner. Every change made for a user is
 * announced to that user's tabs once it succeeded (`chat_id` null when several chats or a new one changed).
 */
export function createChatsService(platform: Platform, events: ChatEvents) {
  const { clock } = platform;
  const db = platform.db.kysely;
  const withinContentLimit = contentLimit(platform.config.CHAT_MAX_CONTENT_BYTES_PER_USER);
  const changed = (userId: string, chatId: string | null) => events.publish(userId, { type: 'chat:changed', chat_id: chatId });
  const deleted = (userId: string, chatId: string | null) => events.publish(userId, { type: 'chat:deleted', chat_id: chatId });

  async function deleteAll(userId: string): Promise<void> {
    await db.transaction().execute((trx) => repo.deleteChatsOfUser(trx, userId));
  }

  return {
    /** Creates a chat from Open WebUI's chat JSON (messages as `history` or a flat list). */
    async create(userId: string, json: ChatJson): Promise<FullChat> {
      const now = clock.now();
      const tree = treeFromChatJson(json, now);
      const id = randomUUID();
      const meta = repo.writeChatMeta({ models: json.models ?? [], params: json.params ?? {}, meta: {} });
      const created = await withFreshIdsOnClash(db, async (trx, renameAll) => {
        await withinContentLimit(trx, userId, () => treeBytes(tree));
        return insertFullChat(
          trx,
          { id, user_id: userId, title: json.title ?? defaultTitle, is_pinned: 0, is_archived: 0, meta, created_at: now, updated_at: now },
          tree,
          renameAll,
        );
      });
      changed(userId, null);
      return created;
    },

    /** One page of the caller's chats (summaries only). */
    list(userId: string, filter: repo.ChatFilter, query: PageQuery) {
      const limit = query.limit ?? pageSize;
      const offset = query.page !== undefined ? (query.page - 1) * limit : (query.offset ?? 0);
      return repo.listChats(db, userId, filter, { limit, offset });
    },

    /** A chat of the caller with all its messages. */
    get(userId: string, chatId: string): Promise<FullChat> {
      return loadChat(db, userId, chatId);
    },

    /** Renames, changes models or params, and replaces the messages when the JSON carries them. */
    async update(userId: string, chatId: string, json: ChatJson): Promise<FullChat> {
      const now = clock.now();
      const tree = treeFromChatJson(json, now);
      const updated = await withFreshIdsOnClash(db, async (trx, renameAll) => {
        const chat = await ownedChat(trx, userId, chatId);
        const patch: Updateable<ChatsTable> = { updated_at: now };
        if (json.title !== undefined) patch.title = json.title;
        if (json.models != null || json.params != null) {
          const meta = repo.readChatMeta(chat.meta);
          patch.meta = repo.writeChatMeta({ ...meta, models: json.models ?? meta.models, params: json.params ?? meta.params });
        }
        if (tree) {
          await withinContentLimit(trx, userId, () => treeBytes(tree), chatId);
          const streamingIds = await repo.findStreamingIds(trx, chatId);
          await repo.deleteMessagesOfChat(trx, chatId);
          patch.current_message_id = (await storeTree(trx, chatId, keepingServerAnswers(tree, streamingIds), renameAll)).currentId;
        }
        await repo.updateChat(trx, userId, chatId, patch);
        return loadChat(trx, userId, chatId);
      });
      changed(userId, chatId);
      return updated;
    },

    /** Deletes a chat of the caller. */
    async remove(userId: string, chatId: string): Promise<void> {
      const isDeleted = await db.transaction().execute((trx) => repo.deleteChat(trx, userId, chatId));
      if (!isDeleted) throw httpErrors.notFound('Chat');
      deleted(userId, chatId);
    },

    /** Deletes every chat of the caller. */
    async removeAll(userId: string): Promise<void> {
      await deleteAll(userId);
      deleted(userId, null);
    },

    /** Deletes every chat of a user with their messages, in the caller's transaction (the user's own deletion). */
    deleteAllOfUserIn: (trx: Kysely<Database>, userId: string): Promise<void> => repo.deleteChatsOfUser(trx, userId),

    /** Pins or unpins a chat. */
    async togglePinned(userId: string, chatId: string): Promise<FullChat> {
      if (!(await repo.toggleChatFlag(db, userId, chatId, 'is_pinned', clock.now()))) throw httpErrors.notFound('Chat');
      const full = await loadChat(db, userId, chatId);
      changed(userId, chatId);
      return full;
    },

    /** Whether a chat of the caller is pinned. */
    async isPinned(userId: string, chatId: string): Promise<boolean> {
      return (await ownedChat(db, userId, chatId)).is_pinned === 1;
    },

    /** Archives or unarchives a chat. */
    async toggleArchived(userId: string, chatId: string): Promise<FullChat> {
      if (!(await repo.toggleChatFlag(db, userId, chatId, 'is_archived', clock.now()))) throw httpErrors.notFound('Chat');
      const full = await loadChat(db, userId, chatId);
      changed(userId, chatId);
      return full;
    },

    /** Archives (or unarchives) all of the caller's chats. */
    async setAllArchived(userId: string, isArchived: boolean): Promise<void> {
      await repo.setAllArchived(db, userId, isArchived, clock.now());
      changed(userId, null);
    },

    /** Copies a chat with new message ids, the same tree and the same current leaf. */
    async clone(userId: string, chatId: string, title?: string): Promise<FullChat> {
      const now = clock.now();
      const copy = await db.transaction().execute(async (trx) => {
        const source = await loadChat(trx, userId, chatId);
        await withinContentLimit(trx, userId, () => source.messages.reduce((sum, row) => sum + rowBytes(row), 0));
        const tree = remapIds({ messages: source.messages.map((row) => copiedMessage(messageFromRow(row))), currentId: source.chat.current_message_id }, 'all');
        const id = randomUUID();
        await repo.insertChat(trx, {
          ...source.chat,
          id,
          title: title ?? `Clone of ${source.chat.title}`.slice(0, titleMax),
          current_message_id: tree.currentId,
          is_pinned: 0,
          is_archived: 0,
          created_at: now,
          updated_at: now,
        });
        await repo.insertMessages(trx, tree.messages.map((m) => messageToRow(id, m)));
        return loadChat(trx, userId, id);
      });
      // Announced under the source's id, as clients have always heard it.
      changed(userId, chatId);
      return copy;
    },

    /**
     * Every chat of the caller, archived ones too, with their messages, one chat at a time, read
     * page by page as the consumer pulls (bounded memory). The first page is read before this resolves.
     */
    exportAll(userId: string): Promise<AsyncGenerator<FullChat>> {
      return startedEarly(readAllChats(db, userId));
    },

    /** Imports exported chats as new chats of the caller, all or none; message ids are kept unless taken. */
    async importChats(userId: string, items: ImportItem[]): Promise<FullChat[]> {
      const now = clock.now();
      // Every tree is checked before anything is written.
      const prepared = items.map((item) => ({ item, tree: treeFromChatJson(item.chat, now) }));
      const imported = await withFreshIdsOnClash(db, async (trx, renameAll) => {
        await withinContentLimit(trx, userId, () => prepared.reduce((sum, { tree }) => sum + treeBytes(tree), 0));
        const created: FullChat[] = [];
        // One by one in one transaction, so ids shared between the imported chats are seen as taken too.
        for (const { item, tree } of prepared) {
          const createdAt = item.created_at != null ? toEpochMs(item.created_at) : now;
          const chat = {
            id: randomUUID(),
            user_id: userId,
            title: item.chat.title ?? item.title ?? defaultTitle,
            is_pinned: item.pinned ? 1 : 0,
            is_archived: item.archived ? 1 : 0,
            meta: repo.writeChatMeta({ models: item.chat.models ?? [], params: item.chat.params ?? {}, meta: item.meta ?? {} }),
            created_at: createdAt,
            updated_at: item.updated_at != null ? toEpochMs(item.updated_at) : now,
          };
          created.push(await insertFullChat(trx, chat, tree, renameAll));
        }
        return created;
      });
      changed(userId, null);
      return imported;
    },

    /** Adds a message under a parent of the same chat and makes it the current leaf. */
    async addMessage(userId: string, chatId: string, input: AddMessageInput): Promise<TreeMessage> {
      const now = clock.now();
      const message = await withMessageIdConflict(db, async (trx) => {
        await ownedChat(trx, userId, chatId);
        if (input.parent_id !== null && !(await repo.findMessage(trx, chatId, input.parent_id))) {
          throw httpErrors.badRequest('parent_id is not a message of this chat');
        }
        const message = newMessage(
          { id: input.id ?? randomUUID(), parentId: input.parent_id, role: input.role, content: input.content, model: input.model ?? null },
          now,
        );
        await withinContentLimit(trx, userId, () => messagesBytes([message]));
        await insertNewMessage(trx, chatId, message);
        await repo.updateChat(trx, userId, chatId, { current_message_id: message.id, updated_at: now });
        return message;
      });
      changed(userId, chatId);
      return message;
    },

    /** Moves the chat's current leaf to one of its messages (switching branches). */
    async setCurrent(userId: string, chatId: string, messageId: string): Promise<FullChat> {
      const current = await db.transaction().execute(async (trx) => {
        await ownedChat(trx, userId, chatId);
        if (!(await repo.findMessage(trx, chatId, messageId))) throw httpErrors.notFound('Message');
        await repo.updateChat(trx, userId, chatId, { current_message_id: messageId });
        return loadChat(trx, userId, chatId);
      });
      changed(userId, chatId);
      return current;
    },

    /** One message of a chat of the caller, with its children's ids. */
    async getMessage(userId: string, chatId: string, messageId: string): Promise<{ message: TreeMessage; childrenIds: string[] }> {
      await ownedChat(db, userId, chatId);
      const row = await repo.findMessage(db, chatId, messageId);
      if (!row) throw httpErrors.notFound('Message');
      return { message: messageFromRow(row), childrenIds: await repo.findChildIds(db, chatId, messageId) };
    },

    /** Checks ownership and saves the user message plus an assistant placeholder; 404 for another user's chat. */
    async beginExchange(request: ExchangeRequest): Promise<{ userMessageId: string; assistantMessageId: string; isFirstExchange: boolean }> {
      const now = clock.now();
      return withMessageIdConflict(db, async (trx) => {
        const chat = await ownedChat(trx, request.userId, request.chatId);
        let userMessageId: string;
        if (request.regenerateUserMessageId !== undefined) {
          const target = await repo.findMessage(trx, chat.id, request.regenerateUserMessageId);
          if (!target) throw httpErrors.badRequest('The message to answer again is not in this chat');
          if (target.role !== 'user') throw httpErrors.badRequest('Only a user message can be answered again');
          userMessageId = target.id;
        } else {
          if (!request.userMessage) throw httpErrors.badRequest('A user message is required');
          if (request.parentId !== null && !(await repo.findMessage(trx, chat.id, request.parentId))) {
            throw httpErrors.badRequest('parent_id is not a message of this chat');
          }
          userMessageId = request.userMessage.id ?? randomUUID();
          const { content, files = [] } = request.userMessage;
          await insertNewMessage(trx, chat.id, newMessage({ id: userMessageId, parentId: request.parentId, role: 'user', content, files }, now));
        }
        // A failed first answer does not count: the retry that succeeds still titles the chat.
        const isFirstExchange = chat.title === defaultTitle && (await repo.countMessages(trx, chat.id, 'assistant', 'done')) === 0;
        const assistantMessageId = randomUUID();
        await insertNewMessage(
          trx,
          chat.id,
          newMessage({ id: assistantMessageId, parentId: userMessageId, role: 'assistant', content: '', model: request.model, status: 'streaming' }, now),
        );
        await repo.updateChat(trx, request.userId, chat.id, { current_message_id: assistantMessageId, updated_at: now });
        return { userMessageId, assistantMessageId, isFirstExchange };
      });
    },

    /** Answers still being generated (or abandoned by a dead instance) in a window of creation times, oldest first. */
    async listUnfinishedAnswers(window: UnfinishedWindow): Promise<UnfinishedAnswer[]> {
      const rows = await repo.findUnfinishedAnswers(db, window);
      return rows.map((row) => ({ chatId: row.chat_id, messageId: row.id, userId: row.user_id, model: row.model ?? '', createdAt: row.created_at }));
    },

    /** An answer of the user's as saved (in any of their chats), or undefined. */
    async findAnswer(userId: string, messageId: string): Promise<SavedAnswer | undefined> {
      const row = await repo.findAnswerOfUser(db, userId, messageId);
      return row && { chatId: row.chat_id, model: row.model, createdAt: row.created_at, status: row.status, content: row.content, error: row.error };
    },

    /** Saves the final assistant message; does nothing when the chat or message was deleted meanwhile. */
    async finishAnswer(chatId: string, messageId: string, answer: AnswerRecord): Promise<void> {
      const now = clock.now();
      await db.transaction().execute(async (trx) => {
        const isUpdated = await repo.updateMessage(trx, chatId, messageId, {
          content: storableText(answer.content),
          status: answer.status,
          error: answer.error === null ? null : storableText(answer.error),
          usage: answer.usage === null ? null : JSON.stringify(answer.usage),
          info: JSON.stringify(answer.info),
          updated_at: now,
        });
        if (isUpdated) await repo.touchChat(trx, chatId, now);
      });
    },

    /** Sets a generated title unless the user already renamed the chat. */
    async setGeneratedTitle(chatId: string, title: string): Promise<void> {
      const trimmed = storableText(title.trim().slice(0, titleMax));
      if (trimmed) await repo.setTitleIfUnchanged(db, chatId, defaultTitle, trimmed);
    },

  };
}
export type ChatsService = ReturnType<typeof createChatsService>;
