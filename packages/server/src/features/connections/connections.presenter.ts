import type { Connection } from '@parley/wire';
import type { ConnectionRow } from '../../platform/db/schema.js';
import { maskUrlCredentials } from '../../platform/llm/redact.js';

/** Shows enough of an API key to recognise it ('sk-a…wxyz'), never the whole; short keys show nothing. */
export function maskApiKey(key: string): string {
  if (!key) return '';
  // Below 12 characters, 8 shown would be most of the secret.
  return key.length >= 12 ? `${key.slice(0, 4)}…${key.slice(-4)}` : '…';
}

/** A base URL fit to show: `http://user:***@host/v1` when it carries credentials (and secret query parameters masked). */
export function maskBaseUrl(url: string): string {
  return maskUrlCredentials(url);
}

/** The allow-list stored as JSON text; anything unreadable counts as "all models". */
export function parseModelIds(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

/** A connection as the admin API shows it (times in epoch seconds, key and URL credentials masked). */
export function toConnectionResponse(row: ConnectionRow): Connection {
  return {
    id: row.id,
    type: row.type,
    name: row.name,
    base_url: maskBaseUrl(row.base_url),
    api_key: maskApiKey(row.api_key),
    has_api_key: row.api_key !== '',
    prefix_id: row.prefix_id,
    model_ids: parseModelIds(row.model_ids),
    enabled: row.is_enabled === 1,
    http2: row.use_http2 === 1,
    takeover_mode: row.takeover_mode,
    position: row.position,
    created_at: Math.floor(row.created_at / 1000),
    updated_at: Math.floor(row.updated_at / 1000),
  };
}
export type ConnectionResponse = ReturnType<typeof toConnectionResponse>;
