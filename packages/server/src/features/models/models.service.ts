import type { AuthUser } from '../../http/access.js';
import { httpErrors } from '../../http/errors.js';
import { isDatabaseUnavailable } from '../../platform/db/errors.js';
import type { ConnectionRow, ModelPresetRow } from '../../platform/db/schema.js';
import type { Platform } from '../../platform/platform.js';
import type { AuditContext } from '../../http/audit-context.js';
import { changedFields, type AuditService } from '../audit/audit.service.js';
import { toUpstreamTarget, type ConnectionsService } from '../connections/connections.service.js';
import { addPresets, mergeConnectionModels, type ConnectionModels } from './model-catalog.js';
import { parsePresetParams, toModelInfo } from './models.presenter.js';
import * as repo from './models.repo.js';
import type { CreatePresetInput, PresetParamsInput, UpdatePresetInput } from './models.schema.js';
import type { CatalogEntry, ModelInfo, ResolvedModel } from './models.types.js';

export type { ModelInfo, ResolvedModel } from './models.types.js';

/** The shared cache entry: in SharedState so every instance reuses one gathered list. */
interface CachedCatalog {
  builtAt: number;
  models: CatalogEntry[];
}

const cacheKey = 'models:list';
// An unknown id forces a fresh list at most this often, so clients sending bad ids cannot hammer upstreams.
const missRefreshMinMs = 2000;

/** The model list gathered from all connections, presets on top of it, and resolving ids to upstreams. */
export function createModelsService(platform: Platform, connections: ConnectionsService, audit: AuditService) {
  const { db, shared, clock, config, log } = platform;
  const ttlMs = config.MODELS_CACHE_TTL * 1000;
  // Single flight: callers during a refresh share it. Bumping the generation on a change keeps a refresh
  // that started before the change from being joined or from writing its outdated result to the cache.
  let generation = 0;
  let inFlight: { generation: number; promise: Promise<CachedCatalog> } | undefined;
  // The last list and connections read, so that resolving a model (all a relayed answer needs)
  // goes on while the database is unreachable. A change made here forgets them.
  let lastCatalog: CachedCatalog | undefined;
  let lastEnabled: ConnectionRow[] | undefined;

  async function invalidate(): Promise<void> {
    generation += 1;
    inFlight = undefined;
    lastCatalog = undefined;
    lastEnabled = undefined;
    await shared.deleteCached(cacheKey);
  }
  connections.onChange(invalidate);

  /** The enabled connections; the last ones read while the database is unreachable. */
  async function enabledConnections(): Promise<ConnectionRow[]> {
    try {
      return (lastEnabled = await connections.listEnabled());
    } catch (error) {
      if (lastEnabled && isDatabaseUnavailable(error)) return lastEnabled;
      throw error;
    }
  }

  async function gather(): Promise<CachedCatalog> {
    // Presets first: without the database this fails before any upstream is asked for its list.
    const presets = await repo.listActivePresets(db.kysely);
    const enabled = await enabledConnections();
    // Each fetch is bounded by the list timeout, so a slow or dead upstream only leaves its own models out.
    const lists = await Promise.all(
      enabled.map(async (connection): Promise<ConnectionModels> => {
        try {
          return { connection, models: await connections.fetchModels(connection) };
        } catch (error) {
          log.warn({ connectionId: connection.id, name: connection.name, reason: (error as Error).message }, 'model list left out');
          return { connection, models: [] };
        }
      }),
    );
    const now = clock.now();
    const base = mergeConnectionModels(lists, Math.floor(now / 1000));
    return { builtAt: now, models: addPresets(base, presets) };
  }

  function refresh(): Promise<CachedCatalog> {
    if (inFlight && inFlight.generation === generation) return inFlight.promise;
    const startedIn = generation;
    const promise = gather()
      .then(async (catalog) => {
        if (startedIn === generation) await shared.setCached(cacheKey, catalog, ttlMs);
        return catalog;
      })
      .finally(() => {
        if (inFlight?.promise === promise) inFlight = undefined;
      });
    inFlight = { generation: startedIn, promise };
    return promise;
  }

  async function catalog(isFresh: boolean): Promise<CachedCatalog> {
    if (!isFresh) {
      const cached = await shared.getCached<CachedCatalog>(cacheKey);
      if (cached) return (lastCatalog = cached);
    }
    try {
      return (lastCatalog = await refresh());
    } catch (error) {
      // Presets and connections are read from the database: without it, the last list serves.
      if (lastCatalog && isDatabaseUnavailable(error)) return lastCatalog;
      throw error;
    }
  }

  async function lookup(id: string, found: CachedCatalog): Promise<ResolvedModel | undefined> {
    const entry = found.models.find((model) => model.id === id);
    if (!entry) return undefined;
    // The key is read from the database, never from the cache: credentials stay out of shared state.
    const connection = (await enabledConnections()).find((row) => row.id === entry.connection_id);
    if (!connection) return undefined;
    return {
      id,
      upstreamModelId: entry.upstream_id,
      connection: { id: connection.id, ...toUpstreamTarget(connection) },
      ...(entry.preset && { preset: entry.preset }),
    };
  }

  async function findPresetOrThrow(id: string): Promise<ModelPresetRow> {
    const row = await repo.findPreset(db.kysely, id);
    if (!row) throw httpErrors.notFound(`Model '${id}'`);
    return row;
  }

  /** Records what changed on a preset since `before`; returns it as it is now. */
  async function auditUpdate(context: AuditContext, before: ModelPresetRow): Promise<ModelPresetRow> {
    const after = await findPresetOrThrow(before.id);
    const changes = changedFields(auditedFields(before), auditedFields(after));
    await audit.record(context, { action: 'preset.updated', target: { type: 'preset', id: before.id }, details: { name: after.name, ...changes } });
    return after;
  }

  return {
    /** Base models from all enabled connections plus active presets; `refresh` bypasses the cache. */
    async list(options: { refresh?: boolean } = {}): Promise<ModelInfo[]> {
      return (await catalog(options.refresh === true)).models.map(toModelInfo);
    },

    /** Resolves a model id (base or preset) to its connection; 404 HttpError when unknown. */
    async resolve(id: string): Promise<ResolvedModel> {
      const cached = await catalog(false);
      let resolved = await lookup(id, cached);
      // Not in the list: a model pulled or a connection fixed since it was cached. Look once more.
      if (!resolved && clock.now() - cached.builtAt >= missRefreshMinMs) resolved = await lookup(id, await catalog(true));
      if (!resolved) throw httpErrors.notFound(`Model '${id}'`);
      return resolved;
    },

    /** Every preset, active or not. */
    listPresets(): Promise<ModelPresetRow[]> {
      return repo.listPresets(db.kysely);
    },

    /** One preset; 404 when unknown. */
    getPreset(id: string): Promise<ModelPresetRow> {
      return findPresetOrThrow(id);
    },

    /** Creates a preset; 409 when a preset already has the id. */
    async createPreset(user: AuthUser, input: CreatePresetInput, context: AuditContext): Promise<ModelPresetRow> {
      const conflict = () => httpErrors.conflict(`A model preset with id '${input.id}' already exists`);
      if (await repo.findPreset(db.kysely, input.id)) throw conflict();
      const now = clock.now();
      const row: ModelPresetRow = {
        id: input.id,
        base_model_id: input.base_model_id,
        name: input.name,
        description: input.meta?.description ?? '',
        ...storedParams(input.params),
        is_active: input.is_active === false ? 0 : 1,
        created_by: user.id,
        created_at: now,
        updated_at: now,
      };
      try {
        await repo.insertPreset(db.kysely, row);
      } catch (error) {
        // Two creations racing past the check above: the primary key decides.
        if (await repo.findPreset(db.kysely, input.id)) throw conflict();
        throw error;
      }
      await invalidate();
      await audit.record(context, { action: 'preset.created', target: { type: 'preset', id: row.id }, details: auditedFields(row) });
      return row;
    },

    /** Changes a preset; its id cannot change. */
    async updatePreset(id: string, patch: UpdatePresetInput, context: AuditContext): Promise<ModelPresetRow> {
      const before = await findPresetOrThrow(id);
      if (patch.id !== undefined && patch.id !== id) throw httpErrors.badRequest('A model preset id cannot be changed');
      const isUpdated = await repo.updatePreset(db.kysely, id, {
        ...(patch.base_model_id !== undefined && { base_model_id: patch.base_model_id }),
        ...(patch.name !== undefined && { name: patch.name }),
        ...(patch.meta !== undefined && { description: patch.meta.description ?? '' }),
        ...(patch.params !== undefined && storedParams(patch.params)),
        ...(patch.is_active !== undefined && { is_active: patch.is_active ? 1 : 0 }),
        updated_at: clock.now(),
      });
      if (!isUpdated) throw httpErrors.notFound(`Model '${id}'`);
      await invalidate();
      return auditUpdate(context, before);
    },

    /** Flips a preset between active and hidden. */
    async togglePreset(id: string, context: AuditContext): Promise<ModelPresetRow> {
      const row = await findPresetOrThrow(id);
      await repo.updatePreset(db.kysely, id, { is_active: row.is_active === 1 ? 0 : 1, updated_at: clock.now() });
      await invalidate();
      return auditUpdate(context, row);
    },

    /** Deletes a preset; 404 when unknown. */
    async deletePreset(id: string, context: AuditContext): Promise<void> {
      const row = await repo.findPreset(db.kysely, id);
      if (!row || !(await repo.deletePreset(db.kysely, id))) throw httpErrors.notFound(`Model '${id}'`);
      await invalidate();
      await audit.record(context, { action: 'preset.deleted', target: { type: 'preset', id }, details: auditedFields(row) });
    },
  };
}
export type ModelsService = ReturnType<typeof createModelsService>;

/** A preset's fields as the audit log shows them. */
function auditedFields(row: ModelPresetRow) {
  const { base_model_id, name, description, system_prompt } = row;
  return { base_model_id, name, description, system_prompt, params: parsePresetParams(row.params), is_active: row.is_active === 1 };
}

/** Splits request params into the system prompt column and the JSON of the rest, dropping nulls. */
function storedParams(params: PresetParamsInput | undefined): { system_prompt: string; params: string } {
  const { system, ...rest } = params ?? {};
  const kept = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== null && value !== undefined));
  return { system_prompt: system ?? '', params: JSON.stringify(kept) };
}
