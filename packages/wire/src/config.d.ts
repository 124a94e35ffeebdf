/** Settings admins change at run time (`/api/v1/auths/admin/config`). */
export interface AdminConfig {
  ENABLE_SIGNUP: boolean;
  DEFAULT_USER_ROLE: 'pending' | 'user';
  ENABLE_TITLE_GENERATION: boolean;
}

/** Public facts about the instance (`GET /api/config`), read before signing in. */
export interface PublicConfig {
  name: string;
  version: string;
  /** True until the first account exists (it becomes the admin). */
  onboarding: boolean;
  features: { enable_signup: boolean };
}
