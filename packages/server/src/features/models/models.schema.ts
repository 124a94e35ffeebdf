import { z } from 'zod';

/** Ids clients may send as `model`; the charset keeps them safe in URLs, logs and Ollama-style names. */
export const presetIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9\-_.:/@]{1,128}$/, 'must be 1 to 128 letters, digits or - _ . : / @');

/**
 * Generation parameters a preset applies. null means "leave to the request" (Open WebUI sends nulls
 * for unset fields), so nulls are dropped when stored; unknown keys are dropped too.
 */
export const presetParamsSchema = z.object({
  system: z.string().max(100_000).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  max_tokens: z.number().int().positive().max(10_000_000).nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string().min(1).max(200), z.array(z.string().min(1).max(200)).max(16)]).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
});
export type PresetParamsInput = z.infer<typeof presetParamsSchema>;

const presetMetaSchema = z.object({ description: z.string().max(5000).nullish() });

/** Body of POST /api/v1/models/create. */
export const createPresetBody = z.object({
  id: presetIdSchema,
  base_model_id: z.string().min(1).max(512),
  name: z.string().trim().min(1).max(200),
  meta: presetMetaSchema.optional(),
  params: presetParamsSchema.optional(),
  is_active: z.boolean().optional(),
});
export type CreatePresetInput = z.infer<typeof createPresetBody>;

/** Body of POST /api/v1/models/model/update: any subset; `params` and `meta` replace the stored ones whole. */
export const updatePresetBody = createPresetBody.partial();
export type UpdatePresetInput = z.infer<typeof updatePresetBody>;

/** `?id=` of the preset routes. */
export const presetIdQuery = z.object({ id: z.string().min(1).max(512) });

/** `?refresh=true` asks admins' lists to bypass the cache. */
export const modelListQuery = z.object({ refresh: z.enum(['true', 'false', '1', '0']).optional() });
