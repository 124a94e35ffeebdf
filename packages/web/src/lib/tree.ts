import type { History, Message } from './message';

type Messages = Record<string, Message>;

/** The messages from the root down to `leafId` (empty when it is unknown). */
export function pathTo(messages: Messages, leafId: string | null): Message[] {
  const path: Message[] = [];
  const seen = new Set<string>();
  let message = leafId ? messages[leafId] : undefined;
  while (message && !seen.has(message.id)) {
    seen.add(message.id);
    path.push(message);
    message = message.parentId ? messages[message.parentId] : undefined;
  }
  return path.reverse();
}

/** Ids of a message and its siblings in order: the parent's children, or every root. */
export function siblingIds(messages: Messages, message: Message): string[] {
  if (message.parentId) return messages[message.parentId]?.childrenIds ?? [message.id];
  return Object.values(messages)
    .filter((m) => !m.parentId)
    .map((m) => m.id);
}

/** The leaf reached from `id` by always following the newest child. */
export function latestLeaf(messages: Messages, id: string): string {
  let current = id;
  const seen = new Set<string>();
  for (;;) {
    seen.add(current);
    const children = messages[current]?.childrenIds ?? [];
    const next = children[children.length - 1];
    if (!next || seen.has(next) || !messages[next]) return current;
    current = next;
  }
}

/** Where a message sits among its siblings: `‹ index/count ›` and the neighbours' ids. */
export interface BranchPosition {
  index: number;
  count: number;
  previousId: string | null;
  nextId: string | null;
}

/** The branch position of a message (1-based index). */
export function branchPosition(messages: Messages, message: Message): BranchPosition {
  const ids = siblingIds(messages, message);
  const at = Math.max(0, ids.indexOf(message.id));
  return { index: at + 1, count: ids.length, previousId: ids[at - 1] ?? null, nextId: ids[at + 1] ?? null };
}

/** The new current leaf after moving from `message` to its previous or next sibling; null at either end. */
export function switchBranch(messages: Messages, message: Message, direction: -1 | 1): string | null {
  const position = branchPosition(messages, message);
  const target = direction === -1 ? position.previousId : position.nextId;
  return target ? latestLeaf(messages, target) : null;
}

/** The history with `message` added under its parent (whose childrenIds gain it), made current. */
export function withMessage(history: History, message: Message): History {
  const messages: Messages = { ...history.messages, [message.id]: message };
  const parent = message.parentId ? messages[message.parentId] : undefined;
  if (parent && !parent.childrenIds.includes(message.id)) {
    messages[parent.id] = { ...parent, childrenIds: [...parent.childrenIds, message.id] };
  }
  return { messages, currentId: message.id };
}

/** The history with one message's fields changed (same identity for every other message). */
export function withPatch(history: History, id: string, patch: Partial<Message>): History {
  const message = history.messages[id];
  if (!message) return history;
  return { ...history, messages: { ...history.messages, [id]: { ...message, ...patch } } };
}

/** The text of a message's error, or null when it has none. */
export function errorText(message: Message): string | null {
  const error = message.error;
  if (error === null || error === undefined || error === false) return null;
  if (error === true) return 'The model failed to answer';
  if (typeof error === 'string') return error;
  return error.content ?? 'The model failed to answer';
}

/** Whether an assistant message is still being written (by this tab or, after a reload, by the server). */
export const isPending = (message: Message) => message.role === 'assistant' && message.done === false && errorText(message) === null;
