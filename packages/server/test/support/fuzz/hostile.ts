import fc from 'fast-check';

/** One HTTP request as the fuzzer sends it: the path and query already encoded, the body as raw text. */
export interface FuzzRequest {
  method: string;
  path: string;
  /** Encoded, without the `?`; empty for none. */
  query: string;
  headers: Record<string, string>;
  body?: string;
}

/** The decoded parts a request is built from: what the route's schemas describe. */
export interface RequestParts {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
  /** undefined: no body. */
  body: unknown;
}

/** Strings an attacker tries: NUL, broken and exotic Unicode, traversal, injection, formats, sizes. */
export const hostileStrings: readonly string[] = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfff\ud800y',
  '😀'.repeat(64),
  '\u202eevil\u202c',
  'e\u0301'.repeat(40),
  '\ufeff',
  '\uffff\ufffe',
  'ＡＢＣ',
  '\u0085\u2028\u2029',
  '\u0001\u0002\u001f\u007f',
  ' ',
  '\t\r\n',
  '../../../../etc/passwd',
  '..\\..\\..\\windows\\win.ini',
  '%00',
  '%2e%2e%2f%2e%2e%2f',
  "' OR '1'='1' --",
  '"; DROP TABLE users; --',
  '${jndi:ldap://127.0.0.1/a}',
  '{{7*7}}<%= 7*7 %>',
  '<script>alert(1)</script>',
  '__proto__',
  'constructor',
  'null',
  'NaN',
  '-1',
  '1e400',
  '9007199254740993',
  '0x7fffffff',
  'A'.repeat(4096),
  'A'.repeat(70_000),
];

/** NUL in the places clients put it by mistake or on purpose; drawn as often as all other strings together. */
const nulStrings: readonly string[] = ['\u0000', 'a\u0000', '\u0000b', 'a\u0000b', '%00\u0000', '\u0000'.repeat(3)];

/** The hostile strings a case draws from: NUL weighted up, since PostgreSQL refuses it in text. */
const stringPool: readonly string[] = [...hostileStrings, ...Array.from({ length: Math.ceil(hostileStrings.length / nulStrings.length) }, () => nulStrings).flat()];

/** JSON values of the wrong type for almost any field. */
const wrongTypes: readonly unknown[] = [null, true, 0, -1, 1.5, 2 ** 53 + 2, -(2 ** 63), 1e308, '', 'text', [], [1, 'a', null], {}, { a: { b: [] } }];

/** Number literals JSON.stringify cannot write: out of range, negative zero, huge integers. */
const rawNumbers: readonly string[] = ['1e400', '-1e400', '-0', '1e-400', '123456789012345678901234567890', '0.1e1', '1E2'];

/** Percent-sequences that decode to nothing valid, or to something dangerous, placed raw in a URL. */
const rawUrlParts: readonly string[] = ['%zz', '%E0%A4%A', '%C0%80', '%ED%A0%80', '%FF%FE', '%', 'a%2Fb', '%2e%2e', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', 'a%00b', '%00', '%0d%0aX-Injected:%201'];

/** Whole bodies that are not what any route expects. */
function rawBodies(): { contentType: string; body: string }[] {
  const boundary = 'fuzzboundary';
  const part = (headers: string, content: string) => `--${boundary}\r\n${headers}\r\n\r\n${content}\r\n`;
  const multipart = (parts: string) => `${parts}--${boundary}--\r\n`;
  const formData = `multipart/form-data; boundary=${boundary}`;
  return [
    { contentType: 'application/json', body: '{' },
    { contentType: 'application/json', body: '{"a":1,"a":2}' },
    { contentType: 'application/json', body: '{"__proto__":{"isAdmin":true}}' },
    { contentType: 'application/json', body: '{"constructor":{"prototype":{"isAdmin":true}}}' },
    { contentType: 'application/json', body: '\ufeff{}' },
    { contentType: 'application/json', body: 'null' },
    { contentType: 'application/json', body: '"text"' },
    { contentType: 'application/json', body: '[]' },
    { contentType: 'application/json', body: '12' },
    { contentType: 'application/json', body: `${'['.repeat(100_000)}${']'.repeat(100_000)}` },
    { contentType: 'application/json; charset=latin1', body: '{}' },
    { contentType: 'text/plain', body: '{}' },
    { contentType: 'application/x-www-form-urlencoded', body: 'a=1&b=%00' },
    { contentType: 'application/octet-stream', body: '\u0000\u0001' },
    { contentType: formData, body: multipart(part('Content-Disposition: form-data; name="file"; filename="a\u0000b.txt"\r\nContent-Type: text/plain', 'hello')) },
    { contentType: formData, body: multipart(part(`Content-Disposition: form-data; name="file"; filename="${'n'.repeat(5000)}.txt"`, 'hello')) },
    { contentType: formData, body: multipart(part('Content-Disposition: form-data; name="file"; filename="../../../etc/passwd"\r\nContent-Type: text/html', '<script>1</script>')) },
    { contentType: formData, body: multipart(part("Content-Disposition: form-data; name=\"file\"; filename*=UTF-8''a%00%2F..%2Fb.txt", 'x')) },
    { contentType: formData, body: multipart(part('Content-Disposition: form-data; name="file"; filename="\ud83d.txt"\r\nContent-Type: \u0000', '')) },
    { contentType: formData, body: multipart(part('Content-Disposition: form-data; name="other"', 'x')) },
    { contentType: formData, body: `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.txt"\r\n\r\nno end` },
    { contentType: 'multipart/form-data', body: 'no boundary' },
  ];
}

/** How a hostile case changes a valid request. */
export type MutationKind = 'string' | 'wrongType' | 'deepNesting' | 'rawNumber' | 'extraFields' | 'rawBody' | 'rawUrl' | 'repeatedQuery' | 'hugeHeader';

/** One hostile change, chosen by fast-check: what kind, where (`pick` modulo the candidates), and which value. */
export interface Mutation {
  kind: MutationKind;
  target: 'body' | 'params' | 'query';
  pick: number;
  variant: number;
  /** A sweep's exact place (a body path, or `[name]` of a parameter): NUL appended there, or deep nesting added. */
  at?: (string | number)[];
}

/** The arbitrary of hostile changes. */
export const mutationArbitrary: fc.Arbitrary<Mutation> = fc.record({
  // Weighted towards what broke before: NUL (in strings) and deep nesting.
  kind: fc.oneof(
    { arbitrary: fc.constant<MutationKind>('string'), weight: 5 },
    { arbitrary: fc.constant<MutationKind>('deepNesting'), weight: 3 },
    { arbitrary: fc.constant<MutationKind>('wrongType'), weight: 2 },
    { arbitrary: fc.constantFrom<MutationKind>('rawNumber', 'extraFields', 'rawBody', 'rawUrl', 'repeatedQuery', 'hugeHeader'), weight: 6 },
  ),
  target: fc.constantFrom<Mutation['target']>('body', 'params', 'query'),
  pick: fc.nat(),
  variant: fc.nat(),
});

/** Most single-place mutations a sweep sends per route. */
const maxSweep = 60;

/**
 * Every single-place mutation of one valid request that broke a database before: NUL appended to each
 * string of the body and to each path and query parameter, and deep nesting added to each object of
 * the body. Random cases reach a given field rarely; a sweep reaches each once.
 */
export function sweepMutations(method: string, parts: RequestParts): Mutation[] {
  const sweep: Mutation[] = [];
  const base = { pick: 0, variant: 0 };
  if (method !== 'GET' && method !== 'HEAD' && parts.body !== undefined) {
    // Shallow places first: the cap cuts the deepest, which repeat the same fields.
    for (const path of placesIn(parts.body).sort((a, b) => a.length - b.length)) {
      const at = valueAt(parts.body, path);
      if (typeof at === 'string') sweep.push({ ...base, kind: 'string', target: 'body', at: path });
      else if (at !== null && typeof at === 'object' && !Array.isArray(at)) sweep.push({ ...base, kind: 'deepNesting', target: 'body', at: path });
    }
  }
  for (const name of Object.keys(parts.params)) sweep.push({ ...base, kind: 'string', target: 'params', at: [name] });
  for (const [name, value] of Object.entries(parts.query)) if (value !== undefined) sweep.push({ ...base, kind: 'string', target: 'query', at: [name] });
  return sweep.slice(0, maxSweep);
}

/** `text` percent-encoded for a URL, lone surrogates included (encodeURIComponent throws on those). */
function encodePart(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return [...Buffer.from(text, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
  }
}

/** Every place in a JSON value (the root included), in pre-order, as key paths. */
function placesIn(value: unknown, path: (string | number)[] = [], into: (string | number)[][] = []): (string | number)[][] {
  into.push(path);
  if (Array.isArray(value)) value.forEach((item, i) => placesIn(item, [...path, i], into));
  else if (value && typeof value === 'object') for (const [key, item] of Object.entries(value)) placesIn(item, [...path, key], into);
  return into;
}

/** The places in a JSON value holding a string (else any non-container; the root when there is none). */
function stringPlacesIn(value: unknown): (string | number)[][] {
  const places = placesIn(value);
  const strings = places.filter((path) => typeof valueAt(value, path) === 'string');
  if (strings.length > 0) return strings;
  const leaves = places.filter((path) => {
    const at = valueAt(value, path);
    return at === null || typeof at !== 'object';
  });
  return leaves.length > 0 ? leaves : [[]];
}

/** The places in a JSON value holding a plain object (the root included), where a field can be added. */
function objectPlacesIn(value: unknown): (string | number)[][] {
  return placesIn(value).filter((path) => {
    const at = valueAt(value, path);
    return at !== null && typeof at === 'object' && !Array.isArray(at);
  });
}

/** The value at `path` in `value`. */
function valueAt(value: unknown, path: (string | number)[]): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string | number, unknown> | undefined)?.[key], value);
}

/** `value` with the place at `path` replaced by `replacement` (copied, the original is left alone). */
function replaceAt(value: unknown, path: (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  if (Array.isArray(value)) return value.map((item, i) => (i === head ? replaceAt(item, rest, replacement) : item));
  const record = value as Record<string, unknown>;
  return { ...record, [head!]: replaceAt(record[head!], rest, replacement) };
}

/** A marker replaced in the serialized body by raw JSON text JSON.stringify could not produce. */
const rawMarker = '\u0007raw-json\u0007';

const pickFrom = <T>(list: readonly T[], n: number): T => list[n % list.length]!;

function queryString(query: Record<string, unknown>): string {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === undefined) continue;
      const text = typeof item === 'object' && item !== null ? JSON.stringify(item) : String(item);
      pairs.push(`${encodePart(key)}=${encodePart(text)}`);
    }
  }
  return pairs.join('&');
}

/** Builds the request for `parts` on the route `url` (`/a/:id/b`), applying `mutation` when given. */
export function buildRequest(method: string, url: string, parts: RequestParts, mutation?: Mutation): FuzzRequest {
  let { params, query, body } = parts;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(parts.headers)) if (value !== undefined) headers[name] = String(value);
  let rawJson: string | undefined;
  let rawPath: { name: string; text: string } | undefined;
  let rawQuery = '';
  let rawBody: { contentType: string; body: string } | undefined;

  const canHaveBody = method !== 'GET' && method !== 'HEAD';
  if (!canHaveBody) body = undefined;
  if (mutation) {
    const paramNames = Object.keys(params);
    let target = mutation.target === 'params' && paramNames.length === 0 ? 'query' : mutation.target;
    if (target === 'body' && !canHaveBody) target = paramNames.length > 0 ? 'params' : 'query';
    const kind = mutation.kind === 'rawBody' && !canHaveBody ? 'rawUrl' : mutation.kind;
    // Strings land on string fields; deep nesting half the time goes into a new field of some object
    // (open-ended ones such as chat params keep it); other kinds replace any place, the root included.
    const mutate = (value: unknown, replacement: (current: unknown) => unknown) => {
      if (mutation.at) {
        const current = valueAt(value, mutation.at);
        if (kind === 'deepNesting') return replaceAt(value, mutation.at, { ...(current as Record<string, unknown>), a: replacement(undefined) });
        return replaceAt(value, mutation.at, replacement(current));
      }
      const objects = objectPlacesIn(value);
      if (kind === 'deepNesting' && objects.length > 0 && mutation.variant % 2 === 0) {
        const path = pickFrom(objects, mutation.pick);
        return replaceAt(value, path, { ...(valueAt(value, path) as Record<string, unknown>), a: replacement(undefined) });
      }
      const path = pickFrom(kind === 'string' ? stringPlacesIn(value) : placesIn(value), mutation.pick);
      return replaceAt(value, path, replacement(valueAt(value, path)));
    };
    const hostileString = (current: unknown) => {
      if (mutation.at) return `${typeof current === 'string' ? current : ''}\u0000`;
      const text = pickFrom(stringPool, mutation.variant);
      // Half the time inside the field's own value, so its other rules (length, format) still hold.
      return typeof current === 'string' && Math.floor(mutation.variant / stringPool.length) % 2 === 1 ? `${current}${text}` : text;
    };
    const replacementFor = (kind: MutationKind, current: unknown): unknown => {
      if (kind === 'string') return hostileString(current);
      if (kind === 'wrongType') return pickFrom(wrongTypes, mutation.variant);
      if (kind === 'deepNesting') {
        rawJson = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
        return rawMarker;
      }
      rawJson = pickFrom(rawNumbers, mutation.variant);
      return rawMarker;
    };
    switch (kind) {
      case 'string':
      case 'wrongType':
      case 'deepNesting':
      case 'rawNumber':
        if (target === 'body') body = mutate(body ?? {}, (current) => replacementFor(kind, current));
        else if (target === 'params') {
          const name = mutation.at ? String(mutation.at[0]) : pickFrom(paramNames, mutation.pick);
          const value = kind === 'string' ? hostileString(params[name]) : kind === 'wrongType' ? JSON.stringify(pickFrom(wrongTypes, mutation.variant)) : pickFrom(rawNumbers, mutation.variant);
          // Path parameters stay within Node's header size limit: 8 KB at most.
          params = { ...params, [name]: value.slice(0, 8192) };
        } else {
          const names = Object.keys(query);
          const name = mutation.at ? String(mutation.at[0]) : names.length > 0 ? pickFrom(names, mutation.pick) : 'q';
          const value = kind === 'string' ? hostileString(query[name]).slice(0, 4096) : kind === 'wrongType' ? pickFrom(wrongTypes, mutation.variant) : pickFrom(rawNumbers, mutation.variant);
          query = { ...query, [name]: value };
        }
        break;
      case 'extraFields':
        if (canHaveBody) body = { ...(body && typeof body === 'object' && !Array.isArray(body) ? body : {}), [pickFrom(hostileStrings, mutation.variant).slice(0, 256)]: pickFrom(wrongTypes, mutation.pick) };
        else query = { ...query, [pickFrom(hostileStrings, mutation.variant).slice(0, 256)]: '1' };
        break;
      case 'rawBody':
        rawBody = pickFrom(rawBodies(), mutation.variant);
        break;
      case 'rawUrl': {
        const text = pickFrom(rawUrlParts, mutation.variant);
        if (target === 'params') rawPath = { name: pickFrom(paramNames, mutation.pick), text };
        else rawQuery = `${encodePart(pickFrom(Object.keys(query).concat('q'), mutation.pick))}=${text}`;
        break;
      }
      case 'repeatedQuery': {
        const names = Object.keys(query).concat('page');
        const name = pickFrom(names, mutation.pick);
        query = { ...query, [name]: [query[name] ?? '1', pickFrom(hostileStrings, mutation.variant).slice(0, 512), '2'] };
        break;
      }
      case 'hugeHeader':
        // Within Node's 16 KB header limit, so the request reaches the app.
        headers[pickFrom(['x-request-id', 'last-event-id', 'x-forwarded-for', 'accept-language', 'cookie'], mutation.variant)] = pickFrom(['x'.repeat(8192), '\u00ff\u00fe', '1'.repeat(200), 'a, b, c', 'token=' + 'y'.repeat(4000)], mutation.pick);
        break;
    }
  }

  const path = url.replace(/:([A-Za-z_]+)/g, (_match, name: string) => {
    if (rawPath?.name === name) return rawPath.text;
    const value = params[name];
    return encodePart(value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value));
  });
  const encodedQuery = [queryString(query), rawQuery].filter(Boolean).join('&');
  if (rawBody) return { method, path, query: encodedQuery, headers: { ...headers, 'content-type': rawBody.contentType }, body: rawBody.body };
  if (body === undefined) return { method, path, query: encodedQuery, headers };
  let text = JSON.stringify(body) ?? 'null';
  if (rawJson !== undefined) text = text.replace(JSON.stringify(rawMarker), rawJson);
  return { method, path, query: encodedQuery, headers: { ...headers, 'content-type': 'application/json' }, body: text };
}
