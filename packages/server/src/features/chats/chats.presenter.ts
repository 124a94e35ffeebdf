import type { Chat, ChatSummary as ChatSummaryResponse, Message } from '@parley/wire';
import { jsonPieces } from '../../http/json-pieces.js';
import type { ChatRow, MessageRow } from '../../platform/db/schema.js';
import { readChatMeta, type ChatSummary } from './chats.repo.js';
import { childrenIndex, messageFromRow, pathTo, type TreeMessage } from './message-tree.js';

const seconds = (ms: number) => Math.floor(ms / 1000);

/** A chat in a listing (Open WebUI's title/id shape plus its flags). */
export function toChatSummary(row: ChatSummary): ChatSummaryResponse {
  return {
    id: row.id,
    title: row.title,
    updated_at: seconds(row.updated_at),
    created_at: seconds(row.created_at),
    pinned: row.is_pinned === 1,
    archived: row.is_archived === 1,
  };
}

/** One message as Open WebUI's chat JSON holds it in `history.messages`. */
export function toMessageResponse(message: TreeMessage, childrenIds: string[]): Message {
  return {
    id: message.id,
    parentId: message.parentId,
    childrenIds,
    role: message.role,
    content: message.content,
    model: message.model,
    timestamp: seconds(message.createdAt),
    done: message.status === 'done',
    // Open WebUI's client reads an error as `{ content }`.
    error: message.error === null ? null : { content: message.error },
    usage: message.usage,
    info: message.info,
    files: message.files,
  };
}
export type MessageResponse = ReturnType<typeof toMessageResponse>;

/** A whole chat in Open WebUI's shape; `rows` must come sorted by created_at, id. */
export function toChatResponse(chat: ChatRow, rows: readonly MessageRow[]): Chat {
  const messages = rows.map(messageFromRow);
  const children = childrenIndex(messages);
  const byId = new Map(messages.map((m) => [m.id, m]));
  const history: Record<string, MessageResponse> = {};
  for (const message of messages) history[message.id] = toMessageResponse(message, children.get(message.id) ?? []);
  const meta = readChatMeta(chat.meta);
  const currentId = chat.current_message_id !== null && byId.has(chat.current_message_id) ? chat.current_message_id : null;
  return {
    id: chat.id,
    user_id: chat.user_id,
    title: chat.title,
    chat: {
      id: chat.id,
      title: chat.title,
      models: meta.models,
      params: meta.params,
      history: { messages: history, currentId },
      // Every message on the path is in the history.
      messages: pathTo(byId, currentId).map((m) => history[m.id]!),
      timestamp: seconds(chat.created_at),
    },
    pinned: chat.is_pinned === 1,
    archived: chat.is_archived === 1,
    meta: meta.meta,
    folder_id: null,
    share_id: null,
    created_at: seconds(chat.created_at),
    updated_at: seconds(chat.updated_at),
  };
}

/** An export as NDJSON, one chat per line (what Open WebUI's `GET /chats/all` sends), written in pieces of a chat. */
export async function* toChatsNdjson(chats: AsyncIterable<{ chat: ChatRow; messages: readonly MessageRow[] }>): AsyncGenerator<string> {
  for await (const { chat, messages } of chats) {
    yield* jsonPieces(toChatResponse(chat, messages));
    yield '\n';
  }
}

/** An export as one JSON array (older clients' `GET /chats/all`), written in pieces of a chat. */
export async function* toChatsJsonArray(chats: AsyncIterable<{ chat: ChatRow; messages: readonly MessageRow[] }>): AsyncGenerator<string> {
  let separator = '[';
  for await (const { chat, messages } of chats) {
    yield separator;
    yield* jsonPieces(toChatResponse(chat, messages));
    separator = ',';
  }
  yield separator === '[' ? '[]' : ']';
}
