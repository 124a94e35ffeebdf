import { useEffect, useState } from 'react';
import type { ChatSummary } from '@parley/wire';
import { listArchived, toggleArchive } from '../../api/chats';
import { messageOf } from '../../api/http';
import { useChatList } from '../../state/chat-list';

/** Archived chats, each with Restore. */
export function ArchivedChats() {
  const [chats, setChats] = useState<ChatSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    listArchived().then(setChats, (caught: unknown) => setError(messageOf(caught)));
  }, []);
  async function restore(chat: ChatSummary) {
    try {
      await toggleArchive(chat.id);
      setChats((all) => all?.filter((item) => item.id !== chat.id) ?? null);
      void useChatList.getState().refresh();
    } catch (caught) {
      setError(messageOf(caught));
    }
  }
  if (error) return <p className="form-error" role="alert">{error}</p>;
  if (!chats) return <p className="muted">Loading…</p>;
  if (chats.length === 0) return <p className="muted">No archived chats.</p>;
  return (
    <ul className="simple-list">
      {chats.map((chat) => (
        <li key={chat.id}>
          <span>{chat.title}</span>
          <button type="button" className="button button--small" onClick={() => void restore(chat)}>
            Restore
          </button>
        </li>
      ))}
    </ul>
  );
}
