import type { Redis } from 'ioredis';
import { closedError } from './errors.js';
import { toSharedStateError, whenReady, type ConnectionWatcher } from './redis-connection.js';

const maxIdleConnections = 4;
// How long past its BLOCK a read may take before its connection counts as dead (a silent network drop).
const blockGraceMs = 2000;

/**
 * Connections for blocking reads (XREAD BLOCK). A blocked connection cannot serve
 * anyone else, so these never share the command connection. They are pooled
 * rather than opened per read because a follower reads in a loop, and a fresh
 * connection (TCP, AUTH, SELECT) per loop would add latency to every chunk.
 * The pool grows to the number of reads blocked at once and keeps a few idle
 * ones; a connection that errors or overruns is dropped, never reused. They do
 * not reconnect by themselves: the next read simply opens a new one.
 */
export class BlockingReaders {
  private readonly idle: Redis[] = [];
  private readonly open = new Set<Redis>();
  private isClosed = false;

  constructor(
    private readonly main: Redis,
    private readonly watcher: ConnectionWatcher,
  ) {}

  /** Runs a blocking `XREAD ... BLOCK blockMs ...` on a connection of its own. */
  async xread(args: Array<string | number>, blockMs: number): Promise<unknown> {
    const connection = await this.acquire();
    let isHealthy = false;
    const guard = setTimeout(() => connection.disconnect(), blockMs + blockGraceMs);
    try {
      const reply = await connection.call('XREAD', ...args);
      isHealthy = true;
      return reply;
    } catch (error) {
      throw this.isClosed ? closedError() : toSharedStateError(error);
    } finally {
      clearTimeout(guard);
      this.release(connection, isHealthy);
    }
  }

  /** Closes every connection; reads blocked on them reject. */
  async close(): Promise<void> {
    this.isClosed = true;
    this.idle.length = 0;
    for (const connection of [...this.open]) this.drop(connection);
  }

  private async acquire(): Promise<Redis> {
    if (this.isClosed) throw closedError();
    for (let connection = this.idle.pop(); connection; connection = this.idle.pop()) {
      if (connection.status === 'ready') return connection;
      this.drop(connection);
    }
    await whenReady(this.main);
    // No command timeout (it would cut the BLOCK short; the guard timer stands in) and no reconnecting.
    const connection = this.main.duplicate({ commandTimeout: undefined, retryStrategy: () => null, lazyConnect: true });
    this.watcher.watch(connection, 'blocking-read');
    connection.on('end', () => this.drop(connection));
    this.open.add(connection);
    try {
      await connection.connect();
    } catch (error) {
      this.drop(connection);
      throw toSharedStateError(error);
    }
    if (this.isClosed) {
      this.drop(connection);
      throw closedError();
    }
    return connection;
  }

  private release(connection: Redis, isHealthy: boolean): void {
    if (isHealthy && !this.isClosed && connection.status === 'ready' && this.idle.length < maxIdleConnections) {
      this.idle.push(connection);
    } else {
      this.drop(connection);
    }
  }

  private drop(connection: Redis): void {
    this.open.delete(connection);
    const index = this.idle.indexOf(connection);
    if (index >= 0) this.idle.splice(index, 1);
    // See quietly(): disconnecting an ended client would leave a timer holding the process open.
    if (connection.status !== 'end') connection.disconnect();
  }
}
