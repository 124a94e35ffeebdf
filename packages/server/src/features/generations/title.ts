import type { UpstreamClient, UpstreamTimeouts } from '../../platform/llm/upstream-client.js';
import { textOf, type ChatRequest, type UpstreamTarget } from '../../platform/llm/types.js';
import type { ChatsService } from '../chats/chats.service.js';
import type { EventsService } from '../events/events.service.js';
import type { SettingsService } from '../settings/settings.service.js';
import type { GenerationInfo, GenerationOutcome } from './generation.js';

const maxTitleLength = 80;

/** Asks the chat's model for a short title of the first exchange; null when it cannot. */
export async function generateTitle(
  upstream: UpstreamClient,
  target: UpstreamTarget,
  chat: ChatRequest,
  answer: string,
  timeouts: UpstreamTimeouts,
): Promise<string | null> {
  const question = textOf([...chat.messages].reverse().find((m) => m.role === 'user')?.content ?? '');
  const prompt =
    'Write a title of three to six words for this conversation. Answer with the title only, no quotes.\n\n' +
    `User: ${question.slice(0, 2000)}\nAssistant: ${answer.slice(0, 2000)}`;
  const title = await upstream
    .completeText(target, { model: chat.model, messages: [{ role: 'user', content: prompt }], max_tokens: 24, temperature: 0.2, extra: {} }, timeouts)
    .catch(() => null);
  if (title === null) return null;
  const cleaned = title.replace(/\s+/g, ' ').replace(/^["'\s]+|["'\s.]+$/g, '').trim();
  return cleaned ? cleaned.slice(0, maxTitleLength) : null;
}

/** Titles a chat after its first answer, when the setting allows; the user's tabs hear the new title. */
export type TitleChat = (info: GenerationInfo, target: UpstreamTarget, request: ChatRequest, outcome: GenerationOutcome) => Promise<void>;

/** Builds the titling step that follows a saved first answer. */
export function createChatTitler(deps: {
  chats: ChatsService;
  events: EventsService;
  settings: SettingsService;
  upstream: UpstreamClient;
  timeouts: UpstreamTimeouts;
}): TitleChat {
  const { chats, events, settings, upstream, timeouts } = deps;
  return async (info, target, request, outcome) => {
    if (!info.chat?.isFirstExchange || outcome.status !== 'done' || !(await settings.get()).ENABLE_TITLE_GENERATION) return;
    const title = await generateTitle(upstream, target, request, outcome.content, timeouts);
    if (!title) return;
    await chats.setGeneratedTitle(info.chat.chatId, title);
    events.publish(info.userId, { type: 'chat:title', chat_id: info.chat.chatId, title });
  };
}
