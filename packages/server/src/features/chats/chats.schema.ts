import { z } from 'zod';
import { boundedJson, boundedJsonObject, maxKeys } from '../../http/bounded.js';

// PostgreSQL's text cannot hold U+0000: an id with one would fail there as a query error, not a 400.
const hasNoNul = (text: string) => !text.includes('\0');

/** Bound for chat and message ids (Open WebUI uses UUIDs; completions accepts up to 64). */
export const idSchema = z.string().min(1).max(64).refine(hasNoNul, 'must not contain U+0000');
/** A chat title as users set it; U+0000 is stored as U+FFFD, like message text. */
export const titleSchema = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .transform((title) => title.replaceAll('\0', '\uFFFD'));
const contentSchema = z.string().max(1_000_000);
const roleSchema = z.enum(['system', 'user', 'assistant']);
/** Open-ended objects stored as given (params, usage, info, meta): generous, but bounded. */
const jsonObject = boundedJsonObject(100_000);
/** Most messages in one chat (array or history). */
const maxMessages = 10_000;
/** Epoch seconds as Open WebUI writes them; values past year 5000 are read as milliseconds. */
const epochSchema = z.number().nonnegative().max(1e13);

/** Open WebUI writes an error as text, `true`, or `{ content }`. */
const messageError = z.union([z.string().max(100_000), z.boolean(), z.looseObject({ content: z.string().max(100_000).optional() }), z.null()]);

/** One message of Open WebUI's chat JSON; fields Parley does not store are tolerated. */
export const messageJson = z.looseObject({
  id: idSchema.optional(),
  parentId: idSchema.nullish(),
  childrenIds: z.array(idSchema).max(maxMessages).nullish(),
  role: roleSchema,
  content: contentSchema.default(''),
  model: z.string().max(256).nullish(),
  timestamp: epochSchema.nullish(),
  done: z.boolean().nullish(),
  error: messageError.optional(),
  usage: jsonObject.nullish(),
  info: jsonObject.nullish(),
  // An attached file's record may carry its extracted text, or an image inline as a data: URL.
  files: z.array(boundedJson(20_000_000)).max(100).nullish(),
});
export type MessageJson = z.infer<typeof messageJson>;

/** Open WebUI's chat object (`chat` in requests and exports); unknown fields are tolerated. */
export const chatJson = z.looseObject({
  title: titleSchema.optional(),
  models: z.array(z.string().max(256)).max(64).nullish(),
  params: jsonObject.nullish(),
  history: z
    .looseObject({
      messages: z.record(idSchema, messageJson).refine(maxKeys(maxMessages), `must hold at most ${maxMessages} messages`),
      currentId: idSchema.nullish(),
    })
    .nullish(),
  messages: z.array(messageJson).max(maxMessages).nullish(),
});
export type ChatJson = z.infer<typeof chatJson>;

/** `POST /chats/new` and `POST /chats/{id}`: Open WebUI's `{ chat }` wrapper. */
export const chatBody = z.object({ chat: chatJson });

/** One chat to import: the `chat` field of an export plus its flags (an export item also fits). */
export const importItem = z.looseObject({
  chat: chatJson,
  title: titleSchema.optional(),
  pinned: z.boolean().nullish(),
  archived: z.boolean().nullish(),
  meta: jsonObject.nullish(),
  created_at: epochSchema.nullish(),
  updated_at: epochSchema.nullish(),
});
export type ImportItem = z.infer<typeof importItem>;

/** `POST /chats/import`: one chat, or an array such as `GET /chats/all` returns. */
export const importBody = z.union([importItem, z.array(importItem).min(1).max(1000)]);

/** `/chats/{id}` paths. */
export const chatParams = z.object({ id: idSchema });
/** `/chats/{id}/messages/{messageId}` paths. */
export const messageParams = z.object({ id: idSchema, messageId: idSchema });

/** `?page=` (1-based) or `?limit=&offset=`. */
export const pageQuery = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  offset: z.coerce.number().int().min(0).max(100_000_000).optional(),
});
export type PageQuery = z.infer<typeof pageQuery>;

/** `GET /chats/search`: paging plus the text to find. */
export const searchQuery = pageQuery.extend({ text: z.string().max(500).default('') });

/** `POST /chats/{id}/clone`: an optional new title (Fastify hands a missing body over as null). */
export const cloneBody = z.object({ title: titleSchema.optional() }).nullish();

/** `POST /chats/{id}/messages`: a message under `parent_id` (null: a new root). */
export const addMessageBody = z.object({
  id: idSchema.optional(),
  parent_id: idSchema.nullable(),
  role: roleSchema,
  content: contentSchema,
  model: z.string().min(1).max(256).optional(),
});
export type AddMessageInput = z.infer<typeof addMessageBody>;

/** `POST /chats/{id}/current`: the message to show as the chat's current leaf. */
export const setCurrentBody = z.object({ message_id: idSchema });
