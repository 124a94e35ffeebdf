import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// Latency buckets from 1 ms to 2 min: API reads live at the bottom, streams at the top.
const secondsBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const ttftBuckets = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2, 5, 10, 30];

/**
 * Every Prometheus metric Parley exports, in one registry per app. Label sets
 * stay bounded: route templates (never raw paths), model ids from configured
 * connections, no user ids.
 */
export function createMetrics(poolStats?: () => { inUse: number; idle: number; waiting: number }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  const metric = <T>(make: (registers: Registry[]) => T): T => make([registry]);

  let measureDependencies: (() => Promise<Record<string, boolean>>) | undefined;
  let lastUtilization = performance.eventLoopUtilization();
  metric(
    (registers) =>
      new Gauge({
        name: 'parley_event_loop_utilization',
        help: 'Share of time the event loop was busy since the previous scrape (0..1)',
        registers,
        collect() {
          const now = performance.eventLoopUtilization();
          this.set(performance.eventLoopUtilization(now, lastUtilization).utilization);
          lastUtilization = now;
        },
      }),
  );

  return {
    registry,
    httpRequests: metric((registers) => new Counter({ name: 'parley_http_requests_total', help: 'HTTP requests by route template, method and status', labelNames: ['route', 'method', 'status'], registers })),
    httpDuration: metric(
      (registers) =>
        new Histogram({ name: 'parley_http_request_duration_seconds', help: 'HTTP request duration (streams: until the last byte)', labelNames: ['route', 'method', 'status_class'], buckets: secondsBuckets, registers }),
    ),
    generationsStarted: metric((registers) => new Counter({ name: 'parley_generations_started_total', help: 'Generations started', labelNames: ['model', 'connection'], registers })),
    generationsFinished: metric(
      (registers) => new Counter({ name: 'parley_generations_finished_total', help: 'Generations ended, by outcome (done, stopped, error)', labelNames: ['model', 'connection', 'outcome'], registers }),
    ),
    generationsFailed: metric((registers) => new Counter({ name: 'parley_generations_failed_total', help: 'Generations that ended in an error', labelNames: ['model', 'connection'], registers })),
    upstreamErrors: metric(
      (registers) => new Counter({ name: 'parley_upstream_errors_total', help: 'Upstream failures by kind (status, timeout, network, protocol, midstream)', labelNames: ['connection', 'kind'], registers }),
    ),
    streamGuardTrips: metric(
      (registers) =>
        new Counter({ name: 'parley_stream_guard_trips_total', help: 'Unexpected exceptions a stream guard caught, each ending one stream, by place (upstream, parser, sink)', labelNames: ['where'], registers }),
    ),
    ttft: metric((registers) => new Histogram({ name: 'parley_generation_ttft_seconds', help: 'Time from request to the first token', labelNames: ['model'], buckets: ttftBuckets, registers })),
    generationDuration: metric(
      (registers) => new Histogram({ name: 'parley_generation_duration_seconds', help: 'Time from request to the last token', labelNames: ['model'], buckets: secondsBuckets, registers }),
    ),
    tokens: metric((registers) => new Counter({ name: 'parley_tokens_total', help: 'Tokens in (prompt) and out (completion)', labelNames: ['model', 'direction'], registers })),
    activeStreams: metric((registers) => new Gauge({ name: 'parley_active_streams', help: 'Generations running on this instance', registers })),
    resumes: metric((registers) => new Counter({ name: 'parley_generation_resumes_total', help: 'Clients that resumed a generation from its log', registers })),
    takeovers: metric((registers) => new Counter({ name: 'parley_generation_takeovers_total', help: 'Generations taken over from an instance that died', registers })),
    rateLimited: metric((registers) => new Counter({ name: 'parley_rate_limit_rejections_total', help: 'Requests refused by a rate limit', labelNames: ['limit'], registers })),
    signinThrottled: metric(
      (registers) => new Counter({ name: 'parley_signin_throttled_total', help: 'Sign-in attempts slowed because their account passed LOGIN_RATE_LIMIT_PER_ACCOUNT failures', registers }),
    ),
    dbQueryDuration: metric(
      (registers) => new Histogram({ name: 'parley_db_query_duration_seconds', help: 'Database query duration', labelNames: ['dialect', 'outcome'], buckets: secondsBuckets, registers }),
    ),
    dbPool: metric(
      (registers) =>
        new Gauge({
          name: 'parley_db_pool_connections',
          help: 'PostgreSQL pool connections by state (in_use, idle, waiting)',
          labelNames: ['state'],
          registers,
          collect() {
            if (!poolStats) return;
            const stats = poolStats();
            this.set({ state: 'in_use' }, stats.inUse);
            this.set({ state: 'idle' }, stats.idle);
            this.set({ state: 'waiting' }, stats.waiting);
          },
        }),
    ),
    usagePending: metric((registers) => new Gauge({ name: 'parley_usage_records_pending', help: 'Usage records kept in memory until the database takes them', registers })),
    usageDropped: metric(
      (registers) => new Counter({ name: 'parley_usage_records_dropped_total', help: 'Usage records lost: the oldest kept while the database was away, past the bound, or ones it refused', registers }),
    ),
    dependencyErrors: metric(
      (registers) => new Counter({ name: 'parley_dependency_errors_total', help: 'Requests failed because a dependency was unreachable (database, redis, storage)', labelNames: ['dependency'], registers }),
    ),
    dependencyUp: metric(
      (registers) =>
        new Gauge({
          name: 'parley_dependency_up',
          help: 'Whether a dependency (database, redis, storage) answers, checked at each scrape; an instance serves without redis and storage (see /ready)',
          labelNames: ['dependency'],
          registers,
          async collect() {
            for (const [dependency, isUp] of Object.entries((await measureDependencies?.()) ?? {})) this.set({ dependency }, isUp ? 1 : 0);
          },
        }),
    ),
    /** Sets how parley_dependency_up is measured at each scrape (the health feature's probes). */
    measureDependenciesWith(measure: () => Promise<Record<string, boolean>>): void {
      measureDependencies = measure;
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
