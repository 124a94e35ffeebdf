import { useEffect, useLayoutEffect, useRef, useState, type ClipboardEvent, type DragEvent, type FormEvent, type KeyboardEvent } from 'react';
import { Icon } from '../../components/Icon';
import { IconButton } from '../../components/IconButton';
import type { Attachment } from '../../state/exchange';
import { draftKey, readDraft, writeDraft } from '../../state/drafts';
import { composerKeyAction } from './composer-keys';
import { PendingChips } from './FileChips';
import { useAttachments } from './use-attachments';

/** What the composer needs from its chat. */
export interface ComposerProps {
  chatId: string | null;
  isGenerating: boolean;
  /** Why sending is impossible now (no model…), or null. */
  blockedReason: string | null;
  onSend(text: string, attachments: Attachment[]): void;
  onStop(): void;
}

/** The message box: grows with its text, Enter sends, Shift+Enter adds a line; files by button, paste or drop. */
export function Composer({ chatId, isGenerating, blockedReason, onSend, onStop }: ComposerProps) {
  const key = draftKey(chatId);
  const [text, setText] = useState(() => readDraft(key));
  const [isDragging, setDragging] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const keyRef = useRef(key);
  const { files, add, remove, clear, isUploading } = useAttachments();

  // Moving to another chat brings back what was typed there.
  useEffect(() => {
    if (keyRef.current === key) return;
    keyRef.current = key;
    setText(readDraft(key));
  }, [key]);

  useLayoutEffect(() => {
    const area = input.current;
    if (!area) return;
    area.style.height = 'auto';
    area.style.height = `${Math.min(area.scrollHeight, Math.round(window.innerHeight * 0.4))}px`;
  }, [text]);

  const canSend = !isGenerating && !blockedReason && !isUploading && (text.trim().length > 0 || files.some((f) => f.status === 'done'));

  function update(value: string) {
    setText(value);
    writeDraft(keyRef.current, value);
  }

  function send(event?: FormEvent) {
    event?.preventDefault();
    if (!canSend) return;
    const attachments = files.flatMap((f) => (f.attachment ? [f.attachment] : []));
    onSend(text.trim(), attachments);
    update('');
    clear();
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    const action = composerKeyAction({ key: event.key, shiftKey: event.shiftKey, isComposing: event.nativeEvent.isComposing });
    if (action === 'send') {
      event.preventDefault();
      send();
    }
  }

  function onPaste(event: ClipboardEvent) {
    if (event.clipboardData.files.length > 0) {
      event.preventDefault();
      add(event.clipboardData.files);
    }
  }

  function onDrop(event: DragEvent) {
    event.preventDefault();
    setDragging(false);
    if (event.dataTransfer.files.length > 0) add(event.dataTransfer.files);
  }

  return (
    <form
      className={`composer ${isDragging ? 'composer--dragging' : ''}`}
      onSubmit={send}
      onDragOver={(e) => (e.preventDefault(), setDragging(true))}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
    >
      <PendingChips files={files} onRemove={remove} />
      <div className="composer__row">
        <IconButton icon="paperclip" label="Attach files" onClick={() => fileInput.current?.click()} />
        <input ref={fileInput} type="file" multiple hidden onChange={(e) => (e.target.files && add(e.target.files), (e.target.value = ''))} />
        <textarea
          id="composer-input"
          ref={input}
          className="composer__input"
          rows={1}
          value={text}
          placeholder={blockedReason ?? 'Send a message'}
          aria-label="Message"
          onChange={(e) => update(e.target.value)}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          autoFocus
        />
        {isGenerating ? (
          <button type="button" className="send-button send-button--stop" aria-label="Stop generating" title="Stop generating" onClick={onStop}>
            <Icon name="stop" />
          </button>
        ) : (
          <button type="submit" className="send-button" aria-label="Send message" title="Send (Enter)" disabled={!canSend}>
            <Icon name="send" />
          </button>
        )}
      </div>
    </form>
  );
}
