/** Field-level before/after of a change: `{ field: { from, to } }`. */
export type FieldChanges = Record<string, { from: unknown; to: unknown }>;

/** The fields of `after` whose value differs from `before` (compared as JSON), as before/after pairs. */
export function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): FieldChanges {
  const changes: FieldChanges = {};
  for (const [field, to] of Object.entries(after)) {
    if (to === undefined) continue;
    const from = before[field];
    if (JSON.stringify(from) !== JSON.stringify(to)) changes[field] = { from, to };
  }
  return changes;
}

// Names of fields that may hold a credential; their values never reach the log.
const secretField = /pass(word)?|api_?key|token|secret|hash|authorization|cookie/i;
// Markers callers write in place of a secret ("api_key: 'changed'") are kept: they say what happened.
const markers = new Set(['changed', 'set', 'none']);

/**
 * A copy of `details` with the value of every secret-looking field replaced, however deep.
 * Callers already leave secrets out; this is the second lock on the door.
 */
export function withoutSecrets(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => withoutSecrets(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      secretField.test(key) && !(typeof item === 'string' && markers.has(item)) ? '[redacted]' : withoutSecrets(item, depth + 1),
    ]),
  );
}
