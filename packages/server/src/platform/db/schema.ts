import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

/*
 * Table shapes, the one place besides migrations that knows them.
 * Timestamps are epoch milliseconds; booleans are 0/1 integers so SQLite and
 * PostgreSQL bind them the same way; JSON is stored as text.
 */

export type Role = 'admin' | 'user' | 'pending';

export interface UsersTable {
  id: string;
  email: string;
  name: string;
  role: Role;
  password_hash: string;
  profile_image_url: string;
  settings: string;
  created_at: number;
  updated_at: number;
  last_active_at: number;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  created_at: number;
  expires_at: number | null;
}

export interface ApiKeysTable {
  id: string;
  user_id: string;
  key_hash: string;
  key_hint: string;
  /** What the owner called it; `Default` for the key Open WebUI's single-key endpoints manage. */
  name: string;
  /** 1 for the user's default key (Open WebUI's one key per user), 0 for other named keys. */
  is_default: number;
  created_at: number;
  /** Updated at most once a minute per key, not on every request. */
  last_used_at: number | null;
  /** null: never expires. */
  expires_at: number | null;
}

export interface ConfigTable {
  key: string;
  value: string;
  updated_at: number;
}

export type ConnectionType = 'openai' | 'ollama';

/** A connection's takeover setting: `continue` the partial answer, `regenerate` it, or `auto`. */
export type TakeoverModeSetting = 'auto' | 'continue' | 'regenerate';

export interface ConnectionsTable {
  id: string;
  type: ConnectionType;
  name: string;
  base_url: string;
  api_key: string;
  prefix_id: string;
  model_ids: string;
  is_enabled: number;
  /** 1: HTTP/2 to the upstream (ALPN over TLS, prior knowledge in cleartext). */
  use_http2: number;
  /** How a takeover finishes this connection's answers; `auto` decides by the connection's type. */
  takeover_mode: TakeoverModeSetting;
  position: number;
  created_at: number;
  updated_at: number;
}

export interface ModelPresetsTable {
  id: string;
  base_model_id: string;
  name: string;
  description: string;
  system_prompt: string;
  params: string;
  is_active: number;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export interface ChatsTable {
  id: string;
  user_id: string;
  title: string;
  current_message_id: string | null;
  is_pinned: number;
  is_archived: number;
  meta: string;
  created_at: number;
  updated_at: number;
}

export type MessageStatus = 'done' | 'streaming' | 'error';

export interface MessagesTable {
  id: string;
  chat_id: string;
  parent_id: string | null;
  role: 'system' | 'user' | 'assistant';
  content: string;
  model: string | null;
  status: MessageStatus;
  error: string | null;
  usage: string | null;
  info: string;
  files: string;
  created_at: number;
  updated_at: number;
}

export interface FilesTable {
  id: string;
  user_id: string;
  filename: string;
  content_type: string;
  size: number;
  storage_key: string;
  sha256: string;
  created_at: number;
}

/** One security-relevant action; `details` is JSON text holding no secrets. */
export interface AuditEventsTable {
  id: string;
  at: number;
  /** Null for a failed sign-in to an account that does not exist. */
  actor_id: string | null;
  actor_email: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  details: string;
  request_id: string | null;
}

export type UsageStatus = 'done' | 'error' | 'stopped';

/** One answer generated, as analytics counts it. */
export interface UsageEventsTable {
  id: string;
  at: number;
  user_id: string;
  model: string;
  connection_id: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  ttft_ms: number | null;
  duration_ms: number;
  status: UsageStatus;
}

/** The whole database, as Kysely sees it. */
export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  api_keys: ApiKeysTable;
  config: ConfigTable;
  connections: ConnectionsTable;
  model_presets: ModelPresetsTable;
  chats: ChatsTable;
  messages: MessagesTable;
  files: FilesTable;
  audit_events: AuditEventsTable;
  usage_events: UsageEventsTable;
}

export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type ConnectionRow = Selectable<ConnectionsTable>;
export type ModelPresetRow = Selectable<ModelPresetsTable>;
export type ChatRow = Selectable<ChatsTable>;
export type MessageRow = Selectable<MessagesTable>;
export type FileRow = Selectable<FilesTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;
export type UsageEventRow = Selectable<UsageEventsTable>;
export type { Generated };
