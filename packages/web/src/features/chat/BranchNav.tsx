import { IconButton } from '../../components/IconButton';
import type { Message } from '../../lib/message';
import { branchPosition } from '../../lib/tree';
import { moveBranch, useChat } from '../../state/chat';

/** `‹ 2/3 ›` under a message that has siblings (edits or regenerated answers). */
export function BranchNav({ message }: { message: Message }) {
  // A primitive selection: the row re-renders only when the position changes.
  const position = useChat((s) => {
    const current = s.history.messages[message.id];
    if (!current) return '1/1';
    const { index, count } = branchPosition(s.history.messages, current);
    return `${index}/${count}`;
  });
  const isBusy = useChat((s) => s.generation !== null);
  const [index, count] = position.split('/').map(Number) as [number, number];
  if (count < 2) return null;
  return (
    <div className="branch-nav" role="group" aria-label="Versions">
      <IconButton icon="left" label="Previous version" disabled={isBusy || index <= 1} onClick={() => void moveBranch(message, -1)} />
      <span className="branch-nav__position" aria-live="polite">
        {index}/{count}
      </span>
      <IconButton icon="right" label="Next version" disabled={isBusy || index >= count} onClick={() => void moveBranch(message, 1)} />
    </div>
  );
}
