/** A user's role; `pending` users wait for an administrator's approval. */
export type Role = 'admin' | 'user' | 'pending';

/** A user as `/api/v1/auths/` and `/api/v1/users/` show it (Open WebUI's shape). */
export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  profile_image_url: string;
  created_at: number;
  updated_at: number;
  last_active_at: number;
}

/** `GET /api/v1/users/`: one page of users and the total count. */
export interface UserList {
  users: User[];
  total: number;
}

/** A signed-in session as signup and signin return it (the cookie carries the same token). */
export interface Session extends User {
  token: string;
  token_type: 'Bearer';
  /** null for a session without an expiry. */
  expires_at: number | null;
}

/** `POST /api/v1/auths/api_key`: the new key, shown whole only this once. */
export interface NewApiKey {
  api_key: string;
}

/** `GET /api/v1/auths/api_key`: the caller's key as a hint, never the whole key. */
export interface ApiKeyHint {
  api_key: string;
  created_at: number;
}
