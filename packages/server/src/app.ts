import { randomUUID } from 'node:crypto';
import cookie from '@fastify/cookie';
import multipart from '@fastify/multipart';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { installAccessControl, type RouteAccess } from './http/access.js';
import { installCrossSiteGuard } from './http/cross-site.js';
import type { App } from './http/app-types.js';
import { installRejectedBodyDrain } from './http/body-drain.js';
import { answerClientError, answerFrameworkError, installErrorHandler } from './http/error-handler.js';
import { httpErrors } from './http/errors.js';
import { installInputGuard } from './http/input-guard.js';
import { metricsRoute, startMetricsServer } from './http/metrics-endpoint.js';
import { installRequestTelemetry } from './http/request-telemetry.js';
import { requestIdFrom } from './http/request-id.js';
import { installRequestTracing } from './http/request-tracing.js';
import { installSecurityHeaders } from './http/security-headers.js';
import { trustProxyOption } from './http/trust-proxy.js';
import { inlineScriptHashes, serveWebApp } from './http/web-app.js';
import { loadSecretBox, warnAboutSecretsAtRest } from './platform/crypto/encryption-keys.js';
import { connectDb } from './platform/db/connect.js';
import { migrateToLatest } from './platform/db/migrate.js';
import { streamGuardReport } from './platform/llm/stream-guard.js';
import { UpstreamClient } from './platform/llm/upstream-client.js';
import { createSharedState } from './platform/shared/create-shared-state.js';
import { createObjectStorage } from './platform/storage/create-storage.js';
import { createLogger } from './platform/telemetry/logger.js';
import { createMetrics, type Metrics } from './platform/telemetry/metrics.js';
import { currentTraceId } from './platform/telemetry/tracing.js';
import { createLifecycle, type Clock, type Platform } from './platform/platform.js';
import { analyticsRoutes } from './features/analytics/analytics.routes.js';
import { createAnalyticsService } from './features/analytics/analytics.service.js';
import { auditRoutes } from './features/audit/audit.routes.js';
import { createAuditService } from './features/audit/audit.service.js';
import { authRoutes } from './features/auth/auth.routes.js';
import { createAuthService, createCredentialCache, credentialRevokers } from './features/auth/auth.service.js';
import { SessionTokens } from './features/auth/session-tokens.js';
import { chatsRoutes } from './features/chats/chats.routes.js';
import { createChatsService } from './features/chats/chats.service.js';
import { completionsRoutes } from './features/completions/completions.routes.js';
import { createCompletionsService } from './features/completions/completions.service.js';
import { ollamaRoutes } from './features/completions/ollama.routes.js';
import { connectionsRoutes } from './features/connections/connections.routes.js';
import { createConnectionsService } from './features/connections/connections.service.js';
import { eventsRoutes } from './features/events/events.routes.js';
import { createEventsService } from './features/events/events.service.js';
import { createFilesService } from './features/files/files.service.js';
import { filesRoutes } from './features/files/files.routes.js';
import { createGenerationsService } from './features/generations/generations.service.js';
import { healthRoutes } from './features/health/health.routes.js';
import { createModelsService } from './features/models/models.service.js';
import { modelsRoutes } from './features/models/models.routes.js';
import { settingsRoutes } from './features/settings/settings.routes.js';
import { createSettingsService } from './features/settings/settings.service.js';
import { createUsersService } from './features/users/users.service.js';
import { usersRoutes } from './features/users/users.routes.js';
import { startRetention } from './features/retention/retention.js';
import { resealStoredSecrets } from './secrets-at-rest.js';

/** What tests may replace when building the app. */
export interface AppOptions {
  clock?: Clock;
  logger?: Logger;
  /** Folder of the built web app (defaults to packages/web/dist). */
  webRoot?: string;
}

/** A built, not yet listening, Parley server and the adapters behind it. */
export interface ParleyApp {
  app: App;
  platform: Platform;
  /** Every route and who may call it. */
  routes: RouteAccess[];
  /** Stops accepting work, waits for in-flight generations, then releases every adapter. */
  close(): Promise<void>;
}

/** Composition root: builds the platform adapters, the feature services and their routes. */
export async function buildApp(config: Config, options: AppOptions = {}): Promise<ParleyApp> {
  const log = options.logger ?? createLogger(config);
  const clock = options.clock ?? { now: () => Date.now() };
  // Assigned once, after the database: the metrics read its pool, and its query observer reads them.
  // eslint-disable-next-line prefer-const -- a const could not be referenced by the observer created before it
  let metrics: Metrics | undefined;
  const db = connectDb(config, (ms, isError) => metrics?.dbQueryDuration.observe({ dialect: config.database.dialect, outcome: isError ? 'error' : 'ok' }, ms / 1000));
  metrics = createMetrics(db.poolStats);
  const lifecycle = createLifecycle();
  if (config.ENABLE_DB_MIGRATIONS) {
    const applied = await migrateToLatest(db);
    if (applied.length > 0) log.info({ applied }, 'database migrated');
  }
  lifecycle.isMigrated = true;
  const secrets = await loadSecretBox(config);
  warnAboutSecretsAtRest(config, secrets, log);
  try {
    // Before anything reads them: legacy plain values get encrypted, and a wrong key stops the start here.
    const resealed = await resealStoredSecrets(db.kysely, secrets, clock.now());
    if (resealed.connections.resealed + resealed.config.resealed > 0) log.info({ ...resealed, keyId: secrets.currentKeyId ?? null }, 'secrets at rest moved to the current key');
  } catch (error) {
    log.error({ err: error }, 'secrets at rest cannot be decrypted');
    await db.close();
    throw error;
  }
  const platform: Platform = {
    config,
    db,
    shared: createSharedState({
      redisUrl: config.REDIS_URL,
      sentinelHosts: config.REDIS_SENTINEL_HOSTS?.split(',').map((host) => host.trim()),
      sentinelPort: config.REDIS_SENTINEL_PORT,
      keyPrefix: config.REDIS_KEY_PREFIX,
      now: () => clock.now(),
      log,
    }),
    storage: createObjectStorage(config, { log }),
    log,
    metrics,
    clock,
    lifecycle,
    secrets,
  };

  // One pool of connections to model servers for the whole process: chat streams and model lists.
  const upstream = new UpstreamClient({ maxLineBytes: config.UPSTREAM_MAX_LINE_BYTES, onGuardTrip: streamGuardReport(log, metrics.streamGuardTrips) });
  const audit = createAuditService(platform);
  const analytics = createAnalyticsService(platform);
  const settings = createSettingsService(platform, audit);
  const tokens = await SessionTokens.load(settings, config.WEBUI_SECRET_KEY);
  const files = createFilesService(platform);
  const events = createEventsService(platform);
  await events.start();
  const chats = createChatsService(platform, events);
  // Sessions and API keys checked recently, so most requests need no database query to authenticate.
  const credentials = createCredentialCache(config);
  const { revokeSessionsIn, revokeApiKeysIn, revokeCredentialsIn, recheckCredentialsIn } = credentialRevokers(credentials, clock);
  // Users owns the users table; the owners of a user's other rows act on them in its transactions.
  const users = createUsersService(platform, files, audit, {
    revokeSessionsIn,
    revokeApiKeysIn,
    revokeCredentialsIn,
    recheckCredentialsIn,
    deleteUserRowsIn: [chats.deleteAllOfUserIn, revokeCredentialsIn],
  });
  const auth = createAuthService(platform, tokens, settings, users, audit, credentials);
  const connections = createConnectionsService(platform, audit, settings, upstream);
  await connections.seedFromEnvironment();
  const models = createModelsService(platform, connections, audit);
  const generations = createGenerationsService(platform, { models, chats, connections, settings, events, analytics, upstream });
  const completions = createCompletionsService(platform, { models, chats, generations });

  const app: App = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps the instance type the one features use.
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: config.MAX_BODY_SIZE,
    trustProxy: trustProxyOption(config.TRUST_PROXY),
    // A client's X-Request-Id is kept only when short and safe (requestIdFrom); Fastify would take any.
    requestIdHeader: false,
    // Our onRequest hook answers draining requests with a retryable 503 in our shape; Fastify's own would not.
    return503OnClosing: false,
    genReqId: (request) => requestIdFrom(request.headers['x-request-id']),
    // Malformed URLs and HTTP get `{detail, code}` like every other refusal.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
    // Fastify's two lines per request are replaced by one of ours with route, user and duration.
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<ZodTypeProvider>();
  // Tracing first: every later hook, the request's log line included, runs inside its span.
  if (config.ENABLE_OTEL) installRequestTracing(app);
  installRequestTelemetry(app, metrics, currentTraceId);
  await installSecurityHeaders(app, {
    isHttps: config.WEBUI_SESSION_COOKIE_SECURE,
    remoteImagesAllowed: async () => (await settings.get()).ENABLE_REMOTE_IMAGES,
    inlineScriptHashes: inlineScriptHashes(options.webRoot),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (lifecycle.isDraining && request.url !== '/health' && request.url !== '/ready') {
      throw httpErrors.unavailable('This instance is shutting down; retry on another');
    }
  });
  installInputGuard(app);
  // An early answer (413, 401, …) reaches a client still sending its body, instead of a reset connection.
  installRejectedBodyDrain(app);
  installErrorHandler(app, metrics, await serveWebApp(app, options.webRoot));
  await app.register(cookie);
  await app.register(multipart, { limits: { fileSize: config.FILE_MAX_SIZE, files: 1, fields: 10, parts: 20 } });
  installCrossSiteGuard(app, { publicUrl: config.WEBUI_URL });
  const routes = installAccessControl(app, auth.authenticate);

  await generations.startBackgroundWork();
  const stopRetention = startRetention(platform, { audit, analytics }, randomUUID());
  healthRoutes(app, platform);
  authRoutes(app, auth, settings, config.WEBUI_SESSION_COOKIE_SECURE);
  settingsRoutes(app, settings);
  usersRoutes(app, users);
  chatsRoutes(app, chats);
  filesRoutes(app, files);
  connectionsRoutes(app, connections);
  modelsRoutes(app, models);
  completionsRoutes(app, completions, generations);
  ollamaRoutes(app, completions);
  eventsRoutes(app, events);
  auditRoutes(app, audit);
  analyticsRoutes(app, analytics);
  if (!config.METRICS_PORT) metricsRoute(app, metrics, config.METRICS_TOKEN);
  const metricsServer = config.METRICS_PORT ? await startMetricsServer(metrics, config.METRICS_PORT, config.HOST) : undefined;

  return {
    app,
    platform,
    routes,
    async close() {
      lifecycle.isDraining = true;
      const closing = app.close();
      // Connections busy at SIGTERM (streams, a proxy's keep-alive) go idle later: close them as they do.
      const reaper = setInterval(() => app.server.closeIdleConnections(), 100);
      events.endAll();
      await closing;
      clearInterval(reaper);
      stopRetention();
      await lifecycle.settled();
      await generations.close();
      // After every answer has ended: the usage records still held in memory go to the database.
      await analytics.close();
      await upstream.close();
      await events.close();
      await platform.shared.close();
      await platform.storage.close?.();
      metricsServer?.close();
      await db.close();
    },
  };
}
