import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { pathIds, useChat } from '../../state/chat';
import { MessageRow } from './MessageRow';

/** Messages rendered at first, and added each time the reader scrolls to the top. */
export const renderStep = 40;
// Within this many pixels of the end, the list follows new text.
const stickiness = 80;

/**
 * The shown path of the chat. Long chats render incrementally: the newest
 * messages first, older ones as the reader scrolls up (the scroll position is
 * kept), so a 1,000-message chat opens as fast as a short one.
 */
export function MessageList({ chatId }: { chatId: string | null }) {
  const ids = useChat(useShallow(pathIds));
  const [count, setCount] = useState(renderStep);
  const scroller = useRef<HTMLDivElement>(null);
  const content = useRef<HTMLDivElement>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const isFollowing = useRef(true);
  const restore = useRef<{ height: number; top: number } | null>(null);
  const lastCount = useRef(ids.length);

  useEffect(() => {
    setCount(renderStep);
    isFollowing.current = true;
  }, [chatId]);

  const start = Math.max(0, ids.length - count);
  const shown = ids.slice(start);

  // A new message (sent by the user or an answer starting) brings the end into view.
  useLayoutEffect(() => {
    if (ids.length > lastCount.current) isFollowing.current = true;
    lastCount.current = ids.length;
    const element = scroller.current;
    if (element && isFollowing.current) element.scrollTop = element.scrollHeight;
  }, [ids]);

  // Older messages were added above: keep what the reader was looking at in place.
  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element || !restore.current) return;
    element.scrollTop = restore.current.top + (element.scrollHeight - restore.current.height);
    restore.current = null;
  }, [count]);

  // Streaming text, highlighted code and loaded images change heights: follow them only when at the end.
  useEffect(() => {
    const element = scroller.current;
    const inner = content.current;
    if (!element || !inner) return;
    const observer = new ResizeObserver(() => {
      if (isFollowing.current) element.scrollTop = element.scrollHeight;
    });
    observer.observe(inner);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    const element = scroller.current;
    const target = sentinel.current;
    if (!element || !target || start === 0) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (!entries.some((entry) => entry.isIntersecting)) return;
        restore.current = { height: element.scrollHeight, top: element.scrollTop };
        setCount((value) => value + renderStep);
      },
      { root: element, rootMargin: '600px 0px 0px 0px' },
    );
    observer.observe(target);
    return () => observer.disconnect();
  }, [start]);

  return (
    <div
      className="messages"
      ref={scroller}
      onScroll={(event) => {
        const element = event.currentTarget;
        isFollowing.current = element.scrollHeight - element.scrollTop - element.clientHeight < stickiness;
      }}
    >
      <div className="messages__inner" ref={content} role="log" aria-label="Messages" aria-live="off">
        {start > 0 && (
          <div ref={sentinel} className="messages__more">
            <button type="button" className="link-button" onClick={() => setCount((value) => value + renderStep)}>
              Show {Math.min(renderStep, start)} earlier messages
            </button>
          </div>
        )}
        {shown.map((id) => (
          <MessageRow key={id} id={id} />
        ))}
      </div>
    </div>
  );
}
