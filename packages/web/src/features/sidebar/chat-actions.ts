import type { ChatSummary } from '@parley/wire';
import { deleteChat, exportChat, renameChat, toggleArchive, togglePin } from '../../api/chats';
import { downloadText } from '../../lib/clipboard';
import { navigate } from '../../lib/router';
import { summaryOf, useChatList } from '../../state/chat-list';
import { openNewChat, useChat } from '../../state/chat';

function leaveIfOpen(chatId: string): void {
  if (useChat.getState().chatId === chatId) {
    openNewChat();
    navigate('/');
  }
}

/** Renames a chat everywhere it is shown. */
export async function rename(chat: ChatSummary, title: string): Promise<void> {
  const updated = await renameChat(chat.id, title);
  useChatList.getState().upsert(summaryOf(updated), false);
  useChat.setState((s) => (s.chatId === chat.id ? { title: updated.title } : s));
}

export async function pin(chat: ChatSummary): Promise<void> {
  const updated = await togglePin(chat.id);
  useChatList.getState().upsert(summaryOf(updated), false);
}

/** Archives a chat: it leaves the sidebar (Settings lists archived chats). */
export async function archive(chat: ChatSummary): Promise<void> {
  await toggleArchive(chat.id);
  useChatList.getState().remove(chat.id);
  leaveIfOpen(chat.id);
}

export async function remove(chat: ChatSummary): Promise<void> {
  await deleteChat(chat.id);
  useChatList.getState().remove(chat.id);
  leaveIfOpen(chat.id);
}

/** Downloads a chat as Open WebUI's export JSON. */
export async function exportAsJson(chat: ChatSummary): Promise<void> {
  const full = await exportChat(chat.id);
  const name = chat.title.replace(/[^\w\- ]+/g, '').trim().slice(0, 60) || 'chat';
  downloadText(`${name}.json`, JSON.stringify([full], null, 2));
}
