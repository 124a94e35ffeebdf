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

/** `GET /api/v1/auths/api_keys`: one of the caller's API keys, never the whole key. Times in epoch seconds. */
export interface ApiKey {
  id: string;
  name: string;
  /** The key's start and end, e.g. `sk-1a2…9f0e`. */
  key_hint: string;
  /** The key Open WebUI's single-key endpoints (`/api/v1/auths/api_key`) manage. */
  is_default: boolean;
  created_at: number;
  /** Updated at most once a minute; null when never used. */
  last_used_at: number | null;
  /** null: never expires. */
  expires_at: number | null;
}

/** `POST /api/v1/auths/api_keys` body. */
export interface CreateApiKeyRequest {
  name: string;
  /** Epoch seconds, in the future; null or absent: never expires. */
  expires_at?: number | null;
}

/** `POST /api/v1/auths/api_keys`: the new key, whole only this once. */
export interface CreatedApiKey extends ApiKey {
  api_key: string;
}
