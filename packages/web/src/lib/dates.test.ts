import { describe, expect, it } from 'vitest';
import type { ChatSummary } from '@parley/wire';
import { groupChats, groupLabel } from './dates';

// Noon, 15 June 2025, local time.
const now = new Date(2025, 5, 15, 12, 0, 0).getTime();
const at = (year: number, month: number, day: number, hour = 10) => new Date(year, month, day, hour).getTime() / 1000;
const chat = (id: string, updatedAt: number, pinned = false): ChatSummary => ({ id, title: id, updated_at: updatedAt, created_at: updatedAt, pinned, archived: false });

describe('date groups', () => {
  it('labels today, yesterday, the last 7 and 30 days, then months', () => {
    expect(groupLabel(at(2025, 5, 15, 0), now)).toBe('Today');
    expect(groupLabel(at(2025, 5, 14, 23), now)).toBe('Yesterday');
    expect(groupLabel(at(2025, 5, 14, 0), now)).toBe('Yesterday');
    expect(groupLabel(at(2025, 5, 13), now)).toBe('Previous 7 days');
    expect(groupLabel(at(2025, 5, 8), now)).toBe('Previous 7 days');
    expect(groupLabel(at(2025, 5, 7), now)).toBe('Previous 30 days');
    expect(groupLabel(at(2025, 4, 16), now)).toBe('Previous 30 days');
    expect(groupLabel(at(2025, 4, 15), now)).toBe('May');
    expect(groupLabel(at(2025, 0, 2), now)).toBe('January');
    expect(groupLabel(at(2024, 11, 31), now)).toBe('December 2024');
  });

  it('groups a newest-first list in order, pinned chats first', () => {
    const chats = [
      chat('a', at(2025, 5, 15)),
      chat('p', at(2024, 1, 1), true),
      chat('b', at(2025, 5, 15, 8)),
      chat('c', at(2025, 5, 14)),
      chat('d', at(2025, 5, 10)),
      chat('e', at(2025, 2, 3)),
      chat('f', at(2025, 2, 1)),
      chat('g', at(2024, 2, 1)),
    ];
    expect(groupChats(chats, now).map((group) => [group.label, group.chats.map((c) => c.id).join('')])).toEqual([
      ['Pinned', 'p'],
      ['Today', 'ab'],
      ['Yesterday', 'c'],
      ['Previous 7 days', 'd'],
      ['March', 'ef'],
      ['March 2024', 'g'],
    ]);
  });
});
