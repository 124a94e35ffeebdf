/** Wire types of the Parley (Open WebUI-compatible) API that the web app reads. */

export type Role = 'admin' | 'user' | 'pending';

/** A user as `/api/v1/auths/` and `/api/v1/users/` show it. */
export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  profile_image_url?: string;
  created_at?: number;
  last_active_at?: number;
}

/** A model as `GET /api/models` lists it; presets carry `base_model_id`. */
export interface Model {
  id: string;
  name: string;
  owned_by: string;
  base_model_id?: string;
}

/** A file attached to a message, as stored in `message.files`. */
export interface MessageFile {
  type: 'file' | 'image';
  id: string;
  name: string;
  content_type: string;
  size: number;
}

/** Timings the server records on an answer. */
export interface AnswerInfo {
  ttft_ms?: number | null;
  tokens_per_second?: number | null;
  duration_ms?: number | null;
  stopped?: boolean;
  finish_reason?: string | null;
}

export interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
}

/** One message of a chat's tree (`chat.history.messages[id]`). */
export interface Message {
  id: string;
  parentId: string | null;
  childrenIds: string[];
  role: 'system' | 'user' | 'assistant';
  content: string;
  model?: string | null;
  timestamp?: number;
  done?: boolean;
  error?: { content?: string } | string | boolean | null;
  usage?: Usage | null;
  info?: AnswerInfo | null;
  files?: MessageFile[] | null;
}

/** A message tree and the leaf shown. */
export interface History {
  messages: Record<string, Message>;
  currentId: string | null;
}

/** A whole chat as `GET /api/v1/chats/{id}` returns it. */
export interface Chat {
  id: string;
  title: string;
  chat: { title?: string; models?: string[]; history: History; messages?: Message[] };
  pinned: boolean;
  archived: boolean;
  created_at: number;
  updated_at: number;
}

/** A chat in a listing. */
export interface ChatSummary {
  id: string;
  title: string;
  updated_at: number;
  created_at: number;
  pinned: boolean;
  archived: boolean;
}

/** What `POST /api/v1/files/` returns. */
export interface UploadedFile {
  id: string;
  filename: string;
  meta: { content_type: string; size: number };
}

/** An upstream connection (admin). */
export interface Connection {
  id: string;
  type: 'openai' | 'ollama';
  name: string;
  base_url: string;
  api_key: string;
  has_api_key?: boolean;
  enabled: boolean;
  /** HTTP/2 to the upstream: offered through ALPN on https://, prior knowledge (h2c) on http://. */
  http2: boolean;
}

/** A model preset (admin). */
export interface Preset {
  id: string;
  base_model_id: string;
  name: string;
  params: { system?: string | null; temperature?: number | null; top_p?: number | null; max_tokens?: number | null };
  is_active?: boolean;
}

/** Runtime settings admins change. */
export interface AdminConfig {
  ENABLE_SIGNUP: boolean;
  DEFAULT_USER_ROLE: 'pending' | 'user';
  ENABLE_TITLE_GENERATION?: boolean;
}

/** Public instance facts (`GET /api/config`), when the server offers them. */
export interface PublicConfig {
  name?: string;
  onboarding?: boolean;
  features?: { enable_signup?: boolean };
}
