import type { FastifyInstance, FastifyRequest } from 'fastify';
import { httpErrors } from './errors.js';

/**
 * Deepest nesting of objects and arrays a JSON body may have. An Open WebUI chat export nests about ten
 * levels (`chat.history.messages.<id>.sources[].metadata[]…`) and a tool's JSON schema a few more;
 * 64 leaves room for both while keeping recursive code (zod, drivers, SQLite's JSON functions, upstream
 * servers) far from its own limits.
 */
export const MAX_JSON_DEPTH = 64;

const NUL = '\u0000';
const nulMessage = 'contains a NUL character (U+0000), which is not accepted';

/** What a body walk found: the problem and where, as the keys from the root. */
interface Hazard {
  kind: 'nul' | 'depth';
  path: (string | number)[];
}

/**
 * The first NUL character (in a string or a key, when `checkNul`) or the first place nested deeper than
 * MAX_JSON_DEPTH in a parsed JSON value. The recursion stops at the limit, so it is itself bounded.
 */
function findHazard(value: unknown, depth: number, checkNul: boolean): Hazard | undefined {
  if (typeof value === 'string') return checkNul && value.includes(NUL) ? { kind: 'nul', path: [] } : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  if (depth > MAX_JSON_DEPTH) return { kind: 'depth', path: [] };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const hazard = findHazard(value[i], depth + 1, checkNul);
      if (hazard) {
        hazard.path.unshift(i);
        return hazard;
      }
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (checkNul && key.includes(NUL)) return { kind: 'nul', path: [key] };
    const hazard = findHazard((value as Record<string, unknown>)[key], depth + 1, checkNul);
    if (hazard) {
      hazard.path.unshift(key);
      return hazard;
    }
  }
  return undefined;
}

/** `chat.params.a`, `messages.0.content`: a body path as the validator's messages write it. */
function dotted(path: (string | number)[]): string {
  return path.map((part) => String(part).replaceAll(NUL, '\\u0000')).join('.');
}

/**
 * Why a parsed JSON body is refused before validation (nested too deep, or a NUL in a string or key),
 * or undefined when it is fine. `text` is the body as received: a NUL can only be there as the escape
 * `\u0000`, so bodies without it skip the string checks.
 */
export function jsonBodyProblem(value: unknown, text: string): string | undefined {
  const hazard = findHazard(value, 1, text.includes('\\u0000'));
  if (!hazard) return undefined;
  if (hazard.kind === 'depth') return `Request body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`;
  return hazard.path.length === 0 ? `Request body ${nulMessage}` : `Request body field ${dotted(hazard.path)} ${nulMessage}`;
}

/** The first field of a parsed query string or path whose name or value holds a NUL, if any. */
function fieldWithNul(fields: unknown): string | undefined {
  if (!fields || typeof fields !== 'object') return undefined;
  for (const [name, value] of Object.entries(fields)) {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (name.includes(NUL) || values.some((item) => typeof item === 'string' && item.includes(NUL))) return name.replaceAll(NUL, '\\u0000');
  }
  return undefined;
}

/** Refuses a request whose path parameters or query string decode to a NUL character. */
function checkUrl(request: FastifyRequest): void {
  // Percent-decoding is the only way a NUL gets into a URL (a raw one is refused by the HTTP parser).
  if (!request.url.includes('%00')) return;
  const param = fieldWithNul(request.params);
  if (param !== undefined) throw httpErrors.invalidInput(`Path parameter "${param}" ${nulMessage}`);
  const query = fieldWithNul(request.query);
  if (query !== undefined) throw httpErrors.invalidInput(`Query parameter "${query}" ${nulMessage}`);
}

/**
 * Input hygiene for every route, in one place, before any schema or service sees the request:
 * JSON bodies nested deeper than MAX_JSON_DEPTH, and NUL characters in JSON bodies, path parameters
 * and query strings, are refused with 400 `invalid_input`. PostgreSQL cannot store U+0000 in text
 * and no Open WebUI client sends it, so it is refused rather than stripped. Also reads a JSON
 * content-type with an empty body as no body: Open WebUI's clients POST actions (pin, archive, …) so.
 */
export function installInputGuard(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (text.length === 0) return done(null, undefined);
    return parseJson(request, text, (error, value) => {
      if (error) return done(error, undefined);
      const problem = jsonBodyProblem(value, text);
      return problem ? done(httpErrors.invalidInput(problem), undefined) : done(null, value);
    });
  });
  app.addHook('preValidation', async (request) => checkUrl(request));
}
