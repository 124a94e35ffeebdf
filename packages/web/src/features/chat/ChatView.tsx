import { useEffect } from 'react';
import { IconButton } from '../../components/IconButton';
import { Icon } from '../../components/Icon';
import { navigate } from '../../lib/router';
import { isPending } from '../../lib/tree';
import { leafOf, openNewChat, useChat } from '../../state/chat';
import { sendMessage, stopAnswer, type Attachment } from '../../state/exchange';
import { useModels } from '../../state/models';
import { openChat } from '../../state/open-chat';
import { useSettings } from '../../state/settings';
import { startNewChat, toggleSidebar } from '../sidebar/Sidebar';
import { Composer } from './Composer';
import { MessageList } from './MessageList';
import { ModelPicker } from './ModelPicker';
import { Notice } from './Notice';

function send(text: string, attachments: Attachment[]) {
  const model = useModels.getState().selected;
  sendMessage(text, model, attachments, (chatId) => navigate(`/c/${encodeURIComponent(chatId)}`, { replace: true })).catch((error: unknown) =>
    useChat.setState({ notice: { kind: 'error', text: `Could not start the chat: ${error instanceof Error ? error.message : String(error)}` } }),
  );
}

/** The chat screen: header with the model picker, the messages, notices and the composer. */
export function ChatView({ chatId }: { chatId: string | null }) {
  const title = useChat((s) => s.title);
  const isEmpty = useChat((s) => s.history.currentId === null);
  const isLoading = useChat((s) => s.isLoading);
  const loadError = useChat((s) => s.loadError);
  const isGenerating = useChat((s) => s.generation !== null);
  const storeChatId = useChat((s) => s.chatId);
  const isLeafPending = useChat((s) => {
    const leaf = leafOf(s);
    return leaf !== undefined && isPending(leaf);
  });
  const model = useModels((s) => s.selected);
  const isModelsLoaded = useModels((s) => s.isLoaded);
  const isSidebarOpen = useSettings((s) => s.isSidebarOpen);

  useEffect(() => {
    if (chatId) void openChat(chatId);
    else if (useChat.getState().chatId !== null && !useChat.getState().generation) openNewChat();
  }, [chatId]);

  useEffect(() => {
    document.title = chatId && title ? `${title} · Parley` : 'Parley';
  }, [chatId, title]);

  const blockedReason = !isModelsLoaded
    ? 'Loading models…'
    : !model
      ? 'No model available: ask an administrator to add a connection'
      : isLeafPending && !isGenerating
        ? 'Waiting for the answer to be saved…'
        : null;

  return (
    <div className="chat">
      <header className="chat__header">
        <IconButton icon="menu" label="Open sidebar" className="only-narrow" onClick={toggleSidebar} />
        {!isSidebarOpen && <IconButton icon="sidebar" label="Open sidebar" className="only-wide" onClick={toggleSidebar} />}
        {!isSidebarOpen && <IconButton icon="plus" label="New chat" className="only-wide" onClick={startNewChat} />}
        <ModelPicker />
        <h1 className="chat__title">{chatId ? title : ''}</h1>
        <IconButton icon="plus" label="New chat" className="only-narrow" onClick={startNewChat} />
      </header>
      {loadError && chatId === storeChatId ? (
        <div className="chat__empty" role="alert">
          <Icon name="alert" size={28} />
          <h2>Could not open this chat</h2>
          <p className="muted">{loadError}</p>
          <button type="button" className="button button--primary" onClick={() => startNewChat()}>
            Start a new chat
          </button>
        </div>
      ) : isEmpty && !isLoading ? (
        <div className="chat__empty">
          <div className="brand brand--large" aria-hidden="true">
            P
          </div>
          <h2>How can I help today?</h2>
        </div>
      ) : (
        <MessageList chatId={chatId} />
      )}
      <div className="chat__bottom">
        <Notice />
        <Composer chatId={chatId} isGenerating={isGenerating} blockedReason={blockedReason} onSend={send} onStop={() => void stopAnswer()} />
        <p className="chat__hint muted">Enter to send · Shift+Enter for a new line</p>
      </div>
    </div>
  );
}
