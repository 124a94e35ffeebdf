import type { ChunkEvent } from '../api/sse';
import type { Message } from '../lib/message';
import { withPatch } from '../lib/tree';
import { useChat } from './chat';

/**
 * The text of one answer as it streams, over one connection or several.
 * The server numbers its events in batches (the SSE `id:` closes a batch) and a
 * resume from id n replays every batch after n, so text is settled batch by
 * batch: what came after the last id is dropped when a new connection starts,
 * because the resume sends it again. Nothing is shown twice or lost.
 */
export class AnswerText {
  private settled = '';
  private unsettled = '';
  /** The last whole batch received: what a resume sends as `Last-Event-ID` (0 = from the start). */
  lastEventId = 0;

  /** The text to show. */
  get text(): string {
    return this.settled + this.unsettled;
  }

  /** A new connection (a resume from `lastEventId`) starts. */
  beginConnection(): void {
    this.unsettled = '';
  }

  /** Applies one chunk of the stream; true when the text changed. */
  apply(event: ChunkEvent): boolean {
    if (event.type === 'delta') {
      this.unsettled += event.content;
      return true;
    }
    if (event.type !== 'takeover' || event.mode === 'continue') return false;
    // Another instance answers afresh: what was shown is not part of the answer any more. A resume
    // sends a takeover again only when no batch after it was seen, so applying it twice is harmless.
    this.settled = '';
    this.unsettled = '';
    return true;
  }

  /** A batch ended with SSE id `id`: the text so far will not be replayed. */
  settle(id: number): void {
    this.settled += this.unsettled;
    this.unsettled = '';
    this.lastEventId = id;
  }
}

/** Writes a streaming answer into its message in the open chat. */
export interface AnswerWriter {
  /** Shows `text` at the next animation frame (tokens arrive faster than frames). */
  show(text: string): void;
  /** Writes the latest text with `patch` at once (the end, an error), cancelling a pending frame. */
  now(patch?: Partial<Message>): void;
}

/** A writer for message `messageId` of chat `chatId`; it writes nothing once another chat is open. */
export function answerWriter(chatId: string, messageId: string): AnswerWriter {
  let content: string | undefined;
  let scheduled = 0;
  const write = (patch: Partial<Message>) => {
    if (useChat.getState().chatId === chatId) useChat.setState((s) => ({ history: withPatch(s.history, messageId, patch) }));
  };
  return {
    show(text) {
      content = text;
      if (!scheduled) {
        scheduled = requestAnimationFrame(() => {
          scheduled = 0;
          write({ content });
        });
      }
    },
    now(patch = {}) {
      if (scheduled) cancelAnimationFrame(scheduled);
      scheduled = 0;
      write(content === undefined ? patch : { content, ...patch });
    },
  };
}
