import { z } from 'zod';

/** An upstream base URL: http(s) only, so an admin cannot point the server at file: or other schemes. */
export const baseUrlSchema = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).max(2048);

export const connectionTypeSchema = z.enum(['openai', 'ollama']);

/**
 * How another instance finishes this connection's answers when theirs died: `continue` the partial answer
 * (only for upstreams that continue a trailing assistant message), `regenerate` it, or `auto` (by type).
 */
export const takeoverModeSchema = z.enum(['auto', 'continue', 'regenerate']);

// The prefix is joined to model ids with a '.', so it may not contain one itself.
const prefixSchema = z
  .string()
  .max(64)
  .regex(/^[A-Za-z0-9_-]*$/, 'may contain only letters, digits, - and _');

const modelIdsSchema = z.array(z.string().min(1).max(256)).max(1000);

/** Body of POST /api/v1/connections/. */
export const createConnectionBody = z.object({
  type: connectionTypeSchema,
  name: z.string().trim().min(1).max(100).optional(),
  base_url: baseUrlSchema,
  api_key: z.string().max(4096).optional(),
  prefix_id: prefixSchema.optional(),
  model_ids: modelIdsSchema.optional(),
  enabled: z.boolean().optional(),
  http2: z.boolean().optional(),
  takeover_mode: takeoverModeSchema.optional(),
});
export type CreateConnectionInput = z.infer<typeof createConnectionBody>;

/** Body of POST /api/v1/connections/{id}/update: any subset; an omitted api_key keeps the stored one. */
export const updateConnectionBody = createConnectionBody.partial();
export type UpdateConnectionInput = z.infer<typeof updateConnectionBody>;

/** Body of POST /api/v1/connections/test: an unsaved connection to try. */
export const testConnectionBody = createConnectionBody.pick({ type: true, base_url: true, api_key: true, http2: true });
export type TestConnectionInput = z.infer<typeof testConnectionBody>;

export const connectionIdParams = z.object({ id: z.string().min(1).max(64) });
