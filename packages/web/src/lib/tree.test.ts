import { describe, expect, it } from 'vitest';
import type { Message } from './message';
import { branchPosition, errorText, latestLeaf, pathTo, switchBranch, withMessage } from './tree';

function tree(spec: [id: string, parentId: string | null, role: Message['role']][]): Record<string, Message> {
  const messages: Record<string, Message> = {};
  for (const [id, parentId, role] of spec) messages[id] = { id, parentId, role, content: id, childrenIds: [] };
  for (const [id, parentId] of spec) if (parentId) messages[parentId]!.childrenIds.push(id);
  return messages;
}

// u1 ─ a1 ─ u2 ─ a2
//         ├ u2b ─ a2b        (u2 edited: a branch)
//         └ u2c ─ a2c ─ u3 ─ a3
// u1 also has a regenerated answer a1b.
const messages = tree([
  ['u1', null, 'user'],
  ['a1', 'u1', 'assistant'],
  ['u2', 'a1', 'user'],
  ['a2', 'u2', 'assistant'],
  ['u2b', 'a1', 'user'],
  ['a2b', 'u2b', 'assistant'],
  ['u2c', 'a1', 'user'],
  ['a2c', 'u2c', 'assistant'],
  ['u3', 'a2c', 'user'],
  ['a3', 'u3', 'assistant'],
  ['a1b', 'u1', 'assistant'],
]);

describe('message tree', () => {
  it('walks from the root to a leaf', () => {
    expect(pathTo(messages, 'a2b').map((m) => m.id)).toEqual(['u1', 'a1', 'u2b', 'a2b']);
    expect(pathTo(messages, null)).toEqual([]);
    expect(pathTo(messages, 'missing')).toEqual([]);
  });

  it('survives a cycle in bad data', () => {
    const cyclic = tree([['x', 'y', 'user'], ['y', 'x', 'assistant']]);
    expect(pathTo(cyclic, 'x').length).toBe(2);
  });

  it('gives the ‹ n/m › position among siblings', () => {
    expect(branchPosition(messages, messages.u2!)).toEqual({ index: 1, count: 3, previousId: null, nextId: 'u2b' });
    expect(branchPosition(messages, messages.u2b!)).toEqual({ index: 2, count: 3, previousId: 'u2', nextId: 'u2c' });
    expect(branchPosition(messages, messages.a1b!)).toMatchObject({ index: 2, count: 2 });
    expect(branchPosition(messages, messages.u1!)).toMatchObject({ index: 1, count: 1 });
  });

  it('switching a branch lands on the newest leaf below the sibling', () => {
    expect(switchBranch(messages, messages.u2!, 1)).toBe('a2b');
    expect(switchBranch(messages, messages.u2b!, 1)).toBe('a3');
    expect(switchBranch(messages, messages.u2b!, -1)).toBe('a2');
    expect(switchBranch(messages, messages.u2!, -1)).toBeNull();
    expect(switchBranch(messages, messages.u2c!, 1)).toBeNull();
    expect(latestLeaf(messages, 'u1')).toBe('a1b');
  });

  it('counts root messages as siblings of each other', () => {
    const roots = tree([['r1', null, 'user'], ['r2', null, 'user']]);
    expect(branchPosition(roots, roots.r2!)).toEqual({ index: 2, count: 2, previousId: 'r1', nextId: null });
  });

  it('adds a message under its parent without touching other messages', () => {
    const history = { messages, currentId: 'a2' };
    const next = withMessage(history, { id: 'u4', parentId: 'a2', role: 'user', content: 'hi', childrenIds: [] });
    expect(next.currentId).toBe('u4');
    expect(next.messages.a2!.childrenIds).toEqual(['u4']);
    expect(messages.a2!.childrenIds).toEqual([]);
    expect(next.messages.u1).toBe(messages.u1);
  });

  it('reads every error shape Open WebUI writes', () => {
    const base = messages.a1!;
    expect(errorText({ ...base, error: { content: 'boom' } })).toBe('boom');
    expect(errorText({ ...base, error: 'text' })).toBe('text');
    expect(errorText({ ...base, error: true })).toBeTruthy();
    expect(errorText({ ...base, error: null })).toBeNull();
  });
});
