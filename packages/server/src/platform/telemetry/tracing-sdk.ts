import { randomUUID } from 'node:crypto';
import { register } from 'node:module';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Config } from '../../config.js';
import { createLogger } from './logger.js';
import { samplerFor } from './tracing-sampler.js';
import { ThrottledLogExporter } from './tracing-exporter.js';

/** Longest wait for the last spans to leave on shutdown, so a dead collector cannot hold the exit. */
const SHUTDOWN_TIMEOUT_MS = 3000;

let provider: NodeTracerProvider | undefined;
let unregister: (() => void) | undefined;

/**
 * Registers the tracer provider, the OTLP/HTTP exporter and the instrumentations of the
 * database clients (pg, ioredis). Server spans come from our own Fastify hook
 * (http/request-tracing.ts), upstream client spans from `startClientSpan` (tracing.ts).
 */
export function start(config: Config): void {
  const log = createLogger(config).child({ module: 'tracing' });
  // pg and ioredis are CommonJS imported from ESM: only an ESM loader hook sees
  // those imports. Limiting it to them leaves every other module untouched.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['pg', 'ioredis'] } });

  const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '');
  const exporter = new OTLPTraceExporter({ url: `${endpoint}/v1/traces`, timeoutMillis: 5000 });
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.OTEL_SERVICE_NAME, 'service.instance.id': randomUUID() }),
    sampler: samplerFor(config.OTEL_TRACES_SAMPLER, config.OTEL_TRACES_SAMPLER_ARG),
    spanProcessors: [new BatchSpanProcessor(new ThrottledLogExporter(exporter, log))],
  });
  // Sets the global provider, the AsyncLocalStorage context manager and W3C trace-context propagation.
  provider.register();
  unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // Background loops (sweeps, pub/sub, blocking reads) would each make a trace of their own.
      new PgInstrumentation({ requireParentSpan: true }),
      // Only the command's name: arguments carry message contents (the generation log) and credentials (AUTH).
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
    ],
  });
  log.info({ endpoint, sampler: config.OTEL_TRACES_SAMPLER, ratio: config.OTEL_TRACES_SAMPLER_ARG }, 'tracing on');
}

/** Exports what is queued, then stops; gives up after a few seconds. */
export async function stop(): Promise<void> {
  unregister?.();
  const shutdown = provider?.shutdown().catch(() => undefined);
  provider = undefined;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_TIMEOUT_MS)));
  await Promise.race([shutdown, deadline]);
  clearTimeout(timer);
}
