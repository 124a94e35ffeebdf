import { memo } from 'react';
import { isPending } from '../../lib/tree';
import { useChat } from '../../state/chat';
import { AssistantMessage } from './AssistantMessage';
import { UserMessage } from './UserMessage';

/** One message of the shown path; subscribes to that message alone, so a streaming answer re-renders only its own row. */
export const MessageRow = memo(function MessageRow({ id }: { id: string }) {
  const message = useChat((s) => s.history.messages[id]);
  if (!message || message.role === 'system') return null;
  return (
    <article className="message-row" data-message-id={id} data-role={message.role} aria-label={message.role === 'user' ? 'Your message' : 'Answer'} aria-busy={isPending(message)}>
      {message.role === 'user' ? <UserMessage message={message} /> : <AssistantMessage message={message} />}
    </article>
  );
});
