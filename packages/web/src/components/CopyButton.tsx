import { useEffect, useState } from 'react';
import { copyText } from '../lib/clipboard';
import { Icon } from './Icon';

/** Copies `text` and confirms with a tick for a moment. */
export function CopyButton({ text, label = 'Copy', showText = false }: { text: string; label?: string; showText?: boolean }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const timer = setTimeout(() => setState('idle'), 1500);
    return () => clearTimeout(timer);
  }, [state]);
  const shown = state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed' : label;
  return (
    <button
      type="button"
      className={showText ? 'text-button' : 'icon-button'}
      aria-label={shown}
      title={shown}
      onClick={() => copyText(text).then(() => setState('copied'), () => setState('failed'))}
    >
      <Icon name={state === 'copied' ? 'check' : 'copy'} size={showText ? 15 : 18} />
      {showText && <span>{state === 'copied' ? 'Copied' : 'Copy'}</span>}
    </button>
  );
}
