// The shapes tests read from the API, named once. Where the server has a presenter, the type is the
// presenter's, so a test that reads a field the API does not have fails the type check.
import type { toDayResponse, toModelUsageResponse, toRangeResponse, toSummaryResponse, toUserUsageResponse } from '../../src/features/analytics/analytics.presenter.js';
import type { AuditEventResponse } from '../../src/features/audit/audit.presenter.js';
import type { MessageResponse, toChatResponse, toChatSummary } from '../../src/features/chats/chats.presenter.js';
import type { ConnectionResponse } from '../../src/features/connections/connections.presenter.js';
import type { ConnectionTestResult } from '../../src/features/connections/connections.service.js';
import type { FileResponse } from '../../src/features/files/files.presenter.js';
import type { PresetResponse } from '../../src/features/models/models.presenter.js';
import type { ModelInfo } from '../../src/features/models/models.service.js';
import type { RuntimeSettings } from '../../src/features/settings/settings.service.js';
import type { UserResponse } from '../../src/features/users/users.presenter.js';

/**
 * `T` as a test reads it from JSON: its open-ended parts (`unknown`: message info, params, audit
 * details) readable in assertions, and no `undefined` in arrays (JSON has none); every named field keeps its type.
 */
// any: assertions read into open-ended JSON freely; toEqual checks what is there.
export type Loose<T> = unknown extends T
  ? any
  : T extends readonly (infer Item)[]
    ? Loose<Exclude<Item, undefined>>[]
    : T extends object
      ? { [K in keyof T]: Loose<T[K]> }
      : T;

/**
 * `/ready`: whether the instance takes work, and each check's result (`ok` or what failed); shared state
 * and storage do not decide it: they read `degraded: <why>` and are listed in `degraded`.
 */
export interface Readiness {
  status: boolean;
  checks: { database: string; migrations: string; lifecycle: string; storage: string; shared: string };
  degraded: Array<'shared' | 'storage'>;
}

/** Every error answer: `{ detail, code }`. */
export interface ApiError {
  detail: string;
  code: string;
}

export type Chat = Loose<ReturnType<typeof toChatResponse>>;
export type ChatSummary = ReturnType<typeof toChatSummary>;
export type Message = Loose<MessageResponse>;

export type User = UserResponse;
export interface UserPage {
  users: User[];
  total: number;
}
/** What sign-up and sign-in answer: the user and a session token. */
export interface Session extends User {
  token: string;
  token_type: 'Bearer';
  expires_at: number | null;
}
/** `/api/config`: what the web app starts from. */
export interface PublicConfig {
  name: string;
  version: string;
  onboarding: boolean;
  features: { enable_signup: boolean };
}
export type Settings = RuntimeSettings;
export interface ApiKey {
  api_key: string;
  created_at?: number;
}

export type Connection = ConnectionResponse;
export type ConnectionCheck = ConnectionTestResult;
export type Preset = Loose<PresetResponse>;
export type FileInfo = FileResponse;
export type Model = ModelInfo;
export interface ModelList {
  object: 'list';
  data: Model[];
}

export type AuditEvent = Loose<AuditEventResponse>;
export interface AuditPage {
  events: AuditEvent[];
  total: number;
}

type Range = ReturnType<typeof toRangeResponse>;
export type UsageSummary = Range & ReturnType<typeof toSummaryResponse>;
export type UsageByUser = Range & { users: ReturnType<typeof toUserUsageResponse>[] };
export type UsageByModel = Range & { models: ReturnType<typeof toModelUsageResponse>[] };
export type UsageByDay = Range & { days: ReturnType<typeof toDayResponse>[] };

/** An OpenAI chat completion (not streamed), as far as tests read it. */
export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  model: string;
  choices: Array<{ index: number; message: { role: 'assistant'; content: string | null; tool_calls?: Loose<unknown>[] }; finish_reason: string | null }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** The JSON body of a raw `fetch` response, as the shape the test expects. */
export async function jsonOf<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}
