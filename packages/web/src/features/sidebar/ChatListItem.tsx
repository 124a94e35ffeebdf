import { memo, useState, type FormEvent } from 'react';
import type { ChatSummary } from '@parley/wire';
import { messageOf } from '../../api/http';
import { ConfirmDialog } from '../../components/Dialog';
import { Icon } from '../../components/Icon';
import { Menu } from '../../components/Menu';
import { navigate } from '../../lib/router';
import { useUi } from '../../state/ui';
import { archive, exportAsJson, pin, remove, rename } from './chat-actions';

/** One chat in the sidebar: a link plus its menu (rename, pin, archive, export, delete). */
export const ChatListItem = memo(function ChatListItem({ chat, isActive, onError }: { chat: ChatSummary; isActive: boolean; onError: (text: string) => void }) {
  const [isRenaming, setRenaming] = useState(false);
  const [isConfirmingDelete, setConfirmingDelete] = useState(false);
  const [title, setTitle] = useState(chat.title);
  const run = (work: Promise<unknown>) => work.catch((error: unknown) => onError(messageOf(error)));

  function submitRename(event?: FormEvent) {
    event?.preventDefault();
    setRenaming(false);
    const next = title.trim();
    if (next && next !== chat.title) void run(rename(chat, next));
    else setTitle(chat.title);
  }

  if (isRenaming) {
    return (
      <li className="chat-item chat-item--editing">
        <form onSubmit={submitRename}>
          <input
            className="chat-item__input"
            aria-label="Chat title"
            value={title}
            maxLength={200}
            autoFocus
            onChange={(e) => setTitle(e.target.value)}
            onBlur={() => submitRename()}
            onKeyDown={(e) => {
              if (e.key === 'Escape') {
                setTitle(chat.title);
                setRenaming(false);
              }
            }}
          />
        </form>
      </li>
    );
  }

  return (
    <li className={`chat-item ${isActive ? 'chat-item--active' : ''}`}>
      <a
        href={`/c/${encodeURIComponent(chat.id)}`}
        className="chat-item__link"
        aria-current={isActive ? 'page' : undefined}
        onClick={(event) => {
          if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
          event.preventDefault();
          navigate(`/c/${encodeURIComponent(chat.id)}`);
          useUi.getState().setDrawerOpen(false);
        }}
      >
        {chat.pinned && <Icon name="pin" size={13} />}
        <span className="chat-item__title">{chat.title}</span>
      </a>
      <Menu
        label={`Options for ${chat.title}`}
        trigger={<Icon name="more" />}
        items={[
          { label: 'Rename', icon: 'edit', onSelect: () => (setTitle(chat.title), setRenaming(true)) },
          { label: chat.pinned ? 'Unpin' : 'Pin', icon: 'pin', onSelect: () => void run(pin(chat)) },
          { label: 'Archive', icon: 'archive', onSelect: () => void run(archive(chat)) },
          { label: 'Export', icon: 'download', onSelect: () => void run(exportAsJson(chat)) },
          { label: 'Delete', icon: 'trash', isDanger: true, onSelect: () => setConfirmingDelete(true) },
        ]}
      />
      {isConfirmingDelete && (
        <ConfirmDialog
          title="Delete chat?"
          message={
            <>
              “{chat.title}” and all its messages will be deleted. This cannot be undone.
            </>
          }
          confirmLabel="Delete"
          onCancel={() => setConfirmingDelete(false)}
          onConfirm={() => {
            setConfirmingDelete(false);
            void run(remove(chat));
          }}
        />
      )}
    </li>
  );
});
