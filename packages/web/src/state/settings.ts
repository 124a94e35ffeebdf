import { create } from 'zustand';

/** The colour scheme the user picked. */
export type ThemeChoice = 'light' | 'dark' | 'system';

/** Per-user preferences kept in this browser. */
export interface Settings {
  theme: ThemeChoice;
  /** Model new chats start with ('' = the last one used). */
  defaultModel: string;
  /** Sent as a system message at the start of every chat ('' = none). */
  systemPrompt: string;
  /** The model picked most recently. */
  lastModel: string;
  isSidebarOpen: boolean;
}

const storageKey = 'parley.settings';
const defaults: Settings = { theme: 'system', defaultModel: '', systemPrompt: '', lastModel: '', isSidebarOpen: true };

function load(): Settings {
  try {
    const stored = JSON.parse(localStorage.getItem(storageKey) ?? '{}') as Partial<Settings>;
    return { ...defaults, ...stored };
  } catch {
    return defaults;
  }
}

interface SettingsStore extends Settings {
  update(patch: Partial<Settings>): void;
}

/** Preferences, saved to localStorage on every change. */
export const useSettings = create<SettingsStore>((set, get) => ({
  ...load(),
  update(patch) {
    set(patch);
    const { update: _update, ...settings } = { ...get() };
    try {
      localStorage.setItem(storageKey, JSON.stringify(settings));
    } catch {
      // Private mode or a full quota: the choice still holds for this visit.
    }
  },
}));

/** The scheme in force: `system` follows the operating system. */
export function resolveTheme(choice: ThemeChoice, prefersDark: boolean): 'light' | 'dark' {
  return choice === 'system' ? (prefersDark ? 'dark' : 'light') : choice;
}
