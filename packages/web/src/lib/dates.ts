import type { ChatSummary } from '@parley/wire';

/** A titled run of chats in the sidebar. */
export interface ChatGroup {
  label: string;
  chats: ChatSummary[];
}

const monthNames = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** The group label of a time (epoch seconds) relative to `now` (epoch ms), in local time. */
export function groupLabel(updatedAtSeconds: number, now: number): string {
  const date = new Date(updatedAtSeconds * 1000);
  const today = new Date(now);
  today.setHours(0, 0, 0, 0);
  const startOfToday = today.getTime();
  const time = date.getTime();
  if (time >= startOfToday) return 'Today';
  // Calendar days, not 24 h periods: daylight-saving days are 23 or 25 hours long.
  const yesterday = new Date(startOfToday);
  yesterday.setDate(yesterday.getDate() - 1);
  if (time >= yesterday.getTime()) return 'Yesterday';
  const week = new Date(startOfToday);
  week.setDate(week.getDate() - 7);
  if (time >= week.getTime()) return 'Previous 7 days';
  const month = new Date(startOfToday);
  month.setDate(month.getDate() - 30);
  if (time >= month.getTime()) return 'Previous 30 days';
  const name = monthNames[date.getMonth()] ?? '';
  return date.getFullYear() === today.getFullYear() ? name : `${name} ${date.getFullYear()}`;
}

/** Groups chats (already sorted newest first) by date; pinned chats come first in their own group. */
export function groupChats(chats: readonly ChatSummary[], now: number): ChatGroup[] {
  const groups: ChatGroup[] = [];
  const pinned = chats.filter((chat) => chat.pinned);
  if (pinned.length > 0) groups.push({ label: 'Pinned', chats: pinned });
  let current: ChatGroup | undefined;
  for (const chat of chats) {
    if (chat.pinned) continue;
    const label = groupLabel(chat.updated_at, now);
    if (!current || current.label !== label) {
      current = groups.find((group) => group.label === label);
      if (!current) {
        current = { label, chats: [] };
        groups.push(current);
      }
    }
    current.chats.push(chat);
  }
  return groups;
}
