import { startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteAccess } from '../src/http/access.js';
import { signUp } from './support/factories.js';
import { refreshFixtures, type Caller, type FixtureState } from './support/fuzz/fixtures.js';
import { fuzzRoute, type FuzzFailure, type FuzzStats } from './support/fuzz/harness.js';
import { startWithUsers } from './support/start-with-users.js';
import type { TestApp } from './support/test-app.js';
import { testDialect } from './support/test-database.js';

// Property-based fuzzing of every route, generated from the routes' own zod schemas: schema-valid
// cases and hostile ones (NUL, huge and exotic strings, wrong types, deep nesting, broken bodies and
// URLs), sent over HTTP as an admin, a normal user, a pending user and nobody, plus a sweep that puts
// NUL into each field and deep nesting into each object of one accepted request. The rule: no 5xx,
// no hang, no crash, and every 4xx is `{detail, code}`. Seeded, so a failure replays;
// PARLEY_FUZZ_RUNS and PARLEY_FUZZ_SEED run it longer or differently, PARLEY_FUZZ_TRACE=<route>
// prints a route's cases.
const runs = Number(process.env.PARLEY_FUZZ_RUNS ?? 8);
/** Hostile cases find more than valid ones, so each route gets twice as many. */
const hostileRuns = 2 * runs;
const seed = Number(process.env.PARLEY_FUZZ_SEED ?? 20_260_115);
/** Runs for callers a route refuses anyway (anonymous on a signed-in route, a user on an admin route). */
const refusedRuns = 2;

describe(`fuzzing every route from its schemas (${testDialect})`, () => {
  let fake: FakeLlm;
  let app: TestApp;
  let routes: RouteAccess[];
  const callers = {} as Record<Caller['name'], Caller>;
  const fixtures: FixtureState = { spares: [], chats: [] };
  const stats: FuzzStats = { cases: 0, byClass: {}, routes: new Set(), failures: 0, routeMs: new Map() };
  const started = Date.now();

  beforeAll(async () => {
    fake = await startFakeLlm();
    // Every connection points at the fake model server, so no case needs an absent upstream.
    const withUsers = await startWithUsers({ OPENAI_API_BASE_URLS: `${fake.url}/v1`, OLLAMA_BASE_URLS: fake.url, AIOHTTP_CLIENT_TIMEOUT: '5' });
    app = withUsers.app;
    const { admin, user } = withUsers;
    callers.admin = { name: 'admin', email: admin.email, password: admin.password, token: admin.token };
    callers.user = { name: 'user', email: user.email, password: user.password, token: user.token };
    const pending = await signUp(app);
    callers.pending = { name: 'pending', email: pending.email, password: pending.password, token: pending.token };
    callers.anonymous = { name: 'anonymous' };
    // HEAD answers carry no body to check; each is its GET's twin.
    routes = app.parley.routes.filter((route) => route.method !== 'HEAD');
  });
  afterAll(async () => {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.info(`fuzz (${testDialect}): ${stats.routes.size} routes, ${stats.cases} cases in ${seconds} s, by status class ${JSON.stringify(stats.byClass)}, ${stats.failures} breaking the rules`);
    const slowest = [...stats.routeMs].sort((a, b) => b[1] - a[1]).slice(0, 5);
    console.info(`fuzz (${testDialect}): slowest routes ${slowest.map(([route, ms]) => `${route} ${(ms / 1000).toFixed(1)} s`).join(', ')}`);
    await app?.close();
    await fake?.close();
  });

  /** The runs `caller` gets on `route`: fewer where the route refuses it anyway. */
  function runsFor(route: RouteAccess, caller: Caller['name'], hostile: boolean): number {
    const isRefused =
      (caller === 'anonymous' && route.access !== 'public') ||
      (caller === 'pending' && (route.access === 'verified' || route.access === 'admin')) ||
      (caller === 'user' && route.access === 'admin');
    return isRefused ? refusedRuns : hostile ? hostileRuns : runs;
  }

  it('answers every route, as an admin, a user, a pending user and nobody: no 5xx, no hang, every 4xx is {detail, code}', async () => {
    const failures: FuzzFailure[] = [];
    for (const route of routes) {
      // Once per route: what earlier cases deleted, signed out or switched off is back.
      const pools = await refreshFixtures(app, fake, callers.admin, callers.user, fixtures);
      for (const caller of ['admin', 'user', 'pending', 'anonymous'] as const) {
        for (const mode of ['valid', 'hostile'] as const) {
          failures.push(...(await fuzzRoute(app, route, callers[caller], pools, { runs: runsFor(route, caller, mode === 'hostile'), mode, seed, stats })));
        }
      }
      // The sweep, as the caller the route is for: NUL in each field, deep nesting in each object.
      const owner = route.access === 'admin' ? 'admin' : route.access === 'public' ? 'anonymous' : 'user';
      failures.push(...(await fuzzRoute(app, route, callers[owner], pools, { runs: 1, mode: 'sweep', seed, stats })));
    }
    // One line per route, caller and kind of problem, with its first example.
    const summary = new Map<string, string>();
    for (const failure of failures) {
      const key = `${failure.route} as ${failure.caller}: ${failure.problem.replace(/:.*$/s, '')}`;
      if (!summary.has(key)) summary.set(key, `${key} (${failure.mode}) e.g. ${failure.problem.slice(0, 200)} <- ${failure.request}`);
    }
    stats.failures = failures.length;
    const lines = [...summary.values()];
    expect(lines.length, `${failures.length} cases broke the rules:\n${lines.join('\n')}`).toBe(0);
  }, 300_000);

  it('is still up and ready afterwards', async () => {
    const ready = await app.request('GET', '/ready');
    expect(ready.status).toBe(200);
  });
});
