import { WORDS } from './words.js';

/** Answer length in tokens when no option says otherwise. */
export const DEFAULT_TOKENS = 24;

/** Dimension of the fake embedding vectors. */
export const EMBEDDING_DIMENSIONS = 32;

/** One part of an OpenAI multi-part content; only parts carrying `text` matter here. */
export interface ContentPart {
  type: string;
  text?: string;
}

/** A chat message in either wire format (Ollama contents are plain strings). */
export interface ChatMessage {
  role: string;
  content?: string | readonly ContentPart[] | null;
}

/** The part of a chat request the answer depends on. */
export interface AnswerRequest {
  model: string;
  messages: readonly ChatMessage[];
  /** Upper bound on answered tokens; null, undefined or negative means no bound. */
  max_tokens?: number | null | undefined;
}

/** Why an answer ended, in OpenAI's words (Ollama's done_reason uses the first two). */
export type FinishReason = 'stop' | 'length' | 'tool_calls';

/** Everything the server needs to answer a chat request. */
export interface Reply {
  /** Tokens to send, in order. */
  tokens: string[];
  finishReason: FinishReason;
  /** Hash of model and prompt; also used for stable ids and timestamps. */
  seed: number;
  /** True when the last message was an assistant prefix of the answer being continued. */
  isContinuation: boolean;
  promptTokens: number;
}

/** FNV-1a (32 bit) over UTF-16 code units: tiny, fast and stable across platforms. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** mulberry32: a seeded PRNG returning floats in [0, 1); good enough spread for picking words. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Text of a message content: the string itself, or the `text` of each part joined by newlines. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const texts: string[] = [];
  for (const part of content as unknown[]) {
    if (typeof part === 'string') texts.push(part);
    else if (part !== null && typeof part === 'object' && typeof (part as ContentPart).text === 'string') {
      texts.push((part as ContentPart).text as string);
    }
  }
  return texts.join('\n');
}

/** Number of whitespace-separated words in a text. */
export function countWords(text: string): number {
  return text.match(/\S+/g)?.length ?? 0;
}

/** prompt_tokens for a conversation: all words of all messages, at least 1. */
export function promptTokenCount(messages: readonly ChatMessage[]): number {
  let words = 0;
  for (const message of messages) words += countWords(contentText(message.content));
  return Math.max(1, words);
}

/**
 * Seed of the answer: the model plus the conversation up to its last non-assistant
 * message. Trailing assistant messages are left out so a continuation request seeds
 * the same answer as the request whose answer it continues.
 */
export function answerSeed(model: string, messages: readonly ChatMessage[]): number {
  let end = messages.length;
  while (end > 0 && messages[end - 1]?.role === 'assistant') end--;
  const prompt = messages.slice(0, end).map((m) => ({ role: m.role, content: contentText(m.content) }));
  return hashString(model + JSON.stringify(prompt));
}

/** The first `count` tokens drawn from a seed; a shorter answer is always a prefix of a longer one. */
function drawTokens(seed: number, count: number): string[] {
  const next = mulberry32(seed);
  const tokens = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const word = WORDS[Math.floor(next() * WORDS.length)] as string;
    tokens[i] = i === 0 ? word : ' ' + word;
  }
  return tokens;
}

/** max_tokens as a bound: missing or negative means unbounded. */
function capOf(maxTokens: number | null | undefined): number {
  return typeof maxTokens === 'number' && maxTokens >= 0 ? Math.floor(maxTokens) : Infinity;
}

/**
 * What is left of `full` after the trailing assistant message, or null when the
 * conversation does not end with an assistant prefix of it. A prefix may stop inside
 * a token; the first remaining token is then the rest of that word.
 */
function remainderAfterPartial(messages: readonly ChatMessage[], full: readonly string[]): string[] | null {
  const last = messages.at(-1);
  if (last?.role !== 'assistant') return null;
  const partial = contentText(last.content);
  if (!full.join('').startsWith(partial)) return null;
  let offset = 0;
  for (let i = 0; i < full.length; i++) {
    const token = full[i] as string;
    if (partial.length < offset + token.length) return [token.slice(partial.length - offset), ...full.slice(i + 1)];
    offset += token.length;
  }
  return [];
}

/** The full answer to a request as tokens: min(max_tokens, tokens) words, ignoring any trailing assistant message. */
export function expectedAnswer(request: AnswerRequest, tokens: number = DEFAULT_TOKENS): string[] {
  return drawTokens(answerSeed(request.model, request.messages), Math.min(capOf(request.max_tokens), tokens));
}

/** The full answer as one string, for asserting streamed text exactly. */
export function expectedText(request: AnswerRequest, tokens: number = DEFAULT_TOKENS): string {
  return expectedAnswer(request, tokens).join('');
}

/** Exactly what the server answers for a request, continuation and max_tokens included. */
export function planReply(request: AnswerRequest, tokens: number = DEFAULT_TOKENS): Reply {
  const seed = answerSeed(request.model, request.messages);
  const full = drawTokens(seed, tokens);
  const remainder = remainderAfterPartial(request.messages, full);
  const available = remainder ?? full;
  const cap = capOf(request.max_tokens);
  const answer = available.length > cap ? available.slice(0, cap) : available;
  return {
    tokens: answer,
    finishReason: answer.length < available.length ? 'length' : 'stop',
    seed,
    isContinuation: remainder !== null,
    promptTokens: promptTokenCount(request.messages),
  };
}

/**
 * Tokens the server answers when the last message is an assistant prefix of the full
 * answer: only the rest, so partial + continuation = full. Otherwise the full answer.
 */
export function expectedContinuation(request: AnswerRequest, tokens: number = DEFAULT_TOKENS): string[] {
  return planReply(request, tokens).tokens;
}

/** Deterministic unit vector for a text; equal texts give equal vectors whatever the model. */
export function expectedEmbedding(text: string, dimensions: number = EMBEDDING_DIMENSIONS): number[] {
  const next = mulberry32(hashString(text));
  const vector = new Array<number>(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    const value = next() * 2 - 1;
    vector[i] = value;
    norm += value * value;
  }
  // A zero vector is all but impossible from 32 draws, but never divide by zero.
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < dimensions; i++) vector[i] = (vector[i] as number) * scale;
  return vector;
}

/** Stable 16-hex-digit id suffix derived from a seed, for `chatcmpl-...` ids. */
export function idFromSeed(seed: number): string {
  const next = mulberry32(seed);
  const high = Math.floor(next() * 4294967296);
  return seed.toString(16).padStart(8, '0') + high.toString(16).padStart(8, '0');
}
