/**
 * Poisoned upstreams: models whose streams break the wire format in one specific way, so a client's
 * parser can be tested against each. Most stream MIDSTREAM_TOKENS good tokens, then the poison, then
 * the normal end of the answer (a client that skipped the poison would see a finished answer).
 */
export const POISON_MODELS = [
  /** `data: null` (OpenAI) or a `null` line (Ollama). */
  'poison-null',
  /** A JSON value that is not an object: an array (OpenAI), a string (Ollama). */
  'poison-non-object',
  /** A line that is not JSON at all. */
  'poison-invalid-json',
  /** `content` that is a number, then an object, instead of text. */
  'poison-non-string',
  /** A token with U+0000 in it. */
  'poison-nul',
  /** The whole answer, valid, with CR-only line endings. */
  'poison-cr',
  /** The whole answer, valid, with CRLF line endings. */
  'poison-crlf',
  /** The whole answer, valid, after a UTF-8 byte-order mark. */
  'poison-bom',
  /** One line without end: `hugeLineBytes` bytes and no newline, until the client leaves. */
  'poison-huge-line',
  /** 200 with an HTML page instead of a stream. */
  'poison-html',
  /** The good tokens, then the body ends cleanly without finish, `[DONE]` or `done`. */
  'poison-cut',
  /** 401 whose body echoes the request's Authorization header and a URL with credentials. */
  'echo-auth-401',
  /** The good tokens, then an in-stream error echoing the Authorization header. */
  'echo-auth-midstream',
] as const;

/** Name of a poisoned model. */
export type PoisonModel = (typeof POISON_MODELS)[number];

const POISONS: ReadonlySet<string> = new Set(POISON_MODELS);

/** True for the poisoned models (answered by poison.ts). */
export function isPoisonModel(model: string): model is PoisonModel {
  return POISONS.has(model);
}
