import { getChat } from '../api/chats';
import { resumeCompletion, stopGeneration } from '../api/completions';
import { ApiError } from '../api/http';
import { pauseBeforeRetry, untilOnline } from '../lib/online';
import { isPending } from '../lib/tree';
import { AnswerText, answerWriter, type AnswerWriter } from './answer-stream';
import { applyChat, leafOf, useChat, type Notice } from './chat';

/** An answer being written on the server that this tab shows live. */
export interface LiveAnswer {
  chatId: string;
  /** The message showing it (a local id while this tab's send has not been reconciled). */
  messageId: string;
  /** The server's generation: the saved assistant message's id. */
  generationId: string;
  /** What was shown so far and the last batch it covers; a fresh one after a reload. */
  text: AnswerText;
}

/** Why the answer is followed: a reload (or opening the chat) mid-answer, or this tab's stream dropped. */
export type FollowReason = 'reload' | 'dropped';

const droppedText = 'The connection dropped while the answer was streaming. Reconnecting…';
// Attempts in a row that get no event before falling back to waiting for the saved answer.
const maxFailedAttempts = 6;
const retryDelayMs = (failures: number) => Math.min(250 * 2 ** failures, 5000);

function showNotice(kind: Notice['kind'], text: string): void {
  useChat.setState({ notice: { kind, text } });
}

/** Clears an offline or reconnecting notice, never an error the user has not read. */
function clearRecoveryNotice(): void {
  useChat.setState((s) => (s.notice && s.notice.kind !== 'error' ? { notice: null } : s));
}

let following: AbortController | undefined;

/**
 * Shows an answer live through the server's resume endpoint until it ends,
 * then loads the saved message once (usage, timings). Reconnects from the last
 * event id after a drop; waits for the saved answer instead when the
 * generation's log is gone (404) or reconnecting keeps failing.
 */
export async function followAnswer(answer: LiveAnswer, reason: FollowReason): Promise<void> {
  const { chatId, messageId, generationId } = answer;
  // One chat is open at a time, so one answer is followed at a time.
  following?.abort();
  const controller = (following = new AbortController());
  const leave = useChat.subscribe((state) => {
    if (state.chatId !== chatId) controller.abort();
  });
  const previous = useChat.getState().generation;
  // A generation in the store keeps the Stop button and blocks sending, as for this tab's own stream.
  useChat.setState({
    generation: { chatId, messageId, generationId, isStopRequested: previous?.messageId === messageId && previous.isStopRequested },
  });
  if (reason === 'dropped') showNotice(navigator.onLine ? 'recovering' : 'offline', droppedText);
  let end: StreamOutcome;
  try {
    end = await streamToEnd(answer, answerWriter(chatId, messageId), reason, controller.signal);
  } finally {
    leave();
    if (following === controller) {
      following = undefined;
      if (useChat.getState().generation?.messageId === messageId) useChat.setState({ generation: null });
    }
  }
  if (end === 'left') return;
  if (end === 'done' && (await loadSavedAnswer(chatId))) return;
  await pollSavedAnswer(
    chatId,
    reason === 'reload'
      ? 'The answer is still being written. It will appear here once it is saved.'
      : 'The connection dropped while the answer was streaming. Loading the saved answer…',
  );
}

type StreamOutcome = 'done' | 'poll' | 'left';

/** Streams the answer over as many connections as it takes. */
async function streamToEnd(answer: LiveAnswer, writer: AnswerWriter, reason: FollowReason, signal: AbortSignal): Promise<StreamOutcome> {
  const { text, generationId } = answer;
  let failures = 0;
  while (!signal.aborted) {
    if (!navigator.onLine) {
      showNotice('offline', 'You are offline. The answer will carry on when the connection is back.');
      await untilOnline(signal);
      if (signal.aborted) break;
      showNotice('recovering', 'Back online. Reconnecting to the answer…');
    }
    text.beginConnection();
    let hasReceived = false;
    try {
      const end = await resumeCompletion(
        generationId,
        text.lastEventId,
        {
          onStart() {
            clearRecoveryNotice();
            // A stop asked for while the connection was down may not have reached the server.
            if (useChat.getState().generation?.isStopRequested) void stopGeneration(generationId).catch(() => undefined);
          },
          onEvent(event) {
            hasReceived = true;
            if (event.type === 'error') writer.now({ error: { content: event.message } });
            else if (text.apply(event)) writer.show(text.text);
          },
          onEventId: (id) => text.settle(id),
        },
        signal,
      );
      if (end === 'done') {
        writer.now({ done: true });
        return 'done';
      }
    } catch (error) {
      if (signal.aborted) break;
      // The session ended: the app shows the sign-in screen.
      if (error instanceof ApiError && error.status === 401) return 'left';
      // 404 (no such answer) or 409 (not saved in a chat, so it has no log): the saved chat is all there is.
      if (error instanceof ApiError && error.status < 500) return 'poll';
    }
    failures = hasReceived ? 0 : failures + 1;
    if (failures >= maxFailedAttempts) return 'poll';
    showNotice(navigator.onLine ? 'recovering' : 'offline', reason === 'dropped' ? droppedText : 'Reconnecting to the answer…');
    await pauseBeforeRetry(retryDelayMs(failures), signal);
  }
  return 'left';
}

/** Loads the chat once the answer has ended; false when that failed. */
async function loadSavedAnswer(chatId: string): Promise<boolean> {
  try {
    const chat = await getChat(chatId);
    applyChat(chat);
    clearRecoveryNotice();
    return true;
  } catch {
    return false;
  }
}

let polling: string | null = null;

/**
 * Polls the chat until its last answer is saved (done or failed), then shows
 * it: for answers that cannot be followed live (their log expired, or the
 * resume endpoint keeps failing).
 */
export async function pollSavedAnswer(chatId: string, text: string): Promise<void> {
  if (polling === chatId) return;
  polling = chatId;
  showNotice(navigator.onLine ? 'recovering' : 'offline', text);
  const deadline = Date.now() + 10 * 60_000;
  try {
    while (Date.now() < deadline) {
      if (!navigator.onLine) {
        showNotice('offline', 'You are offline. The answer will load when the connection is back.');
        await untilOnline();
        showNotice('recovering', 'Back online. Loading the saved answer…');
      }
      if (useChat.getState().chatId !== chatId) return;
      try {
        const chat = await getChat(chatId);
        if (useChat.getState().chatId !== chatId) return;
        applyChat(chat);
        const leaf = leafOf(useChat.getState());
        if (!leaf || !isPending(leaf)) {
          useChat.setState({ notice: null });
          return;
        }
      } catch {
        // Still unreachable: keep waiting.
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    showNotice('error', 'The answer has not been saved yet. Reload the chat later to see it.');
  } finally {
    if (polling === chatId) polling = null;
  }
}
