import { createChat, getChat } from '../api/chats';
import { stopGeneration, streamCompletion, type OutgoingMessage } from '../api/completions';
import { ApiError, messageOf } from '../api/http';
import { newId } from '../lib/format';
import { filesOf, type History, type Message, type MessageFile } from '../lib/message';
import { pathTo, withMessage } from '../lib/tree';
import { summaryOf, useChatList } from './chat-list';
import { AnswerText, answerWriter } from './answer-stream';
import { applyChat, useChat } from './chat';
import { followAnswer, pollSavedAnswer } from './resume';
import { useSession } from './session';
import { useSettings } from './settings';

/** A file ready to send with a message; images carry a data URL for the model. */
export interface Attachment extends MessageFile {
  dataUrl?: string;
}

interface Exchange {
  chatId: string;
  model: string;
  /** A new user message hung under `parentId`... */
  userMessage?: { id: string; parentId: string | null; content: string; attachments: Attachment[] };
  /** ...or an existing user message answered again. */
  regenerateOf?: string;
}

function toOutgoing(message: Message, attachments?: Attachment[]): OutgoingMessage {
  const images = (attachments ?? []).filter((file) => file.dataUrl);
  if (images.length === 0) return { role: message.role, content: message.content };
  return {
    role: message.role,
    content: [{ type: 'text', text: message.content }, ...images.map((file) => ({ type: 'image_url' as const, image_url: { url: file.dataUrl! } }))],
  };
}

/** The OpenAI history sent upstream: the user's system prompt, then the path, without failed or empty answers. */
function outgoingMessages(path: Message[], attachments?: Attachment[]): OutgoingMessage[] {
  const system = useSettings.getState().systemPrompt.trim();
  const messages = path
    .filter((message) => !(message.role === 'assistant' && (!message.content || message.error)))
    .map((message, index, all) => toOutgoing(message, index === all.length - 1 ? attachments : undefined));
  return system ? [{ role: 'system', content: system }, ...messages] : messages;
}

const stripData = (files: Attachment[]): MessageFile[] => files.map(({ dataUrl: _dataUrl, ...file }) => file);

/** Streams one answer into the open chat, then reconciles with what the server saved. */
async function run(exchange: Exchange): Promise<void> {
  const { chatId, model } = exchange;
  const state = useChat.getState();
  let history = state.history;
  let messages: OutgoingMessage[];
  let parentId: string | null;
  if (exchange.userMessage) {
    const { id, content, attachments } = exchange.userMessage;
    parentId = exchange.userMessage.parentId;
    history = withMessage(history, { id, parentId, childrenIds: [], role: 'user', content, files: stripData(attachments), done: true });
    messages = outgoingMessages(pathTo(history.messages, id), attachments);
  } else {
    parentId = exchange.regenerateOf!;
    messages = outgoingMessages(pathTo(history.messages, parentId));
  }
  const userMessageId = exchange.userMessage?.id ?? exchange.regenerateOf!;
  const answerId = `local-${newId()}`;
  history = withMessage(history, { id: answerId, parentId: userMessageId, childrenIds: [], role: 'assistant', content: '', model, done: false });
  useChat.setState({ history, notice: null, generation: { chatId, messageId: answerId, generationId: null, isStopRequested: false } });

  const text = new AnswerText();
  const writer = answerWriter(chatId, answerId);
  let generationId: string | null = null;
  let outcome: 'saved' | 'refused' | 'dropped' = 'saved';
  try {
    const end = await streamCompletion(
      {
        model,
        messages,
        chat_id: chatId,
        parent_id: parentId,
        ...(exchange.userMessage
          ? { user_message_id: exchange.userMessage.id, files: stripData(exchange.userMessage.attachments) }
          : { regenerate: true }),
      },
      {
        onStart(id) {
          generationId = id;
          const generation = useChat.getState().generation;
          if (generation?.messageId !== answerId) return;
          useChat.setState({ generation: { ...generation, generationId: id } });
          if (generation.isStopRequested && id) void stopGeneration(id);
        },
        onEvent(event) {
          if (event.type === 'error') writer.now({ error: { content: event.message } });
          else if (text.apply(event)) writer.show(text.text);
        },
        onEventId: (id) => text.settle(id),
      },
    );
    if (end === 'closed') outcome = 'dropped';
    else writer.now({ done: true });
  } catch (error) {
    if (error instanceof ApiError) {
      outcome = 'refused';
      if (error.code === 'pending_approval') void useSession.getState().load();
      writer.now({ done: true, error: { content: error.message } });
    } else outcome = 'dropped';
  } finally {
    // A dropped stream that can be resumed keeps its generation (and Stop button) for followAnswer.
    const isHandedOver = outcome === 'dropped' && generationId !== null;
    if (!isHandedOver && useChat.getState().generation?.messageId === answerId) useChat.setState({ generation: null });
  }

  if (useChat.getState().chatId !== chatId) return;
  if (outcome === 'dropped') {
    // Shows what arrived; the resume replays from the last whole batch, so nothing is doubled.
    writer.now({ done: false });
    if (generationId) await followAnswer({ chatId, messageId: answerId, generationId, text }, 'dropped');
    else await pollSavedAnswer(chatId, 'The connection dropped while the answer was streaming. Loading the saved answer…');
  } else await reconcile(chatId, userMessageId);
  // Only a chat's first exchange gets a generated title.
  if (pathTo(useChat.getState().history.messages, useChat.getState().history.currentId).length <= 2) void refreshTitle(chatId);
}

/** Replaces local state with the saved chat; keeps a refused message shown (with its error) when the server saved nothing. */
async function reconcile(chatId: string, userMessageId: string): Promise<void> {
  try {
    const chat = await getChat(chatId);
    if (!chat.chat.history.messages[userMessageId]) {
      useChat.setState((s) => ({ unsavedIds: [...s.unsavedIds, userMessageId] }));
      return;
    }
    applyChat(chat);
    useChatList.getState().upsert(summaryOf(chat));
  } catch (error) {
    useChat.setState({ notice: { kind: 'error', text: `Could not reload the chat: ${messageOf(error)}` } });
  }
}

/** The server titles a new chat in the background; this picks the title up once it is there. */
async function refreshTitle(chatId: string): Promise<void> {
  // The title is a second, short completion: allow it up to about 20 s.
  for (let attempt = 0; attempt < 12; attempt += 1) {
    const title = useChat.getState().chatId === chatId ? useChat.getState().title : null;
    if (title !== null && title !== 'New Chat') return;
    await new Promise((resolve) => setTimeout(resolve, 600 + attempt * 200));
    try {
      const chat = await getChat(chatId);
      if (chat.title !== 'New Chat') {
        useChat.setState((s) => (s.chatId === chatId ? { title: chat.title } : s));
        useChatList.getState().upsert(summaryOf(chat), false);
        return;
      }
    } catch {
      return;
    }
  }
}

/** Sends a new message under the shown path; creates the chat first on the new-chat page. Returns the chat id. */
export async function sendMessage(content: string, model: string, attachments: Attachment[], onCreated?: (chatId: string) => void): Promise<void> {
  const state = useChat.getState();
  if (state.generation) return;
  let chatId = state.chatId;
  if (!chatId) {
    const chat = await createChat({ title: 'New Chat', models: [model] });
    chatId = chat.id;
    useChat.setState({ chatId, title: chat.title, isLoading: false });
    useChatList.getState().upsert(summaryOf(chat));
    onCreated?.(chatId);
  }
  const parentId = useChat.getState().history.currentId;
  await run({ chatId, model, userMessage: { id: newId(), parentId, content, attachments } });
}

/** Answers a user message again (a sibling answer: a new branch). */
export async function regenerate(userMessage: Message, model: string): Promise<void> {
  const { chatId, generation, unsavedIds } = useChat.getState();
  if (!chatId || generation) return;
  if (unsavedIds.includes(userMessage.id)) {
    // Never saved (the server refused it): send it again as it was.
    useChat.setState((s) => ({ unsavedIds: s.unsavedIds.filter((id) => id !== userMessage.id), history: dropSubtree(s.history, userMessage.id) }));
    await run({ chatId, model, userMessage: { id: newId(), parentId: userMessage.parentId, content: userMessage.content, attachments: filesOf(userMessage) } });
    return;
  }
  await run({ chatId, model, regenerateOf: userMessage.id });
}

/** Sends an edited copy of a user message beside the original (a new branch). */
export async function editMessage(original: Message, content: string, model: string): Promise<void> {
  const { chatId, generation } = useChat.getState();
  if (!chatId || generation) return;
  await run({ chatId, model, userMessage: { id: newId(), parentId: original.parentId, content, attachments: filesOf(original) } });
}

/** Stops the streaming answer; the server keeps what was written. */
export async function stopAnswer(): Promise<void> {
  const generation = useChat.getState().generation;
  if (!generation) return;
  useChat.setState({ generation: { ...generation, isStopRequested: true } });
  if (generation.generationId) {
    try {
      await stopGeneration(generation.generationId);
    } catch (error) {
      useChat.setState({ notice: { kind: 'error', text: `Could not stop the answer: ${messageOf(error)}` } });
    }
  }
}

/** The history without a message and its descendants, showing the message's parent. */
function dropSubtree(history: History, rootId: string): History {
  const messages = { ...history.messages };
  const queue = [rootId];
  const root = messages[rootId];
  while (queue.length > 0) {
    const id = queue.pop()!;
    queue.push(...(messages[id]?.childrenIds ?? []));
    delete messages[id];
  }
  const parent = root?.parentId ? messages[root.parentId] : undefined;
  if (parent) messages[parent.id] = { ...parent, childrenIds: parent.childrenIds.filter((id) => id !== rootId) };
  return { messages, currentId: root?.parentId ?? null };
}
