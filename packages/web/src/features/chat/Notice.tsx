import { useEffect, useState } from 'react';
import { Icon } from '../../components/Icon';
import { IconButton } from '../../components/IconButton';
import { useChat } from '../../state/chat';

/** Calm status above the composer: offline, recovering a saved answer, or a failed action. */
export function Notice() {
  const notice = useChat((s) => s.notice);
  const [isOnline, setOnline] = useState(() => navigator.onLine);
  useEffect(() => {
    const update = () => setOnline(navigator.onLine);
    window.addEventListener('online', update);
    window.addEventListener('offline', update);
    return () => {
      window.removeEventListener('online', update);
      window.removeEventListener('offline', update);
    };
  }, []);
  const shown = notice ?? (isOnline ? null : { kind: 'offline' as const, text: 'You are offline. Parley will carry on when the connection is back.' });
  if (!shown) return null;
  return (
    <div className={`notice notice--${shown.kind}`} role="status">
      <Icon name={shown.kind === 'offline' ? 'wifiOff' : shown.kind === 'error' ? 'alert' : 'refresh'} size={16} />
      <span>{shown.text}</span>
      {notice?.kind === 'error' && <IconButton icon="close" label="Dismiss" onClick={() => useChat.setState({ notice: null })} />}
    </div>
  );
}
