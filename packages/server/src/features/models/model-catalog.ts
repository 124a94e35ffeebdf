import type { ConnectionRow, ModelPresetRow } from '../../platform/db/schema.js';
import type { UpstreamModel } from '../../platform/llm/model-list.js';
import { parseModelIds } from '../connections/connections.service.js';
import { parsePresetParams } from './models.presenter.js';
import type { CatalogEntry } from './models.types.js';

/** One connection's answer, in connection order. */
export interface ConnectionModels {
  connection: ConnectionRow;
  models: UpstreamModel[];
}

/**
 * Merges the connections' lists in connection order (position). Per connection the allow-list
 * (`model_ids`, matched against upstream ids; empty allows all) filters, then `prefix_id` makes
 * the id `${prefix}.${id}`. Ids stay unique with one rule: the first connection to list an id keeps
 * it; a later connection's duplicate becomes `${id}@${connection name}`, or `${id}@${connection id}`
 * if two connections share that name too. So adding a connection never renames existing models.
 */
export function mergeConnectionModels(lists: ConnectionModels[], nowSeconds: number): CatalogEntry[] {
  const entries: CatalogEntry[] = [];
  const taken = new Set<string>();
  for (const { connection, models } of lists) {
    const allowList = parseModelIds(connection.model_ids);
    const allowed = allowList.length > 0 ? new Set(allowList) : null;
    const seen = new Set<string>();
    for (const model of models) {
      if ((allowed && !allowed.has(model.id)) || seen.has(model.id)) continue;
      seen.add(model.id);
      const listed = connection.prefix_id ? `${connection.prefix_id}.${model.id}` : model.id;
      const id = uniqueId(listed, connection, taken);
      taken.add(id);
      entries.push({
        id,
        object: 'model',
        created: model.created ?? nowSeconds,
        owned_by: connection.type,
        name: model.id,
        connection_id: connection.id,
        connection_type: connection.type,
        upstream_id: model.id,
      });
    }
  }
  return entries;
}

function uniqueId(id: string, connection: ConnectionRow, taken: ReadonlySet<string>): string {
  if (!taken.has(id)) return id;
  const byName = `${id}@${connection.name}`;
  return taken.has(byName) ? `${id}@${connection.id}` : byName;
}

/**
 * Adds active presets whose base model is listed (base models only: a preset cannot build on
 * another preset). A preset listed under a base model's own id replaces that entry, so admins
 * can give an upstream model a default system prompt without renaming it.
 */
export function addPresets(base: CatalogEntry[], presets: ModelPresetRow[]): CatalogEntry[] {
  const baseById = new Map(base.map((entry) => [entry.id, entry]));
  const indexById = new Map(base.map((entry, index) => [entry.id, index]));
  const result = [...base];
  for (const preset of presets) {
    const baseModel = baseById.get(preset.base_model_id);
    if (!baseModel) continue;
    const entry: CatalogEntry = {
      id: preset.id,
      object: 'model',
      created: Math.floor(preset.created_at / 1000),
      owned_by: baseModel.owned_by,
      name: preset.name,
      connection_id: baseModel.connection_id,
      connection_type: baseModel.connection_type,
      base_model_id: baseModel.id,
      upstream_id: baseModel.upstream_id,
      preset: { systemPrompt: preset.system_prompt, params: parsePresetParams(preset.params) },
    };
    const index = indexById.get(preset.id);
    if (index === undefined) {
      indexById.set(preset.id, result.length);
      result.push(entry);
    } else {
      result[index] = entry;
    }
  }
  return result;
}
