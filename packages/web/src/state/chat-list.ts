import { create } from 'zustand';
import type { ChatSummary } from '@parley/wire';
import { listChats, listPinned } from '../api/chats';
import { messageOf } from '../api/http';

const pageSize = 50;

interface ChatListStore {
  chats: ChatSummary[];
  /** Pages loaded so far. */
  pages: number;
  hasMore: boolean;
  isLoading: boolean;
  error: string | null;
  /** Loads the next page (when the list is scrolled to its end). */
  loadMore(): Promise<void>;
  /** Reloads the pages already shown (after a change elsewhere). */
  refresh(): Promise<void>;
  /** Puts a chat at the top (a new or updated chat) or updates it in place. */
  upsert(chat: ChatSummary, moveToTop?: boolean): void;
  remove(chatId: string): void;
  reset(): void;
}

/** The sidebar's chats, loaded page by page. */
export const useChatList = create<ChatListStore>((set, get) => ({
  chats: [],
  pages: 0,
  hasMore: true,
  isLoading: false,
  error: null,
  async loadMore() {
    const { isLoading, hasMore, pages } = get();
    if (isLoading || !hasMore) return;
    set({ isLoading: true });
    try {
      // Pinned chats may be old; the first page brings them along so the Pinned group is complete.
      const [page, pinned] = await Promise.all([listChats(pages + 1), pages === 0 ? listPinned() : Promise.resolve([])]);
      set((state) => {
        const known = new Set(state.chats.map((chat) => chat.id));
        const fresh = [...page, ...pinned].filter((chat) => (known.has(chat.id) ? false : (known.add(chat.id), true)));
        return {
          chats: [...state.chats, ...fresh],
          pages: pages + 1,
          hasMore: page.length >= pageSize,
          isLoading: false,
          error: null,
        };
      });
    } catch (error) {
      set({ isLoading: false, error: messageOf(error) });
    }
  },
  async refresh() {
    const pages = Math.max(1, get().pages);
    try {
      const [pinned, ...lists] = await Promise.all([listPinned(), ...Array.from({ length: pages }, (_, index) => listChats(index + 1))]);
      const seen = new Set<string>();
      const chats = [...lists.flat(), ...(pinned ?? [])].filter((chat) => (seen.has(chat.id) ? false : (seen.add(chat.id), true)));
      set({ chats, pages, hasMore: (lists[lists.length - 1]?.length ?? 0) >= pageSize, error: null });
    } catch (error) {
      set({ error: messageOf(error) });
    }
  },
  upsert(chat, moveToTop = true) {
    set((state) => {
      const rest = state.chats.filter((item) => item.id !== chat.id);
      if (moveToTop) return { chats: [chat, ...rest] };
      return { chats: state.chats.map((item) => (item.id === chat.id ? chat : item)) };
    });
  },
  remove(chatId) {
    set((state) => ({ chats: state.chats.filter((chat) => chat.id !== chatId) }));
  },
  reset() {
    set({ chats: [], pages: 0, hasMore: true, isLoading: false, error: null });
  },
}));

/** The summary of a full chat (for upsert). */
export function summaryOf(chat: { id: string; title: string; updated_at: number; created_at: number; pinned: boolean; archived: boolean }): ChatSummary {
  return { id: chat.id, title: chat.title, updated_at: chat.updated_at, created_at: chat.created_at, pinned: chat.pinned, archived: chat.archived };
}
