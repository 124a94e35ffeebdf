import type { UpstreamClient, UpstreamTimeouts } from '../../platform/llm/upstream-client.js';
import { textOf, type ChatRequest, type UpstreamTarget } from '../../platform/llm/types.js';

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
