/** The app's clock for `startTestApp({…}, { clock })`, which a test may move forward (caches then age) or hold still (nothing ages). */
export function movableClock() {
  let offset = 0;
  let heldAt: number | undefined;
  return {
    now: () => heldAt ?? Date.now() + offset,
    advance(ms: number) {
      offset += ms;
      if (heldAt !== undefined) heldAt += ms;
    },
    hold() {
      heldAt = Date.now() + offset;
    },
    release() {
      heldAt = undefined;
    },
  };
}
