import { create } from 'zustand';
import type { Chat } from '@parley/wire';
import { setCurrentMessage } from '../api/chats';
import { messageOf } from '../api/http';
import type { History, Message } from '../lib/message';
import { pathTo, switchBranch } from '../lib/tree';

/** The answer this tab is streaming. */
export interface ActiveGeneration {
  chatId: string;
  messageId: string;
  generationId: string | null;
  isStopRequested: boolean;
}

/** A calm one-line status shown above the composer. */
export interface Notice {
  kind: 'offline' | 'recovering' | 'error';
  text: string;
}

/** The open chat. */
export interface ChatState {
  /** null on the new-chat page. */
  chatId: string | null;
  title: string;
  history: History;
  isLoading: boolean;
  loadError: string | null;
  generation: ActiveGeneration | null;
  notice: Notice | null;
  /** Ids of messages shown here that the server has not saved (a refused send). */
  unsavedIds: string[];
}

const emptyHistory: History = { messages: {}, currentId: null };

export const initialChatState: ChatState = {
  chatId: null,
  title: '',
  history: emptyHistory,
  isLoading: false,
  loadError: null,
  generation: null,
  notice: null,
  unsavedIds: [],
};

/** The open chat's state; rows subscribe to their own message so only the streaming one re-renders per token. */
export const useChat = create<ChatState>(() => initialChatState);

const sameMessage = (a: Message, b: Message) =>
  a.content === b.content &&
  a.done === b.done &&
  JSON.stringify(a.error ?? null) === JSON.stringify(b.error ?? null) &&
  a.childrenIds.join() === b.childrenIds.join() &&
  a.parentId === b.parentId &&
  JSON.stringify(a.info ?? null) === JSON.stringify(b.info ?? null) &&
  JSON.stringify(a.usage ?? null) === JSON.stringify(b.usage ?? null);

/** The server's history, reusing unchanged message objects so their rows do not re-render. */
export function mergeHistory(old: History, fresh: History): History {
  const messages: Record<string, Message> = {};
  for (const [id, message] of Object.entries(fresh.messages)) {
    const before = old.messages[id];
    messages[id] = before && sameMessage(before, message) ? before : { ...message, childrenIds: message.childrenIds ?? [] };
  }
  return { messages, currentId: fresh.currentId };
}

/** The leaf message of the shown path, if any. */
export function leafOf(state: ChatState): Message | undefined {
  const id = state.history.currentId;
  return id ? state.history.messages[id] : undefined;
}

/** Applies a chat fetched from the server to the store. */
export function applyChat(chat: Chat): void {
  useChat.setState((state) =>
    state.chatId === chat.id ? { title: chat.title, history: mergeHistory(state.history, chat.chat.history), isLoading: false, loadError: null, unsavedIds: [] } : state,
  );
}

let openController: AbortController | undefined;

/** Shows the new-chat page. */
export function openNewChat(): void {
  openController?.abort();
  useChat.setState({ ...initialChatState });
}

/** Shows `chatId` as loading, cancelling the load of the chat opened before; returns this load's signal. */
export function startOpening(chatId: string): AbortSignal {
  openController?.abort();
  openController = new AbortController();
  useChat.setState({ ...initialChatState, chatId, isLoading: true });
  return openController.signal;
}

/** Shows the previous or next branch at `message`, and tells the server which leaf is current. */
export async function moveBranch(message: Message, direction: -1 | 1): Promise<void> {
  const state = useChat.getState();
  if (state.generation || !state.chatId) return;
  const leafId = switchBranch(state.history.messages, message, direction);
  if (!leafId) return;
  const chatId = state.chatId;
  useChat.setState({ history: { ...state.history, currentId: leafId } });
  try {
    await setCurrentMessage(chatId, leafId);
  } catch (error) {
    useChat.setState({ notice: { kind: 'error', text: `Could not save the branch choice: ${messageOf(error)}` } });
  }
}

/** Ids along the shown path (for the message list). */
export const pathIds = (state: ChatState) => pathTo(state.history.messages, state.history.currentId).map((message) => message.id);
