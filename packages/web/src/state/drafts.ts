const storageKey = 'parley.drafts';
let drafts: Record<string, string> | undefined;

function all(): Record<string, string> {
  if (!drafts) {
    try {
      drafts = JSON.parse(sessionStorage.getItem(storageKey) ?? '{}') as Record<string, string>;
    } catch {
      drafts = {};
    }
  }
  return drafts;
}

/** Draft key of a chat; the new-chat page has its own. */
export const draftKey = (chatId: string | null) => chatId ?? 'new';

/** The text typed but not sent in a chat. */
export function readDraft(key: string): string {
  return all()[key] ?? '';
}

/** Keeps a chat's unsent text (for this tab's session), or forgets it when empty. */
export function writeDraft(key: string, text: string): void {
  const map = all();
  if (text) map[key] = text;
  else delete map[key];
  try {
    sessionStorage.setItem(storageKey, JSON.stringify(map));
  } catch {
    // Storage full or unavailable: the in-memory copy still survives moving between chats.
  }
}
