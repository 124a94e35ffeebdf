import fc from 'fast-check';

// fast-check arbitraries derived from the zod 4 schemas the routes declare. No maintained bridge
// supports zod 4 (zod-fast-check stops at zod 3 and fast-check 3), so this reads zod 4's public
// definition objects (`schema._zod.def`) for the kinds of schema Parley's routes use.

/** What this generator reads of a zod 4 schema or check: its definition. */
interface ZodNode {
  _zod: { def: ZodDef; optin?: 'optional' };
}
interface ZodDef {
  type?: string;
  check?: string;
  checks?: ZodNode[];
  format?: string;
  pattern?: RegExp;
  minimum?: number | bigint;
  maximum?: number | bigint;
  value?: number | bigint;
  inclusive?: boolean;
  shape?: Record<string, ZodNode>;
  catchall?: ZodNode;
  element?: ZodNode;
  keyType?: ZodNode;
  valueType?: ZodNode;
  options?: ZodNode[];
  innerType?: ZodNode;
  in?: ZodNode;
  left?: ZodNode;
  entries?: Record<string, string | number>;
  values?: unknown[];
  getter?: () => ZodNode;
}

/**
 * The generator for a field, given its name (`base_url`, `model`, `from`…) and the schema's own
 * arbitrary: lets values that must point at something real (the fake model server, an existing chat) do.
 */
export type FieldOverride = (field: string, fromSchema: fc.Arbitrary<unknown>) => fc.Arbitrary<unknown>;

/** Longest string generated for a field that allows more: long enough to vary, short enough to be quick. */
const typicalLength = 24;

/** Longest field limit probed with a string of exactly that length. */
const longestBoundary = 1_000_000;

function checksOf(def: ZodDef): ZodDef[] {
  return (def.checks ?? []).map((check) => check._zod.def);
}

/** Addresses of the plain shape zod's email check accepts (fast-check's own use every RFC 5322 liberty). */
const plainEmail = fc
  .tuple(fc.stringMatching(/^[a-z0-9][a-z0-9._+-]{0,15}$/), fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/), fc.constantFrom('com', 'org', 'example', 'io'))
  .map(([local, domain, tld]) => `${local}@${domain}.${tld}`);

/** Whether `schema` accepts `value` (the generated value, checked against the field's own schema). */
function accepts(schema: unknown, value: unknown): boolean {
  return (schema as { safeParse(value: unknown): { success: boolean } }).safeParse(value).success;
}

function stringArbitrary(schema: unknown, def: ZodDef): fc.Arbitrary<string> {
  let min = 0;
  let max = Number.POSITIVE_INFINITY;
  let pattern: RegExp | undefined;
  let format = def.format;
  for (const check of [def, ...checksOf(def)]) {
    if (check.check === 'min_length') min = Math.max(min, Number(check.minimum));
    if (check.check === 'max_length') max = Math.min(max, Number(check.maximum));
    if (check.check === 'length_equals') min = max = Number(check.value);
    if (check.check === 'string_format' && check.format === 'regex') pattern = check.pattern;
    else if (check.check === 'string_format' && check.format) format ??= check.format;
  }
  const fits = (text: string) => text.length >= min && text.length <= max && accepts(schema, text);
  if (pattern) return fc.stringMatching(pattern, { size: 'small' }).filter(fits);
  if (format === 'email') return plainEmail.filter(fits);
  if (format === 'url') return fc.webUrl().filter(fits);
  if (format === 'uuid' || format === 'guid') return fc.uuid();
  const upTo = Math.max(min, Math.min(max, typicalLength));
  const variants: fc.Arbitrary<string>[] = [
    fc.string({ minLength: min, maxLength: upTo }),
    fc.string({ minLength: min, maxLength: upTo, unit: 'grapheme' }),
  ];
  // The longest string the field allows, to probe the column and the code behind it at the limit
  // (up to a megabyte: a longer limit is the body size limit's business).
  if (max > 0 && max <= longestBoundary) variants.push(fc.constantFrom('x', 'é', '😀').map((unit) => unit.repeat(Math.floor(max / unit.length))));
  return fc.oneof(...variants).filter(fits);
}

function numberArbitrary(def: ZodDef): fc.Arbitrary<number> {
  let min = -Number.MAX_VALUE;
  let max = Number.MAX_VALUE;
  let isInteger = false;
  for (const check of checksOf(def)) {
    if (check.check === 'number_format' && check.format && /int/.test(check.format)) isInteger = true;
    if (check.check === 'greater_than') min = Math.max(min, Number(check.value));
    if (check.check === 'less_than') max = Math.min(max, Number(check.value));
  }
  if (isInteger) {
    return fc.integer({ min: Math.max(Math.ceil(min), Number.MIN_SAFE_INTEGER), max: Math.min(Math.floor(max), Number.MAX_SAFE_INTEGER) });
  }
  return fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
}

/** How to generate: field overrides, and `complete` (every optional field present, no extras) for sweeps. */
interface Generation {
  override: FieldOverride;
  complete: boolean;
}

function objectArbitrary(def: ZodDef, generation: Generation): fc.Arbitrary<Record<string, unknown>> {
  const shape = def.shape ?? {};
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  const requiredKeys: string[] = [];
  for (const [key, field] of Object.entries(shape)) {
    model[key] = generation.override(key, generate(field, generation));
    if (generation.complete || field._zod.optin !== 'optional') requiredKeys.push(key);
  }
  const known = fc.record(model, { requiredKeys });
  // A loose object passes unknown fields through (to the upstream, into stored JSON): send some.
  const isLoose = def.catchall && def.catchall._zod.def.type !== 'never';
  if (!isLoose || generation.complete) return known;
  const extra = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 });
  return fc.tuple(known, fc.option(extra, { nil: undefined })).map(([fields, extras]) => ({ ...extras, ...fields }));
}

function generate(schema: unknown, generation: Generation): fc.Arbitrary<unknown> {
  const def = (schema as ZodNode)._zod.def;
  const { complete } = generation;
  const inner = (node: ZodNode | undefined) => (node ? generate(node, generation) : fc.constant(undefined));
  switch (def.type) {
    case 'string':
      return stringArbitrary(schema, def);
    case 'number':
      return numberArbitrary(def);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'undefined':
    case 'void':
    case 'never':
      return fc.constant(undefined);
    case 'any':
    case 'unknown':
      return complete ? fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string(), { minKeys: 1, maxKeys: 2 }) : fc.jsonValue({ maxDepth: 3 });
    case 'enum':
      return fc.constantFrom(...Object.values(def.entries ?? {}));
    case 'literal':
      return fc.constantFrom(...(def.values ?? []));
    case 'object':
      return objectArbitrary(def, generation);
    case 'array': {
      let min = 0;
      let max = 4;
      for (const check of checksOf(def)) {
        if (check.check === 'min_length') min = Number(check.minimum);
        if (check.check === 'max_length') max = Math.min(max, Number(check.maximum));
      }
      if (complete) [min, max] = [Math.max(min, 1), Math.max(min, 1)];
      return fc.array(inner(def.element), { minLength: min, maxLength: Math.max(min, max) });
    }
    case 'record':
      return fc.dictionary(inner(def.keyType) as fc.Arbitrary<string>, inner(def.valueType), { minKeys: complete ? 1 : 0, maxKeys: complete ? 1 : 4 });
    case 'union':
      return fc.oneof(...(def.options ?? []).map((option) => inner(option)));
    case 'intersection':
      return inner(def.left);
    case 'optional':
    case 'default':
    case 'prefault':
      return complete ? inner(def.innerType) : fc.option(inner(def.innerType), { nil: undefined, freq: 4 });
    case 'nullable':
      return complete ? inner(def.innerType) : fc.option(inner(def.innerType), { nil: null, freq: 4 });
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return inner(def.innerType);
    case 'pipe':
      return inner(def.in);
    case 'lazy':
      return def.getter ? inner(def.getter()) : fc.constant(undefined);
    default:
      // Kinds the routes do not use (dates, maps, custom…): something JSON, which they will refuse.
      return fc.jsonValue({ maxDepth: 1 });
  }
}

/**
 * An arbitrary of inputs the schema accepts (mostly: refinements and transforms are not solved for).
 * `complete` gives every optional field, one item per list and no unknown fields: the fullest shape.
 */
export function arbitraryOf(schema: unknown, override: FieldOverride = (_field, fromSchema) => fromSchema, complete = false): fc.Arbitrary<unknown> {
  return generate(schema, { override, complete });
}
