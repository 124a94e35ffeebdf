import { z } from 'zod';
import { emailSchema, passwordSchema } from '../users/users.service.js';

export const signupBody = z.object({
  email: emailSchema,
  password: passwordSchema,
  name: z.string().trim().min(1).max(100),
  profile_image_url: z.string().max(2048).optional(),
});

export const signinBody = z.object({
  email: emailSchema,
  password: z.string().min(1).max(256),
});

export const changePasswordBody = z.object({
  password: z.string().min(1).max(256),
  new_password: passwordSchema,
});

/** `POST /api/v1/auths/api_keys`: a name, and an optional expiry in epoch seconds (null or absent: never). */
export const createApiKeyBody = z.object({
  name: z.string().trim().min(1).max(100),
  expires_at: z.number().int().positive().max(32_503_680_000).nullable().optional(),
});

/** `/api/v1/auths/api_keys/{id}`. */
export const apiKeyIdParams = z.object({ id: z.string().min(1).max(200) });
