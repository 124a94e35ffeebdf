/** A count for axis labels and tiles: 950, 12.3k, 4.1M. */
export function formatCount(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${trim(value / 1e9)}G`;
  if (abs >= 1e6) return `${trim(value / 1e6)}M`;
  if (abs >= 1e3) return `${trim(value / 1e3)}k`;
  return `${Math.round(value * 10) / 10}`;
}

function trim(value: number): string {
  return value >= 100 ? Math.round(value).toString() : value.toFixed(1).replace(/\.0$/, '');
}

/** The UTC day `daysAgo` days before `now` began, in epoch seconds: the start of a "last N days" range. */
export function startOfUtcDay(now: number, daysAgo: number): number {
  const today = Math.floor(now / 86_400_000) * 86_400_000;
  return (today - daysAgo * 86_400_000) / 1000;
}
