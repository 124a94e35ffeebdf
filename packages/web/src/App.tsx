import { lazy, Suspense, useEffect } from 'react';
import { onUnauthenticated } from './api/http';
import { AuthScreen } from './features/auth/AuthScreen';
import { PendingScreen } from './features/auth/PendingScreen';
import { ChatView } from './features/chat/ChatView';
import { Sidebar } from './features/sidebar/Sidebar';
import { SettingsDialog } from './features/settings/SettingsDialog';
import { matchRoute, navigate, usePath } from './lib/router';
import { useThemeEffect } from './lib/theme';
import { resetOnSignOut } from './state/reset';
import { useSession } from './state/session';
import { useSettings } from './state/settings';
import { useUi } from './state/ui';

// Most people never open the admin area: it is a separate chunk.
const AdminPage = lazy(() => import('./features/admin/AdminPage'));

function Splash({ text }: { text: string }) {
  return (
    <main className="splash" aria-busy="true">
      <div className="brand brand--large" aria-hidden="true">
        P
      </div>
      <p className="muted">{text}</p>
    </main>
  );
}

function Shell() {
  const route = matchRoute(usePath());
  const isAdmin = useSession((s) => s.user?.role === 'admin');
  const isSidebarOpen = useSettings((s) => s.isSidebarOpen);
  const isDrawerOpen = useUi((s) => s.isDrawerOpen);
  const isSettingsOpen = useUi((s) => s.isSettingsOpen);

  useEffect(() => {
    if (route.name === 'notFound' || (route.name === 'admin' && !isAdmin)) navigate('/', { replace: true });
  }, [route.name, isAdmin]);

  return (
    <div className={`shell ${isSidebarOpen ? '' : 'shell--collapsed'} ${isDrawerOpen ? 'shell--drawer' : ''}`}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Sidebar activeChatId={route.name === 'chat' ? route.chatId : null} />
      <div className="drawer-backdrop" onClick={() => useUi.getState().setDrawerOpen(false)} aria-hidden="true" />
      <main id="main" className="main" tabIndex={-1}>
        {route.name === 'admin' && isAdmin ? (
          <Suspense fallback={<Splash text="Loading the admin area…" />}>
            <AdminPage tab={route.tab} />
          </Suspense>
        ) : (
          <ChatView chatId={route.name === 'chat' ? route.chatId : null} />
        )}
      </main>
      {isSettingsOpen && <SettingsDialog onClose={() => useUi.getState().setSettingsOpen(false)} />}
    </div>
  );
}

/** The app: who is signed in decides the screen. */
export function App() {
  useThemeEffect();
  const status = useSession((s) => s.status);
  const role = useSession((s) => s.user?.role);
  const error = useSession((s) => s.error);

  useEffect(() => {
    void useSession.getState().load();
    const stopReset = resetOnSignOut();
    const stopListening = onUnauthenticated(() => useSession.getState().expire());
    return () => {
      stopReset();
      stopListening();
    };
  }, []);

  if (status === 'loading') return <Splash text="Loading…" />;
  if (status === 'unreachable') {
    return (
      <main className="splash" role="alert">
        <h1>Parley is unreachable</h1>
        <p className="muted">{error}</p>
        <button type="button" className="button button--primary" onClick={() => void useSession.getState().load()}>
          Try again
        </button>
      </main>
    );
  }
  if (status === 'signedOut') return <AuthScreen />;
  if (role === 'pending') return <PendingScreen />;
  return <Shell />;
}
