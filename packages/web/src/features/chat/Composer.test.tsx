import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Composer } from './Composer';
import { composerKeyAction } from './composer-keys';

afterEach(() => {
  cleanup();
  sessionStorage.clear();
});

describe('composerKeyAction', () => {
  it('sends on Enter, and leaves Shift+Enter and IME composition to the browser', () => {
    expect(composerKeyAction({ key: 'Enter', shiftKey: false, isComposing: false })).toBe('send');
    expect(composerKeyAction({ key: 'Enter', shiftKey: true, isComposing: false })).toBe('default');
    expect(composerKeyAction({ key: 'Enter', shiftKey: false, isComposing: true })).toBe('default');
    expect(composerKeyAction({ key: 'a', shiftKey: false, isComposing: false })).toBe('default');
  });
});

function setup(props: Partial<Parameters<typeof Composer>[0]> = {}) {
  const onSend = vi.fn();
  const onStop = vi.fn();
  const view = render(<Composer chatId="chat-1" isGenerating={false} blockedReason={null} onSend={onSend} onStop={onStop} {...props} />);
  return { onSend, onStop, view, input: screen.getByRole('textbox', { name: 'Message' }) as HTMLTextAreaElement };
}

describe('Composer', () => {
  it('sends the trimmed text on Enter and empties the box', () => {
    const { onSend, input } = setup();
    fireEvent.change(input, { target: { value: '  hello there  ' } });
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(onSend).toHaveBeenCalledWith('hello there', []);
    expect(input.value).toBe('');
  });

  it('does not send on Shift+Enter', () => {
    const { onSend, input } = setup();
    fireEvent.change(input, { target: { value: 'line one' } });
    fireEvent.keyDown(input, { key: 'Enter', shiftKey: true });
    expect(onSend).not.toHaveBeenCalled();
  });

  it('does not send empty text, nor while an answer streams (the button stops it instead)', () => {
    const { onSend, onStop, input } = setup({ isGenerating: true });
    fireEvent.keyDown(input, { key: 'Enter' });
    fireEvent.change(input, { target: { value: 'queued' } });
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(onSend).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole('button', { name: 'Stop generating' }));
    expect(onStop).toHaveBeenCalledOnce();
  });

  it('keeps typed text per chat when moving between chats', () => {
    const { input, view } = setup();
    fireEvent.change(input, { target: { value: 'draft for chat 1' } });
    view.rerender(<Composer chatId="chat-2" isGenerating={false} blockedReason={null} onSend={vi.fn()} onStop={vi.fn()} />);
    expect(input.value).toBe('');
    fireEvent.change(input, { target: { value: 'draft for chat 2' } });
    view.rerender(<Composer chatId="chat-1" isGenerating={false} blockedReason={null} onSend={vi.fn()} onStop={vi.fn()} />);
    expect(input.value).toBe('draft for chat 1');
  });

  it('explains why it cannot send', () => {
    const { input, onSend } = setup({ blockedReason: 'No model available' });
    expect(input.placeholder).toBe('No model available');
    fireEvent.change(input, { target: { value: 'hi' } });
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(onSend).not.toHaveBeenCalled();
  });
});
