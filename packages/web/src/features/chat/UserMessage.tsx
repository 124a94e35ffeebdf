import { useState, type KeyboardEvent } from 'react';
import { CopyButton } from '../../components/CopyButton';
import { IconButton } from '../../components/IconButton';
import { filesOf, type Message } from '../../lib/message';
import { useChat } from '../../state/chat';
import { editMessage } from '../../state/exchange';
import { useModels } from '../../state/models';
import { BranchNav } from './BranchNav';
import { composerKeyAction } from './composer-keys';
import { MessageFiles } from './FileChips';

/** A message the user sent: its text and files, edit (which makes a branch), copy, and the branch switcher. */
export function UserMessage({ message }: { message: Message }) {
  const [draft, setDraft] = useState<string | null>(null);
  const isBusy = useChat((s) => s.generation !== null);

  function save() {
    const text = draft?.trim();
    setDraft(null);
    if (text && text !== message.content.trim()) void editMessage(message, text, useModels.getState().selected);
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === 'Escape') setDraft(null);
    else if (composerKeyAction({ key: event.key, shiftKey: event.shiftKey, isComposing: event.nativeEvent.isComposing }) === 'send') {
      event.preventDefault();
      save();
    }
  }

  if (draft !== null) {
    return (
      <div className="message message--user message--editing">
        <textarea className="edit-box" aria-label="Edit message" value={draft} autoFocus rows={Math.min(12, draft.split('\n').length + 1)} onChange={(e) => setDraft(e.target.value)} onKeyDown={onKeyDown} />
        <div className="edit-actions">
          <button type="button" className="button" onClick={() => setDraft(null)}>
            Cancel
          </button>
          <button type="button" className="button button--primary" onClick={save} disabled={!draft.trim()}>
            Send
          </button>
        </div>
      </div>
    );
  }

  return (
    <div className="message message--user">
      <MessageFiles files={filesOf(message)} />
      {message.content && <div className="bubble">{message.content}</div>}
      <div className="message__actions">
        <BranchNav message={message} />
        <IconButton icon="edit" label="Edit message" disabled={isBusy} onClick={() => setDraft(message.content)} />
        <CopyButton text={message.content} label="Copy message" />
      </div>
    </div>
  );
}
