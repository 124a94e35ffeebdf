import { z } from 'zod';

/** An account's email: the same rule at sign-up and when an admin edits a user. */
export const emailSchema = z.email('must be a valid email address').max(254);
/**
 * A new password: at least 10 characters, not only spaces, whatever ENABLE_PASSWORD_VALIDATION says
 * (the configured pattern is checked on top, by the password policy). Bounded so one request cannot
 * make argon2 hash megabytes.
 */
export const passwordSchema = z
  .string()
  .min(10, 'must be at least 10 characters')
  .max(256)
  .refine((password) => /\S/u.test(password), 'must not be only spaces');

const roleSchema = z.enum(['admin', 'user', 'pending']);

/** `/users/{id}`: any string; unknown ids are simply not found. */
export const userIdParams = z.object({ id: z.string().min(1).max(200) });

/** `GET /users/`: paging, a name-or-email search, and the sort. */
export const listUsersQuery = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  query: z.string().trim().max(200).optional(),
  order_by: z.enum(['created_at', 'name', 'email', 'last_active_at']).default('created_at'),
  direction: z.enum(['asc', 'desc']).default('desc'),
});
export type ListUsersQuery = z.infer<typeof listUsersQuery>;

/** `POST /users/update/role`. */
export const updateRoleBody = z.object({ id: z.string().min(1).max(200), role: roleSchema });

/**
 * `POST /users/{id}/update`. Open WebUI's admin form always sends `password`
 * (empty when unchanged) and `profile_image_url`, so both are accepted.
 */
export const updateUserBody = z.object({
  role: roleSchema.optional(),
  name: z.string().trim().min(1).max(100).optional(),
  email: emailSchema.optional(),
  password: z.union([z.literal(''), passwordSchema]).optional(),
  profile_image_url: z.string().max(2048).optional(),
});
export type UpdateUserInput = z.infer<typeof updateUserBody>;
