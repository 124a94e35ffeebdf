import { z } from 'zod';

export const emailSchema = z.email('must be a valid email address').max(254);
// Bounded so one request cannot make argon2 hash megabytes.
export const passwordSchema = z.string().min(8, 'must be at least 8 characters').max(256);

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
