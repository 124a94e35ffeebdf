import type { Message as SavedMessage } from '@parley/wire';

/** A file of a message as the web app writes it into `message.files` (the server stores the list as sent). */
export interface MessageFile {
  type: 'file' | 'image';
  id: string;
  name: string;
  content_type: string;
  size: number;
}

/**
 * A message as the web app holds it: a saved one as the server sends it, or one made here (sent,
 * or being streamed) that has only the fields known so far.
 */
export type Message = Pick<SavedMessage, 'id' | 'parentId' | 'childrenIds' | 'role' | 'content'> &
  Partial<Omit<SavedMessage, 'error'>> & {
    /** The server sends `{ content }`; Open WebUI's other forms (text, `true`) read as errors too. */
    error?: SavedMessage['error'] | string | boolean;
  };

/** A message tree and the leaf shown; a new chat may be created from one. */
export interface History {
  messages: Record<string, Message>;
  currentId: string | null;
}

/** The files of a message, read as the web app wrote them. */
export const filesOf = (message: Message): MessageFile[] => (message.files ?? []) as MessageFile[];
