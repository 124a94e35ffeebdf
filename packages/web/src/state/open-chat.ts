import { getChat } from '../api/chats';
import { messageOf } from '../api/http';
import { isPending } from '../lib/tree';
import { AnswerText } from './answer-stream';
import { applyChat, leafOf, startOpening, useChat } from './chat';
import { followAnswer } from './resume';

/** Opens a chat: loads it, and if its answer is still being written (a reload mid-answer), shows it live. */
export async function openChat(chatId: string): Promise<void> {
  const state = useChat.getState();
  // Already open (the chat this tab just created, or is streaming into).
  if (state.chatId === chatId && !state.loadError) return;
  const signal = startOpening(chatId);
  try {
    applyChat(await getChat(chatId, signal));
  } catch (error) {
    if (!signal.aborted) useChat.setState({ isLoading: false, loadError: messageOf(error) });
    return;
  }
  const leaf = leafOf(useChat.getState());
  if (signal.aborted || !leaf || !isPending(leaf)) return;
  // The saved assistant message's id is its generation's id; a fresh AnswerText replays it from the start.
  void followAnswer({ chatId, messageId: leaf.id, generationId: leaf.id, text: new AnswerText() }, 'reload');
}
