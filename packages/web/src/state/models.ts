import { create } from 'zustand';
import type { ModelInfo } from '@parley/wire';
import { listModels } from '../api/chats';
import { messageOf } from '../api/http';
import { useSettings } from './settings';

interface ModelsStore {
  models: ModelInfo[];
  isLoaded: boolean;
  error: string | null;
  /** The model the composer sends to. */
  selected: string;
  load(): Promise<void>;
  select(modelId: string): void;
}

/** The first choice that exists: the user's default, the last used, then the first listed. */
export function pickModel(models: readonly ModelInfo[], ...preferred: (string | null | undefined)[]): string {
  for (const id of preferred) if (id && models.some((model) => model.id === id)) return id;
  return models[0]?.id ?? '';
}

/** Models the user may chat with, and the one picked. */
export const useModels = create<ModelsStore>((set, get) => ({
  models: [],
  isLoaded: false,
  error: null,
  selected: '',
  async load() {
    try {
      const models = await listModels();
      const { defaultModel, lastModel } = useSettings.getState();
      set({ models, isLoaded: true, error: null, selected: pickModel(models, get().selected, defaultModel, lastModel) });
    } catch (error) {
      set({ isLoaded: true, error: messageOf(error) });
    }
  },
  select(modelId) {
    set({ selected: modelId });
    useSettings.getState().update({ lastModel: modelId });
  },
}));
