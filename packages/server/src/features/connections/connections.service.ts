import type { ConnectionTestResult } from '@parley/wire';
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { httpErrors } from '../../http/errors.js';
import { isSealed, SecretKeyError, type ResealCounts, type SecretBox } from '../../platform/crypto/secret-box.js';
import type { ConnectionRow, ConnectionType, Database } from '../../platform/db/schema.js';
import type { UpstreamModel } from '../../platform/llm/model-list.js';
import { normaliseBaseUrl, type UpstreamTarget } from '../../platform/llm/types.js';
import type { UpstreamClient } from '../../platform/llm/upstream-client.js';
import type { Platform } from '../../platform/platform.js';
import type { AuditContext } from '../../http/audit-context.js';
import { changedFields, type AuditService } from '../audit/audit.service.js';
import type { SettingsService } from '../settings/settings.service.js';
import * as repo from './connections.repo.js';
import type { CreateConnectionInput, TestConnectionInput, UpdateConnectionInput } from './connections.schema.js';
import { maskApiKey, maskBaseUrl, parseModelIds } from './connections.presenter.js';

// Other features read a connection's allow-list through this service.
export { parseModelIds };

/** How a takeover finishes an answer: the partial text continued by the model, or the answer asked afresh. */
export type TakeoverMode = 'continue' | 'regenerate';

/**
 * The takeover mode a connection's setting stands for. `auto` continues only where the upstream is known to
 * continue a trailing assistant message: Ollama does; OpenAI's API does not (it answers again from the
 * start, so continuing would repeat text), nor can an unknown OpenAI-compatible server be assumed to.
 */
export function takeoverModeOf(row: Pick<ConnectionRow, 'type' | 'takeover_mode'>): TakeoverMode {
  if (row.takeover_mode === 'continue' || row.takeover_mode === 'regenerate') return row.takeover_mode;
  return row.type === 'ollama' ? 'continue' : 'regenerate';
}

/** Outcome of trying a connection's model list. */

/** Called after any connection changes, so dependants (the model list cache) can forget what they derived. */
export type ConnectionsListener = () => Promise<void> | void;

/** A URL without the user name and password it may carry (`https://user:secret@host/`). */
function withoutUserInfo(url: string): string {
  const parsed = URL.parse(url);
  if (!parsed || (!parsed.username && !parsed.password)) return url;
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

/** Where and how to reach a connection's upstream. */
export function toUpstreamTarget(row: ConnectionRow): UpstreamTarget {
  return { type: row.type, baseUrl: row.base_url, apiKey: row.api_key, http2: row.use_http2 === 1 };
}

/** A connection's fields as the audit log shows them: no credentials, the API key only as whether one is set. */
function auditedFields(row: ConnectionRow) {
  const { type, name, prefix_id } = row;
  const model_ids = parseModelIds(row.model_ids);
  return {
    type,
    name,
    base_url: withoutUserInfo(row.base_url),
    prefix_id,
    model_ids,
    enabled: row.is_enabled === 1,
    http2: row.use_http2 === 1,
    takeover_mode: row.takeover_mode,
    api_key: row.api_key ? 'set' : 'none',
  };
}

// The config key that says the environment's connections were seeded once (by any instance).
const seedMarker = 'connections_seeded';

/** What a connection's sealed API key is bound to: a sealed key copied into another row does not open. */
function apiKeyContext(id: string): string {
  return `connections.api_key:${id}`;
}

/**
 * Moves every stored API key under the current encryption key: plain (legacy) keys are encrypted, keys under an
 * earlier key re-encrypted; throws SecretKeyError when one cannot be opened. Idempotent; run in a transaction.
 */
export async function resealApiKeysIn(trx: Kysely<Database>, secrets: SecretBox): Promise<ResealCounts> {
  const counts: ResealCounts = { resealed: 0, unchanged: 0 };
  for (const { id, api_key } of await repo.listStoredApiKeys(trx)) {
    const next = secrets.reseal(api_key, apiKeyContext(id));
    // Another instance starting at the same time may have sealed it already: only the value read is replaced.
    if (next !== undefined && (await repo.replaceStoredApiKey(trx, id, api_key, next))) counts.resealed += 1;
    else counts.unchanged += 1;
  }
  return counts;
}

/** A new API key from the admin, refused when it would read back as an encrypted value. */
function checkedApiKey(key: string): string {
  if (isSealed(key)) throw httpErrors.badRequest('api_key must not start with "enc:v1:" (the prefix of encrypted values)');
  return key;
}

/** Upstream connections: stored configuration, seeding from the environment, and reading their model lists. */
export function createConnectionsService(platform: Platform, audit: AuditService, settings: SettingsService, upstream: UpstreamClient) {
  const { db, clock, config, log, secrets } = platform;
  const listTimeoutMs = config.AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST * 1000;
  const listeners = new Set<ConnectionsListener>();
  // Every completion needs the enabled connections; rereading them at most once a second keeps the
  // database off the hot path while a change made on any instance is in force everywhere within a second.
  let enabled: { rows: Promise<ConnectionRow[]>; at: number } | undefined;

  async function changed(): Promise<void> {
    enabled = undefined;
    for (const listener of listeners) await listener();
  }

  /** The row with its API key decrypted; a key this instance cannot open is a 503 naming the cause in the log. */
  function opened(row: ConnectionRow): ConnectionRow {
    try {
      return { ...row, api_key: secrets.open(row.api_key, apiKeyContext(row.id)) };
    } catch (error) {
      if (!(error instanceof SecretKeyError)) throw error;
      log.error({ connectionId: row.id, err: error }, 'a connection API key cannot be decrypted');
      throw httpErrors.unavailable("A connection's API key cannot be decrypted with this instance's encryption key");
    }
  }

  function sealedKey(id: string, key: string): string {
    return secrets.seal(key, apiKeyContext(id));
  }

  function listEnabled(): Promise<ConnectionRow[]> {
    const now = clock.now();
    if (!enabled || now - enabled.at >= 1000) {
      // Decrypted once per reread, not per request.
      const rows = repo.listEnabledConnections(db.kysely).then((stored) => stored.map(opened));
      enabled = { rows, at: now };
      rows.catch(() => (enabled = undefined));
    }
    return enabled.rows;
  }

  async function findOrThrow(id: string): Promise<ConnectionRow> {
    const row = await repo.findConnection(db.kysely, id);
    if (!row) throw httpErrors.notFound('Connection');
    return opened(row);
  }

  async function tryModelList(target: UpstreamTarget): Promise<ConnectionTestResult> {
    const started = performance.now();
    try {
      const models = await upstream.listModels(target, listTimeoutMs);
      return { ok: true, models: models.length, latency_ms: Math.round(performance.now() - started) };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  }

  return {
    /**
     * Inserts connections from OLLAMA_BASE_URLS / OPENAI_API_BASE_URLS on first start only: when no
     * connection exists and no instance has seeded before. After that the database is the truth, so
     * a connection the admin deletes stays deleted. With nothing to seed no marker is written, so
     * URLs added to the environment before any connection exists still take effect.
     */
    async seedFromEnvironment(): Promise<void> {
      const seeds: Array<{ type: ConnectionType; name: string; base_url: string; api_key: string }> = [
        ...config.OLLAMA_BASE_URLS.map((url, i) => ({ type: 'ollama' as const, name: `Ollama ${i + 1}`, base_url: url, api_key: '' })),
        ...config.OPENAI_API_BASE_URLS.map((url, i) => ({
          type: 'openai' as const,
          name: `OpenAI ${i + 1}`,
          base_url: url,
          api_key: config.OPENAI_API_KEYS[i] ?? '',
        })),
      ];
      if (seeds.length === 0) return;
      const now = clock.now();
      const seeded = await db.kysely.transaction().execute(async (trx) => {
        // Concurrent instances starting together: the marker's primary key lets exactly one seed. It is
        // written before the count is read so the transaction holds the write lock (SQLite) from the start.
        if (!(await settings.claimIn(trx, seedMarker, 'true'))) return false;
        if ((await repo.countConnections(trx)) > 0) return false;
        for (const [position, seed] of seeds.entries()) {
          const id = randomUUID();
          await repo.insertConnection(trx, {
            id,
            ...seed,
            api_key: sealedKey(id, seed.api_key),
            base_url: normaliseBaseUrl(seed.base_url),
            prefix_id: '',
            model_ids: '[]',
            is_enabled: 1,
            use_http2: 0,
            takeover_mode: 'auto',
            position,
            created_at: now,
            updated_at: now,
          });
        }
        return true;
      });
      if (seeded) {
        log.info({ connections: seeds.map((s) => ({ type: s.type, base_url: maskBaseUrl(s.base_url) })) }, 'connections seeded from the environment');
        await changed();
      }
    },

    /** Every connection in display order. */
    async list(): Promise<ConnectionRow[]> {
      return (await repo.listConnections(db.kysely)).map(opened);
    },

    /** Enabled connections in their configured order. */
    listEnabled,

    /**
     * How a takeover finishes an answer of this connection (read from the enabled connections, cached for a
     * second like every completion's lookup); `regenerate` for a connection gone or disabled meanwhile.
     */
    async takeoverMode(connectionId: string): Promise<TakeoverMode> {
      const row = (await listEnabled()).find((connection) => connection.id === connectionId);
      return row ? takeoverModeOf(row) : 'regenerate';
    },

    /** One connection; 404 when unknown. */
    get(id: string): Promise<ConnectionRow> {
      return findOrThrow(id);
    },

    /** Adds a connection after the existing ones. */
    async create(input: CreateConnectionInput, context: AuditContext): Promise<ConnectionRow> {
      const now = clock.now();
      const baseUrl = normaliseBaseUrl(input.base_url);
      const row: ConnectionRow = {
        id: randomUUID(),
        type: input.type,
        name: input.name ?? new URL(baseUrl).host,
        base_url: baseUrl,
        api_key: checkedApiKey(input.api_key ?? ''),
        prefix_id: input.prefix_id ?? '',
        model_ids: JSON.stringify(input.model_ids ?? []),
        is_enabled: input.enabled === false ? 0 : 1,
        use_http2: input.http2 ? 1 : 0,
        takeover_mode: input.takeover_mode ?? 'auto',
        position: await repo.nextPosition(db.kysely),
        created_at: now,
        updated_at: now,
      };
      await repo.insertConnection(db.kysely, { ...row, api_key: sealedKey(row.id, row.api_key) });
      await changed();
      await audit.record(context, { action: 'connection.created', target: { type: 'connection', id: row.id }, details: auditedFields(row) });
      return row;
    },

    /**
     * Applies a partial change; an omitted api_key (or the masked one sent back) keeps the stored key, and
     * the masked base URL sent back (`http://user:***@host`) keeps the stored one with its credentials.
     */
    async update(id: string, patch: UpdateConnectionInput, context: AuditContext): Promise<ConnectionRow> {
      const current = await findOrThrow(id);
      const keepsKey = patch.api_key === undefined || (current.api_key !== '' && patch.api_key === maskApiKey(current.api_key));
      const keepsBaseUrl = patch.base_url === undefined || normaliseBaseUrl(patch.base_url) === maskBaseUrl(current.base_url);
      const isUpdated = await repo.updateConnection(db.kysely, id, {
        ...(patch.type !== undefined && { type: patch.type }),
        ...(patch.name !== undefined && { name: patch.name }),
        ...(!keepsBaseUrl && { base_url: normaliseBaseUrl(patch.base_url!) }),
        ...(!keepsKey && { api_key: sealedKey(id, checkedApiKey(patch.api_key ?? '')) }),
        ...(patch.prefix_id !== undefined && { prefix_id: patch.prefix_id }),
        ...(patch.model_ids !== undefined && { model_ids: JSON.stringify(patch.model_ids) }),
        ...(patch.enabled !== undefined && { is_enabled: patch.enabled ? 1 : 0 }),
        ...(patch.http2 !== undefined && { use_http2: patch.http2 ? 1 : 0 }),
        ...(patch.takeover_mode !== undefined && { takeover_mode: patch.takeover_mode }),
        updated_at: clock.now(),
      });
      if (!isUpdated) throw httpErrors.notFound('Connection');
      await changed();
      const updated = await findOrThrow(id);
      const changes = changedFields(auditedFields(current), auditedFields(updated));
      // Whether the key changed, never from what to what.
      delete changes.api_key;
      await audit.record(context, {
        action: 'connection.updated',
        target: { type: 'connection', id },
        details: {
          name: updated.name,
          ...changes,
          ...(updated.api_key !== current.api_key && { api_key: 'changed' }),
          ...(!changes.base_url && updated.base_url !== current.base_url && { base_url: 'credentials changed' }),
        },
      });
      return updated;
    },

    /** Deletes a connection; 404 when unknown. */
    async remove(id: string, context: AuditContext): Promise<void> {
      const row = await repo.findConnection(db.kysely, id);
      if (!row || !(await repo.deleteConnection(db.kysely, id))) throw httpErrors.notFound('Connection');
      await changed();
      await audit.record(context, { action: 'connection.deleted', target: { type: 'connection', id }, details: auditedFields(row) });
    },

    /** Tries a saved connection's model list (enabled or not). */
    async test(id: string): Promise<ConnectionTestResult> {
      return tryModelList(toUpstreamTarget(await findOrThrow(id)));
    },

    /** Tries an unsaved connection's model list. */
    testUnsaved(input: TestConnectionInput): Promise<ConnectionTestResult> {
      return tryModelList({ type: input.type, baseUrl: normaliseBaseUrl(input.base_url), apiKey: input.api_key ?? '', http2: input.http2 === true });
    },

    /** A connection's upstream model list, bounded by AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST; throws UpstreamListError. */
    fetchModels(connection: ConnectionRow): Promise<UpstreamModel[]> {
      return upstream.listModels(toUpstreamTarget(connection), listTimeoutMs);
    },

    /** Registers a callback run after every change; returns the unsubscribe function. */
    onChange(listener: ConnectionsListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
export type ConnectionsService = ReturnType<typeof createConnectionsService>;
