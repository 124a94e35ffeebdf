import type { Preset } from '@parley/wire';
import type { ModelPresetRow } from '../../platform/db/schema.js';
import type { CatalogEntry, ModelInfo } from './models.types.js';

/** A preset's stored params (without the system prompt, which has its own column). */
export function parsePresetParams(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** A preset as Open WebUI's /api/v1/models endpoints show it (times in epoch seconds). */
export function toPresetResponse(row: ModelPresetRow): Preset {
  return {
    id: row.id,
    base_model_id: row.base_model_id,
    name: row.name,
    meta: { description: row.description },
    params: { system: row.system_prompt, ...parsePresetParams(row.params) },
    is_active: row.is_active === 1,
    user_id: row.created_by,
    created_at: Math.floor(row.created_at / 1000),
    updated_at: Math.floor(row.updated_at / 1000),
  };
}
export type PresetResponse = ReturnType<typeof toPresetResponse>;

/** The public part of a catalog entry: what GET /api/models lists. */
export function toModelInfo(entry: CatalogEntry): ModelInfo {
  const info: ModelInfo = {
    id: entry.id,
    object: 'model',
    created: entry.created,
    owned_by: entry.owned_by,
    name: entry.name,
    connection_id: entry.connection_id,
    connection_type: entry.connection_type,
  };
  if (entry.base_model_id !== undefined) info.base_model_id = entry.base_model_id;
  return info;
}
