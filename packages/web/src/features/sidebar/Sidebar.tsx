import { useState } from 'react';
import { Icon } from '../../components/Icon';
import { IconButton } from '../../components/IconButton';
import { Menu } from '../../components/Menu';
import { navigate } from '../../lib/router';
import { openNewChat } from '../../state/chat';
import { useSession } from '../../state/session';
import { useSettings } from '../../state/settings';
import { isNarrow, useUi } from '../../state/ui';
import { ChatList } from './ChatList';

/** Starts a new chat (also what the header's button does). */
export function startNewChat(): void {
  openNewChat();
  navigate('/');
  useUi.getState().setDrawerOpen(false);
  requestAnimationFrame(() => document.getElementById('composer-input')?.focus());
}

/** Collapses the sidebar on desktop, closes the drawer on a phone. */
export function toggleSidebar(): void {
  if (isNarrow()) useUi.getState().setDrawerOpen(!useUi.getState().isDrawerOpen);
  else useSettings.getState().update({ isSidebarOpen: !useSettings.getState().isSidebarOpen });
}

/** The sidebar: new chat, search, the chat list and the user's menu. */
export function Sidebar({ activeChatId }: { activeChatId: string | null }) {
  const user = useSession((s) => s.user);
  const [query, setQuery] = useState('');
  return (
    <aside className="sidebar" aria-label="Sidebar">
      <div className="sidebar__top">
        <span className="brand" aria-hidden="true">
          P
        </span>
        <span className="sidebar__name">Parley</span>
        <IconButton icon="sidebar" label="Close sidebar" onClick={toggleSidebar} />
      </div>
      <button type="button" className="button button--block sidebar__new" onClick={startNewChat}>
        <Icon name="plus" />
        New chat
      </button>
      <label className="sidebar__search">
        <Icon name="search" size={16} />
        <input type="search" placeholder="Search chats" aria-label="Search chats" value={query} onChange={(e) => setQuery(e.target.value)} />
      </label>
      <ChatList activeChatId={activeChatId} query={query} />
      <div className="sidebar__footer">
        <span className="avatar" aria-hidden="true">
          {user?.name.slice(0, 1).toUpperCase()}
        </span>
        <span className="sidebar__user" title={user?.email}>
          {user?.name}
        </span>
        <Menu
          label="Account menu"
          trigger={<Icon name="settings" />}
          items={[
            { label: 'Settings', icon: 'settings', onSelect: () => useUi.getState().setSettingsOpen(true) },
            ...(user?.role === 'admin'
              ? [{ label: 'Admin', icon: 'shield' as const, onSelect: () => (navigate('/admin'), useUi.getState().setDrawerOpen(false)) }]
              : []),
            {
              label: 'Sign out',
              icon: 'logout',
              onSelect: () => {
                void useSession.getState().signOut();
                navigate('/', { replace: true });
              },
            },
          ]}
        />
      </div>
    </aside>
  );
}
