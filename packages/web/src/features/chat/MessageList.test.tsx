import { act, cleanup, render } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { History, Message } from '../../lib/message';
import { withPatch } from '../../lib/tree';
import { initialChatState, useChat } from '../../state/chat';
import { MessageList, renderStep } from './MessageList';

const renders = vi.hoisted(() => new Map<string, number>());
const count = (id: string) => renders.set(id, (renders.get(id) ?? 0) + 1);

// Stand-ins for the message bodies that count how often each message renders.
vi.mock('./AssistantMessage', () => ({
  AssistantMessage: ({ message }: { message: Message }) => (count(message.id), <p>{message.content}</p>),
}));
vi.mock('./UserMessage', () => ({
  UserMessage: ({ message }: { message: Message }) => (count(message.id), <p>{message.content}</p>),
}));

class Observer {
  observe() {}
  disconnect() {}
}

function chain(length: number): History {
  const messages: Record<string, Message> = {};
  for (let i = 0; i < length; i += 1) {
    const id = `m${i}`;
    messages[id] = { id, parentId: i === 0 ? null : `m${i - 1}`, childrenIds: i < length - 1 ? [`m${i + 1}`] : [], role: i % 2 ? 'assistant' : 'user', content: `message ${i}`, done: true };
  }
  return { messages, currentId: `m${length - 1}` };
}

beforeEach(() => {
  renders.clear();
  vi.stubGlobal('ResizeObserver', Observer);
  vi.stubGlobal('IntersectionObserver', Observer);
});

afterEach(() => {
  cleanup();
  useChat.setState(initialChatState);
  vi.unstubAllGlobals();
});

describe('MessageList', () => {
  it('re-renders only the streaming message when a token arrives', () => {
    useChat.setState({ ...initialChatState, chatId: 'c', history: chain(6) });
    render(<MessageList chatId="c" />);
    expect([...renders.values()].every((n) => n === 1)).toBe(true);
    renders.clear();
    for (const text of ['a', 'ab', 'abc']) act(() => useChat.setState((s) => ({ history: withPatch(s.history, 'm5', { content: text }) })));
    expect(Object.fromEntries(renders)).toEqual({ m5: 3 });
  });

  it('renders a long chat incrementally: only the newest messages at first', () => {
    useChat.setState({ ...initialChatState, chatId: 'c', history: chain(1000) });
    const { container } = render(<MessageList chatId="c" />);
    expect(container.querySelectorAll('.message-row')).toHaveLength(renderStep);
    expect(container.querySelector('.message-row:last-child')?.getAttribute('data-message-id')).toBe('m999');
    expect(container.textContent).toContain(`Show ${renderStep} earlier messages`);
  });
});
