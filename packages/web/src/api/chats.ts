import type { Chat, ChatSummary, ModelList } from '@parley/wire';
import type { History } from '../lib/message';
import { api } from './http';

const base = '/api/v1/chats';
const id = encodeURIComponent;

/** A page (1-based) of the caller's chats, most recent first. */
export const listChats = (page: number) => api<ChatSummary[]>(`${base}/?page=${page}`);

export const searchChats = (text: string) => api<ChatSummary[]>(`${base}/search?text=${id(text)}`);

export const listPinned = () => api<ChatSummary[]>(`${base}/pinned`);

export const listArchived = () => api<ChatSummary[]>(`${base}/archived`);

export const getChat = (chatId: string, signal?: AbortSignal) => api<Chat>(`${base}/${id(chatId)}`, { signal });

/** Creates a chat; `history` imports a whole message tree. */
export const createChat = (chat: { title?: string; models?: string[]; history?: History }) =>
  api<Chat>(`${base}/new`, { method: 'POST', body: { chat } });

export const renameChat = (chatId: string, title: string) => api<Chat>(`${base}/${id(chatId)}`, { method: 'POST', body: { chat: { title } } });

export const deleteChat = (chatId: string) => api<boolean>(`${base}/${id(chatId)}`, { method: 'DELETE' });

export const togglePin = (chatId: string) => api<Chat>(`${base}/${id(chatId)}/pin`, { method: 'POST' });

export const toggleArchive = (chatId: string) => api<Chat>(`${base}/${id(chatId)}/archive`, { method: 'POST' });

export const exportChat = (chatId: string) => api<Chat>(`${base}/${id(chatId)}/export`);

/** Moves the chat's current leaf (switching branches). */
export const setCurrentMessage = (chatId: string, messageId: string) =>
  api<Chat>(`${base}/${id(chatId)}/current`, { method: 'POST', body: { message_id: messageId } });

/** Models the caller may chat with (base models and presets). */
export const listModels = async () => (await api<ModelList>('/api/models')).data;
