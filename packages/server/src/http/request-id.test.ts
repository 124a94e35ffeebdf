import { describe, expect, it } from 'vitest';
import { requestIdFrom } from './request-id.js';

describe('request ids', () => {
  it('keeps a short id of safe characters', () => {
    for (const id of ['abc', 'req-1234.abcd:EF_9', '0f8fad5b-d9cb-469f-a165-70867728950e', 'a'.repeat(128)]) expect(requestIdFrom(id)).toBe(id);
  });

  it('replaces anything else with a fresh UUID', () => {
    for (const header of [undefined, '', 'a'.repeat(129), 'x'.repeat(8192), 'has space', 'a,b', 'a, b', '<script>', 'ü', ['a', 'b']]) {
      const id = requestIdFrom(header);
      expect(id).not.toBe(header);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
  });
});
