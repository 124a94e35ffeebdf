import { httpErrors } from '../../http/errors.js';
import type { Platform } from '../../platform/platform.js';

/** Something a user's open tabs should hear about. */
export interface UserEvent {
  type: 'chat:changed' | 'chat:deleted' | 'answer:done' | 'chat:title';
  chat_id: string | null;
  [key: string]: unknown;
}

interface Tab {
  send(event: UserEvent): void;
  /** Ends the tab's stream (the instance is draining: the browser reconnects elsewhere). */
  end(): void;
}
const channel = 'user-events';

/**
 * Delivers events to every open tab of a user, whichever instance each tab is
 * connected to: one pub/sub subscription per instance, fanned out in process.
 */
export function createEventsService({ shared, log, config }: Platform) {
  const maxTabsPerUser = config.MAX_EVENT_STREAMS_PER_USER;
  const tabs = new Map<string, Set<Tab>>();
  let unsubscribe: (() => Promise<void>) | undefined;

  function deliver(message: string): void {
    const { userId, event } = JSON.parse(message) as { userId: string; event: UserEvent };
    for (const tab of tabs.get(userId) ?? []) tab.send(event);
  }

  return {
    /** Subscribes this instance, retrying in the background while shared state is unreachable. */
    async start(): Promise<void> {
      const attempt = async (tries: number): Promise<void> => {
        try {
          unsubscribe = await shared.subscribe(channel, deliver);
        } catch (error) {
          if (tries % 10 === 0) log.warn({ err: error }, 'cannot subscribe to user events yet; retrying');
          setTimeout(() => void attempt(tries + 1), 1000).unref();
        }
      };
      await attempt(0);
    },

    /** Tells every tab of `userId`, on every instance; losing an event is not worth failing a request for. */
    publish(userId: string, event: UserEvent): void {
      shared.publish(channel, JSON.stringify({ userId, event })).catch((error: unknown) => {
        log.warn({ err: error, type: event.type }, 'could not publish a user event');
      });
    },

    /**
     * Registers an open tab; returns the function that unregisters it. A user holds at most
     * MAX_EVENT_STREAMS_PER_USER tabs on this instance (each is a socket and a place in the fan-out): 429 past that.
     */
    connect(userId: string, tab: Tab): () => void {
      let set = tabs.get(userId);
      if (set && set.size >= maxTabsPerUser) {
        throw httpErrors.rateLimited(
          `Too many open event streams for this account (at most ${maxTabsPerUser} per instance); close a tab or retry later`,
          5000,
        );
      }
      if (!set) tabs.set(userId, (set = new Set()));
      set.add(tab);
      return () => {
        set.delete(tab);
        if (set.size === 0) tabs.delete(userId);
      };
    },

    /** Ends every open stream on this instance. */
    endAll(): void {
      for (const set of tabs.values()) for (const tab of set) tab.end();
    },

    async close(): Promise<void> {
      await unsubscribe?.().catch(() => undefined);
    },
  };
}

export type EventsService = ReturnType<typeof createEventsService>;
