import { ConfigError, loadConfig, type Config } from './config.js';

/** Process entry: config, app, listen; SIGTERM and SIGINT drain in-flight work, then exit 0. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`parley: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const started = performance.now();
  // Tracing: instrumentations patch modules as they load, so the app is imported only after they are in place.
  const tracing = config.ENABLE_OTEL ? await import('./platform/telemetry/tracing.js') : undefined;
  await tracing?.startTracing(config);
  const { buildApp } = await import('./app.js');
  const parley = await buildApp(config);
  const { app, platform } = parley;
  await app.listen({ port: config.PORT, host: config.HOST });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  platform.log.info({ port, ms: Math.round(performance.now() - started), db: config.database.dialect }, 'parley ready');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    platform.log.info({ signal }, 'draining');
    const deadline = setTimeout(() => {
      platform.log.warn('drain timed out; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT * 1000);
    deadline.unref();
    await parley.close();
    await tracing?.stopTracing();
    platform.log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`parley: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
