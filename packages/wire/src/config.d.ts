/** Settings admins change at run time (`/api/v1/auths/admin/config`). */
export interface AdminConfig {
  ENABLE_SIGNUP: boolean;
  DEFAULT_USER_ROLE: 'pending' | 'user';
  ENABLE_TITLE_GENERATION: boolean;
  /** Show images from other sites in answers (off: they are shown as links and never fetched). */
  ENABLE_REMOTE_IMAGES: boolean;
}

/** Public facts about the instance (`GET /api/config`), read before signing in. */
export interface PublicConfig {
  name: string;
  version: string;
  /** True until the first account exists (it becomes the admin). */
  onboarding: boolean;
  features: {
    enable_signup: boolean;
    /** Whether answers may load images from other sites (the page's Content-Security-Policy allows them too). */
    enable_remote_images: boolean;
  };
}
