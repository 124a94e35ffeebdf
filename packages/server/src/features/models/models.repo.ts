import type { Kysely, Updateable } from 'kysely';
import type { Database, ModelPresetRow, ModelPresetsTable } from '../../platform/db/schema.js';

type Q = Kysely<Database>;

/** Every preset, oldest first. */
export function listPresets(db: Q): Promise<ModelPresetRow[]> {
  return db.selectFrom('model_presets').selectAll().orderBy('created_at').orderBy('id').execute();
}

/** Active presets, oldest first. */
export function listActivePresets(db: Q): Promise<ModelPresetRow[]> {
  return db.selectFrom('model_presets').selectAll().where('is_active', '=', 1).orderBy('created_at').orderBy('id').execute();
}

/** One preset by id. */
export function findPreset(db: Q, id: string): Promise<ModelPresetRow | undefined> {
  return db.selectFrom('model_presets').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Inserts a preset (the primary key rejects a duplicate id). */
export async function insertPreset(db: Q, row: ModelPresetRow): Promise<void> {
  await db.insertInto('model_presets').values(row).execute();
}

/** Applies a change to a preset; false when it does not exist. */
export async function updatePreset(db: Q, id: string, patch: Updateable<ModelPresetsTable>): Promise<boolean> {
  const result = await db.updateTable('model_presets').set(patch).where('id', '=', id).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Deletes a preset; false when it did not exist. */
export async function deletePreset(db: Q, id: string): Promise<boolean> {
  const result = await db.deleteFrom('model_presets').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
