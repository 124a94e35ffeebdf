// Small statistics helpers; percentiles use the nearest-rank method on the sorted samples.

/** Nearest-rank percentile (p in 0..100) of unsorted numbers; NaN when empty. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Middle value (mean of the two middle ones for an even count); NaN when empty. */
export function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Arithmetic mean; NaN when empty. */
export function mean(values) {
  return values.length === 0 ? NaN : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** p50, p90, p99, max and mean of a sample, rounded to 0.01. */
export function summary(values) {
  return {
    n: values.length,
    p50: round(percentile(values, 50)),
    p90: round(percentile(values, 90)),
    p99: round(percentile(values, 99)),
    max: round(percentile(values, 100)),
    mean: round(mean(values)),
  };
}

/** Rounds to `digits` decimals, keeping NaN/null as null so JSON stays valid. */
export function round(value, digits = 2) {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** a / b rounded to 0.001, or null when either is missing. */
export function ratio(a, b) {
  return a === null || b === null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? null : round(a / b, 3);
}
