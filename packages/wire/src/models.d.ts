import type { ConnectionType } from './connections.js';

/** A model as `GET /api/models` lists it: a base model of a connection, or a preset. */
export interface ModelInfo {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  name: string;
  connection_id: string;
  connection_type: ConnectionType;
  /** Set for presets: the model they build on. */
  base_model_id?: string;
}

/** `GET /api/models`: the models the caller may use. */
export interface ModelList {
  object: 'list';
  data: ModelInfo[];
}

/** Generation parameters a preset applies; unset ones are left to the request. */
export interface PresetParams {
  /** The system prompt ('' for none). */
  system: string;
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  seed?: number;
  stop?: string | string[];
  frequency_penalty?: number;
  presence_penalty?: number;
}

/** A model preset as `/api/v1/models` shows it (admin). */
export interface Preset {
  id: string;
  base_model_id: string;
  name: string;
  meta: { description: string };
  params: PresetParams;
  is_active: boolean;
  /** Who created it. */
  user_id: string;
  created_at: number;
  updated_at: number;
}
