function show(value: unknown): string {
  if (value === null || value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function isChange(value: unknown): value is { from: unknown; to: unknown } {
  return value !== null && typeof value === 'object' && 'from' in value && 'to' in value && Object.keys(value).length === 2;
}

/** An audit event's details on one line: `name: Old → New; api_key: changed`. */
export function describeDetails(details: Record<string, unknown>): string {
  return Object.entries(details)
    .map(([key, value]) => (isChange(value) ? `${key}: ${show(value.from)} → ${show(value.to)}` : `${key}: ${show(value)}`))
    .join('; ');
}
