import { z } from 'zod';
import type { Platform } from '../../platform/platform.js';
import type { AuditContext } from '../audit/audit-context.js';
import { changedFields } from '../audit/audit-details.js';
import type { AuditService } from '../audit/audit.service.js';

/** Settings admins change at run time; the environment gives their starting values. */
export const runtimeSettingsSchema = z.object({
  ENABLE_SIGNUP: z.boolean(),
  DEFAULT_USER_ROLE: z.enum(['pending', 'user']),
  ENABLE_TITLE_GENERATION: z.boolean(),
});
export type RuntimeSettings = z.infer<typeof runtimeSettingsSchema>;

const settingsKey = 'runtime_settings';
// Every instance rereads the database this often, so a change made on one is in force on all within a second.
const cacheMs = 1000;

/** Reads and writes the runtime settings, stored in the database as the source of truth. */
export function createSettingsService({ db, config, clock }: Platform, audit: AuditService) {
  const defaults: RuntimeSettings = {
    ENABLE_SIGNUP: config.ENABLE_SIGNUP,
    DEFAULT_USER_ROLE: config.DEFAULT_USER_ROLE,
    ENABLE_TITLE_GENERATION: config.ENABLE_TITLE_GENERATION,
  };
  let cached: { value: RuntimeSettings; at: number } | undefined;

  async function load(): Promise<RuntimeSettings> {
    const row = await db.kysely.selectFrom('config').select('value').where('key', '=', settingsKey).executeTakeFirst();
    if (!row) return defaults;
    const stored = runtimeSettingsSchema.partial().safeParse(JSON.parse(row.value));
    return { ...defaults, ...(stored.success ? stored.data : {}) };
  }

  return {
    /** Current settings, at most a second old. */
    async get(): Promise<RuntimeSettings> {
      const now = clock.now();
      if (!cached || now - cached.at >= cacheMs) cached = { value: await load(), at: now };
      return cached.value;
    },

    /** Applies a partial change and returns the full result. */
    async update(patch: Partial<RuntimeSettings>, context: AuditContext): Promise<RuntimeSettings> {
      const before = await load();
      const next = { ...before, ...patch };
      const now = clock.now();
      await db.kysely
        .insertInto('config')
        .values({ key: settingsKey, value: JSON.stringify(next), updated_at: now })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: JSON.stringify(next), updated_at: now }))
        .execute();
      cached = { value: next, at: now };
      const changes = changedFields(before, next);
      if (Object.keys(changes).length > 0) await audit.record(context, { action: 'settings.updated', target: { type: 'settings', id: settingsKey }, details: changes });
      return next;
    },
  };
}

export type SettingsService = ReturnType<typeof createSettingsService>;
