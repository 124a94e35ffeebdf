import type { Connection, ConnectionTestResult, Preset, PresetParams, Role, User, UserList } from '@parley/wire';
import { api } from './http';

const q = encodeURIComponent;

export const listUsers = (page: number, query: string) =>
  api<UserList>(`/api/v1/users/?page=${page}&query=${q(query)}`);

export const setUserRole = (userId: string, role: Role) => api<User>('/api/v1/users/update/role', { method: 'POST', body: { id: userId, role } });

export const deleteUser = (userId: string) => api<boolean>(`/api/v1/users/${q(userId)}`, { method: 'DELETE' });

/** Fields an admin edits on a connection; an omitted api_key keeps the stored one. */
export type ConnectionInput = Pick<Connection, 'type' | 'name' | 'base_url' | 'enabled' | 'http2'> & { api_key?: string };

export const listConnections = () => api<Connection[]>('/api/v1/connections/');

export const createConnection = (input: ConnectionInput) => api<Connection>('/api/v1/connections/', { method: 'POST', body: input });

export const updateConnection = (connectionId: string, input: Partial<ConnectionInput>) =>
  api<Connection>(`/api/v1/connections/${q(connectionId)}/update`, { method: 'POST', body: input });

export const deleteConnection = (connectionId: string) => api<boolean>(`/api/v1/connections/${q(connectionId)}`, { method: 'DELETE' });

/** Asks a connection for its model list; the server answers whether that worked. */
export const testConnection = (connectionId: string) =>
  api<ConnectionTestResult>(`/api/v1/connections/${q(connectionId)}/test`, { method: 'POST' });

export const listPresets = () => api<Preset[]>('/api/v1/models/');

/** A preset as the admin form edits it; a null parameter is left to the request. */
export type PresetInput = Pick<Preset, 'id' | 'base_model_id' | 'name'> & { params: { [K in keyof PresetParams]?: PresetParams[K] | null } };

export const createPreset = (input: PresetInput) => api<Preset>('/api/v1/models/create', { method: 'POST', body: input });

export const updatePreset = (presetId: string, input: Partial<PresetInput>) =>
  api<Preset>(`/api/v1/models/model/update?id=${q(presetId)}`, { method: 'POST', body: input });

export const deletePreset = (presetId: string) => api<boolean>(`/api/v1/models/model/delete?id=${q(presetId)}`, { method: 'DELETE' });
