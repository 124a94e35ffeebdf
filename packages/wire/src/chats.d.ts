/** Token counts of an answer, as the upstream reported them. */
export interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
}

/** What Parley records about an answer in `message.info`; an imported chat may hold other keys. */
export interface AnswerInfo {
  ttft_ms?: number | null;
  tokens_per_second?: number | null;
  duration_ms?: number | null;
  stopped?: boolean;
  finish_reason?: string | null;
  connection_id?: string;
  upstream_model?: string;
}

/** One message of a chat's tree (`chat.history.messages[id]`), in Open WebUI's shape. */
export interface Message {
  id: string;
  parentId: string | null;
  childrenIds: string[];
  role: 'system' | 'user' | 'assistant';
  content: string;
  model: string | null;
  timestamp: number;
  /** False while the answer is still being written. */
  done: boolean;
  error: { content: string } | null;
  usage: Usage | null;
  info: AnswerInfo;
  /** Stored as the client sent them: the server does not read the entries. */
  files: unknown[];
}

/** A message tree and the leaf shown. */
export interface History {
  messages: Record<string, Message>;
  currentId: string | null;
}

/** Open WebUI's chat object: the tree, and the shown path as a list. */
export interface ChatContent {
  id: string;
  title: string;
  models: string[];
  params: Record<string, unknown>;
  history: History;
  /** The path from the root to `history.currentId`. */
  messages: Message[];
  timestamp: number;
}

/** A whole chat as `GET /api/v1/chats/{id}` (and every call that changes it) returns it. */
export interface Chat {
  id: string;
  user_id: string;
  title: string;
  chat: ChatContent;
  pinned: boolean;
  archived: boolean;
  /** Open WebUI's own `meta` (tags and the like), kept as given. */
  meta: Record<string, unknown>;
  folder_id: null;
  share_id: null;
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
