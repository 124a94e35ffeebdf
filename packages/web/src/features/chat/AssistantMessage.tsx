import { useState } from 'react';
import { CopyButton } from '../../components/CopyButton';
import { Icon } from '../../components/Icon';
import { IconButton } from '../../components/IconButton';
import type { Message } from '../../lib/message';
import { errorText } from '../../lib/tree';
import { useChat } from '../../state/chat';
import { regenerate } from '../../state/exchange';
import { useModels } from '../../state/models';
import { useSession } from '../../state/session';
import { Markdown } from '../markdown/Markdown';
import { AnswerDetails } from './AnswerDetails';
import { BranchNav } from './BranchNav';

function answerAgain(message: Message) {
  const parent = message.parentId ? useChat.getState().history.messages[message.parentId] : undefined;
  if (parent) void regenerate(parent, useModels.getState().selected || message.model || '');
}

/** An answer: Markdown while it streams, an inline error with Retry, and its actions once done. */
export function AssistantMessage({ message }: { message: Message }) {
  const [isShowingDetails, setShowingDetails] = useState(false);
  const isStreaming = useChat((s) => s.generation?.messageId === message.id);
  const isBusy = useChat((s) => s.generation !== null);
  // Read once with the page, like the page's Content-Security-Policy that must allow them too.
  const allowRemoteImages = useSession((s) => s.config?.features.enable_remote_images === true);
  const error = errorText(message);
  const isWaiting = message.done === false && !error;

  return (
    <div className="message message--assistant">
      <div className="message__model">{message.model}</div>
      {message.content ? <Markdown content={message.content} allowRemoteImages={allowRemoteImages} /> : isWaiting && <span className="typing" aria-label="Writing the answer" />}
      {message.info?.stopped && <p className="message__note">Stopped</p>}
      {error && (
        <div className="message-error" role="alert">
          <Icon name="alert" size={16} />
          <span>{error}</span>
          <button type="button" className="button button--small" disabled={isBusy} onClick={() => answerAgain(message)}>
            Retry
          </button>
        </div>
      )}
      {/* Kept in the layout while streaming (hidden), so nothing moves when the answer ends. */}
      <div className="message__actions" style={isStreaming || isWaiting ? { visibility: 'hidden' } : undefined}>
        <BranchNav message={message} />
        <CopyButton text={message.content} label="Copy answer" />
        <IconButton icon="refresh" label="Regenerate answer" disabled={isBusy} onClick={() => answerAgain(message)} />
        <IconButton icon="info" label="Answer details" aria-expanded={isShowingDetails} onClick={() => setShowingDetails(!isShowingDetails)} />
      </div>
      {isShowingDetails && <AnswerDetails message={message} />}
    </div>
  );
}
