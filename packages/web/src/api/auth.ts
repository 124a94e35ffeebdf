import type { AdminConfig, ApiKeyHint, NewApiKey, PublicConfig, Session, User } from '@parley/wire';
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

/** Creates (or replaces) the caller's API key; the whole key is shown only now. */
export const createApiKey = () => api<NewApiKey>('/api/v1/auths/api_key', { method: 'POST' });

/** The caller's API key hint, or null when there is none. */
export async function getApiKey(): Promise<ApiKeyHint | null> {
  try {
    return await api<ApiKeyHint>('/api/v1/auths/api_key');
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

export const deleteApiKey = () => api<boolean>('/api/v1/auths/api_key', { method: 'DELETE' });

export const getAdminConfig = () => api<AdminConfig>('/api/v1/auths/admin/config');

export const setAdminConfig = (patch: Partial<AdminConfig>) => api<AdminConfig>('/api/v1/auths/admin/config', { method: 'POST', body: patch });
