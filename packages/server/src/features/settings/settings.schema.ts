import { z } from 'zod';

/** Settings admins change at run time; the environment gives their starting values. */
export const runtimeSettingsSchema = z.object({
  ENABLE_SIGNUP: z.boolean(),
  DEFAULT_USER_ROLE: z.enum(['pending', 'user']),
  ENABLE_TITLE_GENERATION: z.boolean(),
  ENABLE_REMOTE_IMAGES: z.boolean(),
});
export type RuntimeSettings = z.infer<typeof runtimeSettingsSchema>;

/** `POST /auths/admin/config`: any of the settings, nothing else. */
export const settingsPatchBody = runtimeSettingsSchema.partial().strict();
