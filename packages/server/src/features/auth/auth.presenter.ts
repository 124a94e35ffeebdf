import type { ApiKey } from '@parley/wire';
import type { ApiKeyRecord } from './auth.repo.js';

const seconds = (ms: number) => Math.floor(ms / 1000);

/** A stored API key as the API shows it: never the key, only its hint. */
export function toApiKey(row: ApiKeyRecord): ApiKey {
  return {
    id: row.id,
    name: row.name,
    key_hint: row.key_hint,
    is_default: row.is_default === 1,
    created_at: seconds(row.created_at),
    last_used_at: row.last_used_at === null ? null : seconds(row.last_used_at),
    expires_at: row.expires_at === null ? null : seconds(row.expires_at),
  };
}
