/** Milliseconds as Redis accepts them (a positive integer), so both implementations round alike. */
export function toMs(ms: number): number {
  if (!Number.isFinite(ms)) throw new RangeError(`Not a duration: ${ms}`);
  return Math.max(1, Math.ceil(ms));
}

/** Serialises a cache value, refusing what JSON cannot hold (undefined, functions). */
export function toJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError('Cached values must be JSON-serialisable');
  return json;
}

/** Flattens stream fields into name, value, name, value..., refusing an entry without any. */
export function flattenFields(fields: Record<string, string>): string[] {
  const flat = Object.entries(fields).flat();
  if (flat.length === 0) throw new RangeError('A stream entry needs at least one field');
  return flat;
}
