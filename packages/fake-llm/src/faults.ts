import { sendError } from './errors.js';
import type { ModelId } from './models.js';
import { pause } from './pacing.js';
import type { Dialect, RequestContext } from './types.js';

/** Tokens a mid-stream fault model streams before it misbehaves. */
export const MIDSTREAM_TOKENS = 3;

/** Message of the fail-500 model. */
export const UPSTREAM_FAILURE = 'fake upstream failure';
/** Message of the fail-429 model. */
export const RATE_LIMITED = 'rate limited by fake upstream';
/** Message of error-midstream (in-stream event, or 500 when not streaming). */
export const MIDSTREAM_FAILURE = 'fake mid-stream failure';

/** What goes wrong after the first tokens of a stream. */
export type MidstreamFault = 'error' | 'drop' | 'stall';

const MIDSTREAM: Partial<Record<ModelId, MidstreamFault>> = {
  'error-midstream': 'error',
  'drop-midstream': 'drop',
  'stall-midstream': 'stall',
};

/** The mid-stream fault a model injects, or null for a model that finishes its answers. */
export function midstreamFaultOf(model: ModelId): MidstreamFault | null {
  return MIDSTREAM[model] ?? null;
}

/**
 * Applies what a model does before any body byte: failing statuses, slow headers, and
 * for a non-streamed request the mid-stream models (500, or no answer at all for
 * stall). Returns true when the caller should go on and answer normally.
 */
export async function passUpstreamFaults(
  ctx: RequestContext,
  model: ModelId,
  dialect: Dialect,
  isStreaming: boolean,
): Promise<boolean> {
  if (model === 'fail-500') {
    sendError(ctx.res, dialect, 500, UPSTREAM_FAILURE);
    return false;
  }
  if (model === 'fail-429') {
    sendError(ctx.res, dialect, 429, RATE_LIMITED, { headers: { 'retry-after': '1' } });
    return false;
  }
  if (model === 'slow-headers') return pause(ctx.options.slowHeadersMs, ctx.signal);
  const fault = midstreamFaultOf(model);
  if (isStreaming || fault === null) return true;
  // A stalled upstream never answers; the request stays open until the client or close() ends it.
  if (fault !== 'stall') sendError(ctx.res, dialect, 500, MIDSTREAM_FAILURE);
  return false;
}
