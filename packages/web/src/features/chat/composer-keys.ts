/** The parts of a key event the composer decides on. */
export interface ComposerKey {
  key: string;
  shiftKey: boolean;
  isComposing: boolean;
  ctrlKey?: boolean;
  metaKey?: boolean;
}

/**
 * What a key press in the composer does: Enter sends, Shift+Enter adds a line
 * (the browser's default), and Enter while an input method is composing
 * (Japanese, Chinese…) only confirms the composition. Ctrl/Cmd+Enter sends too.
 */
export function composerKeyAction(event: ComposerKey): 'send' | 'default' {
  if (event.key !== 'Enter' || event.isComposing) return 'default';
  if (event.shiftKey) return 'default';
  return 'send';
}
