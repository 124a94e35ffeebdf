import type { AdminConfig, ApiKey, CreateApiKeyRequest, CreatedApiKey, PublicConfig, Session, User } from '@parley/wire';
import { api, ApiError } from './http';

/** The signed-in user, or null when signed out. */
export async function currentUser(): Promise<User | null> {
  try {
    return await api<User>('/api/v1/auths/');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

/** Public facts about the instance; null when the server does not offer them. */
export async function publicConfig(): Promise<PublicConfig | null> {
  try {
    return await api<PublicConfig>('/api/config');
  } catch (error) {
    if (error instanceof ApiError && error.status < 500) return null;
    throw error;
  }
}

export const signIn = (email: string, password: string) => api<Session>('/api/v1/auths/signin', { method: 'POST', body: { email, password } });

export const signUp = (name: string, email: string, password: string) =>
  api<Session>('/api/v1/auths/signup', { method: 'POST', body: { name, email, password } });

export const signOut = () => api<unknown>('/api/v1/auths/signout', { method: 'POST' });

export const changePassword = (password: string, newPassword: string) =>
  api<boolean>('/api/v1/auths/update/password', { method: 'POST', body: { password, new_password: newPassword } });

/** The caller's API keys (the default one and named ones), as hints; never the keys themselves. */
export const listApiKeys = () => api<ApiKey[]>('/api/v1/auths/api_keys');

/** Creates a named key; the whole key is in the answer only this once. */
export const createApiKey = (request: CreateApiKeyRequest) => api<CreatedApiKey>('/api/v1/auths/api_keys', { method: 'POST', body: request });

/** Revokes one of the caller's keys. */
export const deleteApiKey = (id: string) => api<boolean>(`/api/v1/auths/api_keys/${encodeURIComponent(id)}`, { method: 'DELETE' });

export const getAdminConfig = () => api<AdminConfig>('/api/v1/auths/admin/config');

export const setAdminConfig = (patch: Partial<AdminConfig>) => api<AdminConfig>('/api/v1/auths/admin/config', { method: 'POST', body: patch });
