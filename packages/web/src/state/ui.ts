import { create } from 'zustand';

interface UiStore {
  /** The sidebar as a drawer on narrow screens. */
  isDrawerOpen: boolean;
  isSettingsOpen: boolean;
  setDrawerOpen(isOpen: boolean): void;
  setSettingsOpen(isOpen: boolean): void;
}

/** Transient layout state. */
export const useUi = create<UiStore>((set) => ({
  isDrawerOpen: false,
  isSettingsOpen: false,
  setDrawerOpen: (isDrawerOpen) => set({ isDrawerOpen }),
  setSettingsOpen: (isSettingsOpen) => set({ isSettingsOpen }),
}));

/** Whether the screen is phone-sized (the sidebar is a drawer there). */
export const isNarrow = () => window.matchMedia('(max-width: 767px)').matches;
