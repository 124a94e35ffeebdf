import { describe, expect, it } from 'vitest';
import { AnswerText } from './answer-stream';

const delta = (content: string) => ({ type: 'delta' as const, content });
const takeover = (mode: 'continue' | 'regenerate') => ({ type: 'takeover' as const, mode });

describe('AnswerText', () => {
  it('settles text batch by batch and drops only the unsettled tail when a resume starts', () => {
    const answer = new AnswerText();
    answer.apply(delta('One'));
    answer.settle(1);
    answer.apply(delta(' two'));
    answer.apply(delta(' three'));
    answer.settle(2);
    // The connection drops in the middle of batch 3: its first half was shown.
    answer.apply(delta(' four'));
    expect(answer.text).toBe('One two three four');
    expect(answer.lastEventId).toBe(2);

    // The resume from id 2 replays batch 3 whole.
    answer.beginConnection();
    expect(answer.text).toBe('One two three');
    answer.apply(delta(' four'));
    answer.apply(delta(' five'));
    answer.settle(3);
    expect(answer.text).toBe('One two three four five');
    expect(answer.lastEventId).toBe(3);
  });

  it('ignores what is not text', () => {
    const answer = new AnswerText();
    expect(answer.apply({ type: 'usage', usage: { completion_tokens: 1 } })).toBe(false);
    expect(answer.apply({ type: 'finish', reason: 'stop' })).toBe(false);
    expect(answer.apply({ type: 'ignore' })).toBe(false);
    expect(answer.apply(delta('x'))).toBe(true);
  });

  it('keeps the text on a continuing takeover and starts afresh on a regenerating one', () => {
    const continued = new AnswerText();
    continued.apply(delta('Half'));
    continued.settle(1);
    expect(continued.apply(takeover('continue'))).toBe(false);
    continued.apply(delta(' and the rest'));
    expect(continued.text).toBe('Half and the rest');

    const regenerated = new AnswerText();
    regenerated.apply(delta('Half'));
    regenerated.settle(1);
    expect(regenerated.apply(takeover('regenerate'))).toBe(true);
    expect(regenerated.text).toBe('');
    regenerated.apply(delta('Whole answer'));
    regenerated.settle(2);
    expect(regenerated.text).toBe('Whole answer');
  });

  it('survives a takeover sent again after a resume from the batch just before it', () => {
    // The connection dropped after the takeover and before the next batch: the resume from id 1 repeats it.
    const answer = new AnswerText();
    answer.apply(delta('Old'));
    answer.settle(1);
    answer.apply(takeover('regenerate'));
    answer.beginConnection();
    answer.apply(takeover('regenerate'));
    answer.apply(delta('New'));
    answer.settle(2);
    expect(answer.text).toBe('New');

    // A later takeover (that instance died too) starts afresh again.
    answer.beginConnection();
    expect(answer.apply(takeover('regenerate'))).toBe(true);
    answer.apply(delta('Newest'));
    answer.settle(3);
    expect(answer.text).toBe('Newest');
  });
});
