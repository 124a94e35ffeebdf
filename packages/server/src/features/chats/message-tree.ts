import { randomUUID } from 'node:crypto';
import { httpErrors } from '../../http/errors.js';
import type { MessageRow, MessageStatus } from '../../platform/db/schema.js';
import type { ChatJson, MessageJson } from './chats.schema.js';

/** Most messages one chat may hold; bounds the work one request can cause. */
export const maxMessagesPerChat = 10_000;

/** A message of a chat's tree, independent of storage. */
export interface TreeMessage {
  id: string;
  parentId: string | null;
  role: MessageRow['role'];
  content: string;
  model: string | null;
  status: MessageStatus;
  error: string | null;
  usage: Record<string, unknown> | null;
  info: Record<string, unknown>;
  files: unknown[];
  createdAt: number;
  updatedAt: number;
}

/** A whole message tree and the leaf the chat shows. */
export interface MessageTree {
  messages: TreeMessage[];
  currentId: string | null;
}

/** Epoch seconds (or milliseconds, when too large to be seconds) to epoch milliseconds. */
export function toEpochMs(value: number): number {
  return value > 1e11 ? Math.round(value) : Math.round(value * 1000);
}

function invalid(message: string): never {
  throw httpErrors.badRequest(`Invalid chat: ${message}`);
}

function errorText(error: MessageJson['error']): string | null {
  if (error === undefined || error === null || error === false) return null;
  if (error === true) return 'Error';
  if (typeof error === 'string') return error;
  return error.content ?? 'Error';
}

/** What an answer sent unfinished (`done: false`) is saved with: only the server's own answers stream. */
export const unfinishedAnswerError = 'The answer was not finished when this chat was saved';

/**
 * The stored status of a message sent by a client or an import. Never `streaming`: that status means the
 * server is writing the answer, and the sweeper would take it over or wipe it as interrupted.
 */
function clientStatus(json: MessageJson, error: string | null): { status: MessageStatus; error: string | null } {
  if (error !== null) return { status: 'error', error };
  if (json.done === false && json.role === 'assistant') return { status: 'error', error: unfinishedAnswerError };
  return { status: 'done', error: null };
}

function toTreeMessage(id: string, parentId: string | null, json: MessageJson, createdAt: number): TreeMessage {
  const { status, error } = clientStatus(json, errorText(json.error));
  return {
    id,
    parentId,
    role: json.role,
    content: json.content,
    model: json.model ?? null,
    status,
    error,
    usage: json.usage ?? null,
    info: json.info ?? {},
    files: json.files ?? [],
    createdAt,
    updatedAt: createdAt,
  };
}

/**
 * Reads the messages of Open WebUI's chat JSON: `history` (a tree) when given,
 * else the flat `messages` list as a chain. Null when the chat carries neither.
 * Throws a 400 for dangling parents, cycles and unknown current ids.
 */
export function treeFromChatJson(chat: ChatJson, now: number): MessageTree | null {
  if (chat.history) return treeFromHistory(chat.history.messages, chat.history.currentId ?? null, now);
  if (chat.messages) return treeFromList(chat.messages, now);
  return null;
}

function treeFromList(list: MessageJson[], now: number): MessageTree {
  const seen = new Set<string>();
  const messages: TreeMessage[] = [];
  let parentId: string | null = null;
  for (const [index, json] of list.entries()) {
    const id = json.id ?? randomUUID();
    if (seen.has(id)) invalid(`message id ${id} appears twice`);
    seen.add(id);
    messages.push(toTreeMessage(id, parentId, json, json.timestamp != null ? toEpochMs(json.timestamp) : now + index));
    parentId = id;
  }
  return { messages, currentId: parentId };
}

function treeFromHistory(record: Record<string, MessageJson>, currentId: string | null, now: number): MessageTree {
  const byId = new Map(Object.entries(record));
  if (byId.size > maxMessagesPerChat) invalid(`more than ${maxMessagesPerChat} messages`);
  const parentOf = new Map<string, string | null>();
  for (const [key, json] of byId) {
    if (json.id != null && json.id !== key) invalid(`message key ${key} holds a message with id ${json.id}`);
    const parentId = json.parentId ?? null;
    if (parentId !== null && !byId.has(parentId)) invalid(`message ${key} has parentId ${parentId}, which is not in the chat`);
    parentOf.set(key, parentId);
  }
  assertAcyclic(parentOf);
  if (currentId !== null && !byId.has(currentId)) invalid(`currentId ${currentId} is not in the chat`);

  const children = orderedChildren(byId, parentOf);
  const messages: TreeMessage[] = [];
  // Siblings get strictly increasing times in their childrenIds order, so the order survives storage.
  const pending: (string | null)[] = [null];
  while (pending.length > 0) {
    const parentId = pending.pop() as string | null;
    let previous = -Infinity;
    for (const id of children.get(parentId) ?? []) {
      const json = byId.get(id) as MessageJson;
      const base = json.timestamp != null ? toEpochMs(json.timestamp) : now + messages.length;
      previous = Math.max(base, previous + 1);
      messages.push(toTreeMessage(id, parentId, json, previous));
      pending.push(id);
    }
  }
  return { messages, currentId: currentId ?? (messages.length > 0 ? newestLeaf(children) : null) };
}

function assertAcyclic(parentOf: Map<string, string | null>): void {
  const settled = new Set<string>();
  for (const start of parentOf.keys()) {
    const trail = new Set<string>();
    let cursor: string | null = start;
    while (cursor !== null && !settled.has(cursor)) {
      if (trail.has(cursor)) invalid(`messages form a cycle through ${cursor}`);
      trail.add(cursor);
      cursor = parentOf.get(cursor) ?? null;
    }
    for (const id of trail) settled.add(id);
  }
}

/** Children of each parent: those listed in the parent's childrenIds first, in that order, then the rest by time. */
function orderedChildren(byId: Map<string, MessageJson>, parentOf: Map<string, string | null>): Map<string | null, string[]> {
  const unordered = new Map<string | null, string[]>();
  for (const [id, parentId] of parentOf) {
    const list = unordered.get(parentId) ?? [];
    list.push(id);
    unordered.set(parentId, list);
  }
  const result = new Map<string | null, string[]>();
  for (const [parentId, ids] of unordered) {
    const listed = parentId === null ? [] : (byId.get(parentId)?.childrenIds ?? []);
    const actual = new Set(ids);
    const first = [...new Set(listed)].filter((id) => actual.has(id));
    const firstSet = new Set(first);
    const rest = ids.filter((id) => !firstSet.has(id));
    rest.sort((a, b) => (byId.get(a)?.timestamp ?? 0) - (byId.get(b)?.timestamp ?? 0));
    result.set(parentId, [...first, ...rest]);
  }
  return result;
}

function newestLeaf(children: Map<string | null, string[]>): string | null {
  let cursor: string | null = null;
  for (;;) {
    const next: string | undefined = children.get(cursor)?.at(-1);
    if (next === undefined) return cursor;
    cursor = next;
  }
}

/** Gives new ids to the messages in `ids` (all of them when `ids` is 'all'), keeping the tree's shape. */
export function remapIds(tree: MessageTree, ids: ReadonlySet<string> | 'all'): MessageTree {
  if (ids !== 'all' && ids.size === 0) return tree;
  const renamed = new Map<string, string>();
  for (const message of tree.messages) {
    if (ids === 'all' || ids.has(message.id)) renamed.set(message.id, randomUUID());
  }
  const map = (id: string) => renamed.get(id) ?? id;
  return {
    messages: tree.messages.map((m) => ({ ...m, id: map(m.id), parentId: m.parentId === null ? null : map(m.parentId) })),
    currentId: tree.currentId === null ? null : map(tree.currentId),
  };
}

/** Children ids of every message, in stored order (messages must come sorted by time, then id). */
export function childrenIndex(messages: readonly TreeMessage[]): Map<string | null, string[]> {
  const index = new Map<string | null, string[]>();
  for (const message of messages) {
    const list = index.get(message.parentId) ?? [];
    list.push(message.id);
    index.set(message.parentId, list);
  }
  return index;
}

/** The messages from the root down to `leafId`; empty when the leaf is unknown. */
export function pathTo(byId: ReadonlyMap<string, TreeMessage>, leafId: string | null): TreeMessage[] {
  const path: TreeMessage[] = [];
  const seen = new Set<string>();
  let cursor = leafId === null ? undefined : byId.get(leafId);
  while (cursor && !seen.has(cursor.id)) {
    seen.add(cursor.id);
    path.push(cursor);
    cursor = cursor.parentId === null ? undefined : byId.get(cursor.parentId);
  }
  return path.reverse();
}

function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** A stored message row as a tree message (JSON columns parsed; a damaged column reads as empty). */
export function messageFromRow(row: MessageRow): TreeMessage {
  return {
    id: row.id,
    parentId: row.parent_id,
    role: row.role,
    content: row.content,
    model: row.model,
    status: row.status,
    error: row.error,
    usage: parseJson<Record<string, unknown> | null>(row.usage, null),
    info: parseJson<Record<string, unknown>>(row.info, {}),
    files: parseJson<unknown[]>(row.files, []),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Text as it is stored: U+0000 becomes U+FFFD (the replacement character). PostgreSQL's text cannot hold
 * NUL at all, and SQLite stores the same, so an answer or a message reads back alike on both.
 */
export function storableText(text: string): string {
  return text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text;
}

/** A tree message as a row of `chatId` (texts storable: see storableText). */
export function messageToRow(chatId: string, message: TreeMessage): MessageRow {
  return {
    id: message.id,
    chat_id: chatId,
    parent_id: message.parentId,
    role: message.role,
    content: storableText(message.content),
    model: message.model === null ? null : storableText(message.model),
    status: message.status,
    error: message.error === null ? null : storableText(message.error),
    usage: message.usage === null ? null : JSON.stringify(message.usage),
    info: JSON.stringify(message.info),
    files: JSON.stringify(message.files),
    created_at: message.createdAt,
    updated_at: message.updatedAt,
  };
}
