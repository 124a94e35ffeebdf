import { create } from 'zustand';
import type { PublicConfig, User } from '@parley/wire';
import { currentUser, publicConfig, signIn, signOut, signUp } from '../api/auth';
import { messageOf } from '../api/http';

/** Where the app stands with the server. */
export type SessionStatus = 'loading' | 'signedOut' | 'signedIn' | 'unreachable';

interface SessionStore {
  status: SessionStatus;
  user: User | null;
  config: PublicConfig | null;
  error: string | null;
  /** Asks the server who is signed in and its public facts (whether it has users yet, remote images). */
  load(): Promise<void>;
  signIn(email: string, password: string): Promise<void>;
  signUp(name: string, email: string, password: string): Promise<void>;
  signOut(): Promise<void>;
  /** The session ended elsewhere (a 401): back to the sign-in screen. */
  expire(): void;
}

/** The signed-in user and the instance's public facts. */
export const useSession = create<SessionStore>((set) => ({
  status: 'loading',
  user: null,
  config: null,
  error: null,
  async load() {
    try {
      // Both at once: the signed-in app needs the config too (whether answers may load remote images).
      const config = publicConfig();
      config.catch(() => undefined);
      const user = await currentUser();
      if (user) {
        set({ status: 'signedIn', user, config: await config.catch(() => null), error: null });
        return;
      }
      set({ status: 'signedOut', user: null, config: await config, error: null });
    } catch (error) {
      set({ status: 'unreachable', error: messageOf(error) });
    }
  },
  async signIn(email, password) {
    const { token: _token, token_type: _type, ...user } = await signIn(email, password);
    set({ status: 'signedIn', user, error: null });
  },
  async signUp(name, email, password) {
    const { token: _token, token_type: _type, ...user } = await signUp(name, email, password);
    set({ status: 'signedIn', user, error: null });
  },
  async signOut() {
    try {
      await signOut();
    } finally {
      set({ status: 'signedOut', user: null, config: await publicConfig().catch(() => null) });
    }
  },
  expire() {
    set((state) => (state.status === 'signedIn' ? { status: 'signedOut', user: null } : state));
  },
}));
