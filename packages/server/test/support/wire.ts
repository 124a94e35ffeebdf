// The shapes tests read from the API, named once. The API's own shapes come from @parley/wire, the
// types the server's presenters are declared with, so a test that reads a field the API does not
// have fails the type check. Only what @parley/wire does not describe is declared here.
import type { AuditEvent as WireAuditEvent, AuditPage as WireAuditPage, Chat as WireChat, Message as WireMessage, Preset as WirePreset } from '@parley/wire';

export type {
  AdminConfig,
  ApiKey,
  ApiKeyHint,
  ChatSummary,
  Connection,
  ConnectionTestResult,
  CreatedApiKey,
  ErrorBody,
  ModelInfo,
  ModelList,
  NewApiKey,
  PublicConfig,
  Session,
  UploadedFile,
  UsageByDayList,
  UsageByModelList,
  UsageByUserList,
  UsageSummary,
  User,
  UserList,
} from '@parley/wire';

/**
 * `T` as a test reads it from JSON: its open-ended parts (`unknown`: message info, params, audit
 * details) readable in assertions, and no `undefined` in arrays (JSON has none); every named field keeps its type.
 */
export type Loose<T> = unknown extends T
  ? // eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions read into open-ended JSON freely; toEqual checks what is there
    any
  : T extends readonly (infer Item)[]
    ? Loose<Exclude<Item, undefined>>[]
    : T extends object
      ? { [K in keyof T]: Loose<T[K]> }
      : T;

export type Chat = Loose<WireChat>;
export type Message = Loose<WireMessage>;
export type Preset = Loose<WirePreset>;
export type AuditEvent = Loose<WireAuditEvent>;
export type AuditPage = Loose<WireAuditPage>;

/**
 * `/ready`: whether the instance takes work, and each check's result (`ok` or what failed); shared state
 * and storage do not decide it: they read `degraded: <why>` and are listed in `degraded`.
 */
export interface Readiness {
  status: boolean;
  checks: { database: string; migrations: string; lifecycle: string; storage: string; shared: string };
  degraded: Array<'shared' | 'storage'>;
}

/** An OpenAI chat completion (not streamed), as far as tests read it: the server relays the upstream's. */
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
