import type { Kysely } from 'kysely';
import type { AuditContext } from '../../http/audit-context.js';
import type { ResealCounts, SecretBox } from '../../platform/crypto/secret-box.js';
import type { Database } from '../../platform/db/schema.js';
import type { Platform } from '../../platform/platform.js';
import { changedFields, type AuditService } from '../audit/audit.service.js';
import * as repo from './settings.repo.js';
import { runtimeSettingsSchema, type RuntimeSettings } from './settings.schema.js';

export type { RuntimeSettings } from './settings.schema.js';

const settingsKey = 'runtime_settings';
/** Keys of the `config` table whose values are secrets, encrypted at rest: the generated token-signing secret. */
const secretKeys: ReadonlySet<string> = new Set(['webui_secret_key']);

/** What a sealed config value is bound to, so it does not open under another key. */
function secretContext(key: string): string {
  if (!secretKeys.has(key)) throw new Error(`config key ${key} is not declared as a secret`);
  return `config.value:${key}`;
}

/**
 * Moves every stored secret of the `config` table under the current encryption key (plain ones encrypted);
 * throws SecretKeyError when one cannot be opened. Idempotent; run in a transaction.
 */
export async function resealSecretsIn(trx: Kysely<Database>, secrets: SecretBox, now: number): Promise<ResealCounts> {
  const counts: ResealCounts = { resealed: 0, unchanged: 0 };
  for (const key of secretKeys) {
    const stored = await repo.readValue(trx, key);
    if (stored === undefined) continue;
    const next = secrets.reseal(stored, secretContext(key));
    if (next !== undefined && (await repo.replaceValue(trx, key, stored, next, now))) counts.resealed += 1;
    else counts.unchanged += 1;
  }
  return counts;
}

// Every instance rereads the database this often, so a change made on one is in force on all within a second.
const cacheMs = 1000;

/**
 * Reads and writes the runtime settings, stored in the database as the source of truth, and
 * keeps the other values of the `config` key-value table (markers, the stored secret) for the
 * features that need them.
 */
export function createSettingsService({ db, config, clock, secrets }: Platform, audit: AuditService) {
  const defaults: RuntimeSettings = {
    ENABLE_SIGNUP: config.ENABLE_SIGNUP,
    DEFAULT_USER_ROLE: config.DEFAULT_USER_ROLE,
    ENABLE_TITLE_GENERATION: config.ENABLE_TITLE_GENERATION,
    ENABLE_REMOTE_IMAGES: config.ENABLE_REMOTE_IMAGES,
  };
  let cached: { value: RuntimeSettings; at: number } | undefined;

  async function load(q: Kysely<Database> = db.kysely): Promise<RuntimeSettings> {
    const value = await repo.readValue(q, settingsKey);
    if (value === undefined) return defaults;
    const stored = runtimeSettingsSchema.partial().safeParse(JSON.parse(value));
    return { ...defaults, ...(stored.success ? stored.data : {}) };
  }

  return {
    /** Current settings, at most a second old. */
    async get(): Promise<RuntimeSettings> {
      const now = clock.now();
      if (!cached || now - cached.at >= cacheMs) cached = { value: await load(), at: now };
      return cached.value;
    },

    /** Current settings read inside the caller's transaction, uncached (a rule checked where it is enforced). */
    getIn: (trx: Kysely<Database>): Promise<RuntimeSettings> => load(trx),

    /** Applies a partial change and returns the full result. */
    async update(patch: Partial<RuntimeSettings>, context: AuditContext): Promise<RuntimeSettings> {
      const before = await load();
      const next = { ...before, ...patch };
      const now = clock.now();
      await repo.putValue(db.kysely, settingsKey, JSON.stringify(next), now);
      cached = { value: next, at: now };
      const changes = changedFields(before, next);
      if (Object.keys(changes).length > 0) await audit.record(context, { action: 'settings.updated', target: { type: 'settings', id: settingsKey }, details: changes });
      return next;
    },

    /** The stored value of a key, uncached (markers and secrets other features keep here). */
    readValue: (key: string): Promise<string | undefined> => repo.readValue(db.kysely, key),

    /** Stores `value` under `key` unless it exists; true for exactly one caller ever, whatever the concurrency. */
    claim: (key: string, value: string): Promise<boolean> => repo.claimKey(db.kysely, key, value, clock.now()),

    /** A stored secret, decrypted (throws SecretKeyError when this instance's keys cannot open it). */
    async readSecret(key: string): Promise<string | undefined> {
      const stored = await repo.readValue(db.kysely, key);
      return stored === undefined ? undefined : secrets.open(stored, secretContext(key));
    },

    /** `claim` for a secret: stored encrypted under the current key (plain without one). */
    claimSecret: (key: string, value: string): Promise<boolean> => repo.claimKey(db.kysely, key, secrets.seal(value, secretContext(key)), clock.now()),

    /** `claim` inside the caller's transaction: the claim commits or rolls back with the caller's work. */
    claimIn: (trx: Kysely<Database>, key: string, value: string): Promise<boolean> => repo.claimKey(trx, key, value, clock.now()),
  };
}

export type SettingsService = ReturnType<typeof createSettingsService>;
