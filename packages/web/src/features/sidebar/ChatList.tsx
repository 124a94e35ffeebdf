import { useEffect, useMemo, useRef, useState } from 'react';
import type { ChatSummary } from '@parley/wire';
import { searchChats } from '../../api/chats';
import { messageOf } from '../../api/http';
import { groupChats } from '../../lib/dates';
import { useChatList } from '../../state/chat-list';
import { ChatListItem } from './ChatListItem';

function Groups({ chats, activeChatId, onError }: { chats: ChatSummary[]; activeChatId: string | null; onError: (text: string) => void }) {
  const groups = useMemo(() => groupChats(chats, Date.now()), [chats]);
  return (
    <>
      {groups.map((group) => (
        <section key={group.label} className="chat-group" aria-label={group.label}>
          <h3 className="chat-group__label">{group.label}</h3>
          <ul>
            {group.chats.map((chat) => (
              <ChatListItem key={chat.id} chat={chat} isActive={chat.id === activeChatId} onError={onError} />
            ))}
          </ul>
        </section>
      ))}
    </>
  );
}

/** The sidebar's chats: grouped by date, more loaded as the list is scrolled; or search results. */
export function ChatList({ activeChatId, query }: { activeChatId: string | null; query: string }) {
  const { chats, hasMore, isLoading, error } = useChatList();
  const [results, setResults] = useState<ChatSummary[] | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const sentinel = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (useChatList.getState().pages === 0) void useChatList.getState().loadMore();
  }, []);

  useEffect(() => {
    const target = sentinel.current;
    if (!target || query) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) void useChatList.getState().loadMore();
    });
    observer.observe(target);
    return () => observer.disconnect();
  }, [query, chats.length]);

  useEffect(() => {
    const text = query.trim();
    if (!text) {
      setResults(null);
      return;
    }
    let isCurrent = true;
    const timer = setTimeout(() => {
      searchChats(text).then(
        (found) => isCurrent && setResults(found),
        (caught: unknown) => isCurrent && setActionError(messageOf(caught)),
      );
    }, 200);
    return () => {
      isCurrent = false;
      clearTimeout(timer);
    };
  }, [query]);

  // Search results follow the sidebar's edits (rename, delete) without searching again.
  const shownResults = useMemo(() => {
    if (!results) return null;
    const byId = new Map(chats.map((chat) => [chat.id, chat]));
    return results.map((chat) => byId.get(chat.id) ?? chat);
  }, [results, chats]);

  return (
    <nav className="chat-list" aria-label="Chats">
      {actionError && (
        <p className="sidebar__error" role="alert">
          {actionError}{' '}
          <button type="button" className="link-button" onClick={() => setActionError(null)}>
            Dismiss
          </button>
        </p>
      )}
      {shownResults ? (
        shownResults.length === 0 ? (
          <p className="muted chat-list__empty">No chats match “{query.trim()}”.</p>
        ) : (
          <Groups chats={shownResults} activeChatId={activeChatId} onError={setActionError} />
        )
      ) : (
        <>
          <Groups chats={chats} activeChatId={activeChatId} onError={setActionError} />
          {!isLoading && chats.length === 0 && !error && <p className="muted chat-list__empty">No chats yet.</p>}
          {error && (
            <p className="sidebar__error" role="alert">
              {error}{' '}
              <button type="button" className="link-button" onClick={() => void useChatList.getState().loadMore()}>
                Retry
              </button>
            </p>
          )}
          {hasMore && <div ref={sentinel} className="chat-list__sentinel" aria-hidden="true" />}
          {isLoading && <p className="muted chat-list__empty">Loading…</p>}
        </>
      )}
    </nav>
  );
}
