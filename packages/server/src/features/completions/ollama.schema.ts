import { z } from 'zod';
import { chatMessageSchema } from './completions.schema.js';

const ollamaOptions = z
  .looseObject({
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().min(0).max(1).optional(),
    num_predict: z.number().int().optional(),
    seed: z.number().int().optional(),
    stop: z.array(z.string().max(256)).max(8).optional(),
  })
  .optional();

/** Ollama's `/api/chat` body. */
export const ollamaChatBody = z.looseObject({
  model: z.string().min(1).max(256),
  // Base64 images: the body limit (MAX_BODY_SIZE) is the real bound; this one keeps a single image sane.
  messages: z.array(chatMessageSchema.extend({ images: z.array(z.string().max(20_000_000)).max(20).optional() })).min(1).max(2000),
  stream: z.boolean().default(true),
  options: ollamaOptions,
});

/** Ollama's `/api/generate` body. */
export const ollamaGenerateBody = z.looseObject({
  model: z.string().min(1).max(256),
  prompt: z.string().max(1_000_000),
  system: z.string().max(1_000_000).optional(),
  stream: z.boolean().default(true),
  options: ollamaOptions,
});
