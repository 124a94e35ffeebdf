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
