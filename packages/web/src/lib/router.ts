import { useSyncExternalStore } from 'react';

const listeners = new Set<() => void>();
const notify = () => listeners.forEach((listener) => listener());
window.addEventListener('popstate', notify);

/** Goes to an in-app path (history API; the server answers every such path with the app). */
export function navigate(path: string, { replace = false } = {}): void {
  if (path === location.pathname) return;
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  notify();
}

/** The current path; re-renders on navigation. */
export function usePath(): string {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => location.pathname,
  );
}

/** What a path shows. */
export type Route = { name: 'chat'; chatId: string | null } | { name: 'admin'; tab: string } | { name: 'notFound' };

/** Reads a path: `/`, `/c/:id`, `/admin`, `/admin/:tab`. */
export function matchRoute(path: string): Route {
  if (path === '/' || path === '') return { name: 'chat', chatId: null };
  const chat = /^\/c\/([^/]+)\/?$/.exec(path);
  if (chat?.[1]) return { name: 'chat', chatId: decodeURIComponent(chat[1]) };
  const admin = /^\/admin(?:\/([a-z-]+))?\/?$/.exec(path);
  if (admin) return { name: 'admin', tab: admin[1] ?? 'users' };
  return { name: 'notFound' };
}
