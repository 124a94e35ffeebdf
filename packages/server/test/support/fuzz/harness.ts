import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import type { RouteAccess } from '../../../src/http/access.js';
import type { TestApp } from '../test-app.js';
import { keepSignedIn, type Caller, type Pools } from './fixtures.js';
import { buildRequest, mutationArbitrary, sweepMutations, type FuzzRequest, type Mutation, type RequestParts } from './hostile.js';
import { arbitraryOf, type FieldOverride } from './zod-arbitrary.js';

// Runs fuzz cases against one route: generates them from its schemas, sends them, judges the answers.

/** What one case got back, and what was wrong with it, if anything. */
export interface Outcome {
  status: number;
  problem?: string;
}

/** Counts over a whole run, for the report. */
export interface FuzzStats {
  cases: number;
  byClass: Record<string, number>;
  routes: Set<string>;
  /** Cases that broke the rules. */
  failures: number;
  /** Milliseconds spent per route, to see where the time goes. */
  routeMs: Map<string, number>;
}

const trace = process.env.PARLEY_FUZZ_TRACE;

/** Routes whose successful answer is an endless event stream: only its head is read. */
const endlessStreams = new Set(['/api/v1/events']);

/** A case that takes longer than this has hung. */
const caseTimeoutMs = 20_000;

/** Sends one request; answers its status and the reason it breaks the rules (5xx, a 4xx without `{detail, code}`, no answer). */
export async function send(app: TestApp, request: FuzzRequest, caller: Caller, routeUrl: string): Promise<Outcome> {
  const headers = { ...request.headers };
  if (caller.token) headers.authorization = `Bearer ${caller.token}`;
  const url = `${app.url}${request.path}${request.query ? `?${request.query}` : ''}`;
  let response: Response;
  try {
    response = await fetch(url, { method: request.method, headers, body: request.body, signal: AbortSignal.timeout(caseTimeoutMs) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    // The client refused to send it (an invalid header value): not the server's doing.
    if (error instanceof TypeError && !cause) return { status: 0 };
    return { status: 0, problem: `no response: ${(error as Error).name} ${cause ?? (error as Error).message}` };
  }
  let text = '';
  try {
    if (endlessStreams.has(routeUrl) && response.status === 200) await response.body?.cancel();
    else text = await response.text();
  } catch (error) {
    return { status: response.status, problem: `body not read in time: ${(error as Error).message}` };
  }
  const status = response.status;
  if (status >= 500) return { status, problem: `status ${status}: ${text.slice(0, 300)}` };
  if (status >= 400) {
    let body: { detail?: unknown; code?: unknown } | undefined;
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = undefined;
    }
    if (typeof body?.detail !== 'string' || typeof body.code !== 'string') return { status, problem: `status ${status} without {detail, code}: ${text.slice(0, 300)}` };
  }
  return { status };
}

/** The pool a field of `routeUrl` draws existing ids from, if it names one. */
function poolFor(routeUrl: string, field: string, pools: Pools): string[] | undefined {
  switch (field) {
    case 'chat_id':
      return pools.chats;
    case 'messageId':
    case 'message_id':
    case 'parent_id':
    case 'user_message_id':
      return pools.messages;
    case 'model':
    case 'base_model_id':
      return pools.models;
    case 'base_url':
      return pools.upstreamUrls;
    case 'email':
      return pools.userEmails;
    case 'id':
      if (routeUrl.startsWith('/api/v1/chats')) return pools.chats;
      if (routeUrl.startsWith('/api/v1/users')) return pools.users;
      if (routeUrl.startsWith('/api/v1/connections')) return pools.connections;
      if (routeUrl.startsWith('/api/v1/files')) return pools.files;
      if (routeUrl.startsWith('/api/v1/models')) return pools.presets;
      if (routeUrl.startsWith('/api/chat/completions')) return pools.messages;
      return undefined;
    default:
      return undefined;
  }
}

/** Time bounds as clients write them: epoch seconds or ISO dates. */
const timeArbitrary = fc.oneof(
  fc.integer({ min: 0, max: 99_999_999_999 }).map(String),
  fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString()),
  fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10)),
);

function fieldOverride(routeUrl: string, pools: Pools): FieldOverride {
  return (field, fromSchema) => {
    if (field === 'from' || field === 'to') return fc.oneof({ arbitrary: timeArbitrary, weight: 3 }, { arbitrary: fromSchema, weight: 1 });
    const pool = poolFor(routeUrl, field, pools);
    if (!pool || pool.length === 0) return fromSchema;
    return fc.oneof({ arbitrary: fc.constantFrom(...pool), weight: 3 }, { arbitrary: fromSchema, weight: 1 });
  };
}

/** The arbitrary of schema-valid request parts for `route` (params, query, headers, body); `complete`: every field. */
export function partsArbitrary(route: RouteAccess, pools: Pools, complete = false): fc.Arbitrary<RequestParts> {
  const schema = (route.schema ?? {}) as { params?: unknown; querystring?: unknown; headers?: unknown; body?: unknown };
  const override = fieldOverride(route.url, pools);
  const paramNames = [...route.url.matchAll(/:([A-Za-z_]+)/g)].map((match) => match[1]!);
  const params = schema.params
    ? arbitraryOf(schema.params, override, complete)
    : fc.record(Object.fromEntries(paramNames.map((name) => [name, override(name, fc.string({ minLength: 1, maxLength: 40 }))])));
  // Only the headers the schema names: a random header name could not even be sent.
  const headerShape = (schema.headers as { shape?: Record<string, unknown> } | undefined)?.shape ?? {};
  const headers = fc.record(Object.fromEntries(Object.entries(headerShape).map(([name, field]) => [name, arbitraryOf(field, override)])), { requiredKeys: [] });
  const hasBody = route.method !== 'GET' && route.method !== 'HEAD';
  const body = schema.body ? arbitraryOf(schema.body, override, complete) : hasBody ? fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }) : fc.constant(undefined);
  return fc.record({
    params: params as fc.Arbitrary<Record<string, unknown>>,
    query: (schema.querystring ? arbitraryOf(schema.querystring, override, complete) : fc.constant({})) as fc.Arbitrary<Record<string, unknown>>,
    headers: headers as fc.Arbitrary<Record<string, unknown>>,
    body,
  });
}

/** A stable number for `text`: each route and caller keeps its own seed whatever other routes exist. */
export function seedOf(text: string, base: number): number {
  let hash = base >>> 0;
  for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 16_777_619) >>> 0;
  return hash | 0;
}

/** A case that broke the rules: who sent what, and what came back. */
export interface FuzzFailure {
  caller: Caller['name'];
  route: string;
  mode: 'valid' | 'hostile' | 'sweep';
  problem: string;
  request: string;
}

/** `request` in one short line, for a failure report. */
function describeRequest(request: FuzzRequest): string {
  const query = request.query ? `?${request.query.slice(0, 200)}` : '';
  const body = request.body === undefined ? '' : ` ${request.headers['content-type'] ?? ''} ${request.body.slice(0, 300)}`;
  return `${request.method} ${request.path.slice(0, 200)}${query}${body}`;
}

let freshCount = 0;

/**
 * `parts` with the fields that must be unique renewed (a sign-up's email, a created preset's id), so a
 * sweep's mutations of an accepted request are not all refused as duplicates of it.
 */
function freshen(route: RouteAccess, parts: RequestParts): RequestParts {
  const body = parts.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return parts;
  const fields = { ...(body as Record<string, unknown>) };
  freshCount += 1;
  if (typeof fields.email === 'string') fields.email = `fresh-${freshCount}-${fields.email}`;
  if (route.url.endsWith('/create') && typeof fields.id === 'string') fields.id = `${fields.id.slice(0, 100)}-${freshCount}`;
  return { ...parts, body: fields };
}

/** Sends one case and records it: its status class, and a failure when it broke the rules; answers the status. */
async function runCase(app: TestApp, route: RouteAccess, caller: Caller, request: FuzzRequest, mode: FuzzFailure['mode'], stats: FuzzStats, failures: FuzzFailure[]): Promise<number> {
  const outcome = await send(app, request, caller, route.url);
  // PARLEY_FUZZ_TRACE=<part of a route> prints that route's cases, to see what a run sends.
  if (trace && `${route.method} ${route.url}`.includes(trace)) console.info(`${mode} ${caller.name} ${outcome.status} ${describeRequest(request).slice(0, 300)}`);
  stats.cases += 1;
  const statusClass = outcome.status === 0 ? 'unsent' : `${Math.floor(outcome.status / 100)}xx`;
  stats.byClass[statusClass] = (stats.byClass[statusClass] ?? 0) + 1;
  if (outcome.status === 401) await keepSignedIn(app, caller);
  if (outcome.problem) failures.push({ caller: caller.name, route: `${route.method} ${route.url}`, mode, problem: outcome.problem, request: describeRequest(request) });
  return outcome.status;
}

/**
 * Runs `runs` cases of `route` for `caller`, schema-valid or hostile, and answers every case that
 * broke the rules (all of them, not only the first, so a run counts what it found).
 */
export async function fuzzRoute(
  app: TestApp,
  route: RouteAccess,
  caller: Caller,
  pools: Pools,
  options: { runs: number; mode: FuzzFailure['mode']; seed: number; stats: FuzzStats },
): Promise<FuzzFailure[]> {
  const { stats, mode } = options;
  const failures: FuzzFailure[] = [];
  const started = performance.now();
  const seed = seedOf(`${caller.name} ${route.method} ${route.url} ${mode}`, options.seed);
  if (mode === 'sweep') {
    // A base the route accepts (so a mutation is what gets refused), with as many fields as can be,
    // then each of its single-place mutations.
    const candidates = [...fc.sample(partsArbitrary(route, pools, true), { numRuns: 4, seed }), ...fc.sample(partsArbitrary(route, pools), { numRuns: 16, seed })];
    const accepted: RequestParts[] = [];
    for (const candidate of candidates) {
      if (accepted.length >= 2) break;
      const status = await runCase(app, route, caller, buildRequest(route.method, route.url, candidate), mode, stats, failures);
      if (status >= 200 && status < 300) accepted.push(candidate);
    }
    const size = (parts: RequestParts) => sweepMutations(route.method, parts).length;
    const bases = accepted.length > 0 ? accepted : [candidates[0]!];
    const base = bases.reduce((fullest, parts) => (size(parts) > size(fullest) ? parts : fullest));
    for (const mutation of sweepMutations(route.method, base)) {
      await runCase(app, route, caller, buildRequest(route.method, route.url, freshen(route, base), mutation), mode, stats, failures);
    }
  } else {
    const mutations: fc.Arbitrary<Mutation | undefined> = mode === 'hostile' ? mutationArbitrary : fc.constant(undefined);
    const property = fc.asyncProperty(partsArbitrary(route, pools), mutations, async (parts, mutation) => {
      await runCase(app, route, caller, buildRequest(route.method, route.url, parts, mutation), mode, stats, failures);
    });
    await fc.assert(property, { numRuns: options.runs, seed });
  }
  const name = `${route.method} ${route.url}`;
  stats.routes.add(name);
  stats.routeMs.set(name, (stats.routeMs.get(name) ?? 0) + performance.now() - started);
  return failures;
}
