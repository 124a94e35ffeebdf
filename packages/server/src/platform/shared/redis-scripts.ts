import type { Redis } from 'ioredis';

// Each script is one atomic round trip; ioredis sends EVALSHA and falls back to EVAL once per server.
const scripts = {
  /** INCR, and start the window's expiry on the first hit: returns {count, pttl}. */
  parleyHit: `
    local count = redis.call('INCR', KEYS[1])
    local ttl = redis.call('PTTL', KEYS[1])
    if ttl < 0 then
      redis.call('PEXPIRE', KEYS[1], ARGV[1])
      ttl = tonumber(ARGV[1])
    end
    return {count, ttl}`,
  /** INCRBY ARGV[1], starting the window's expiry (ARGV[2]) when it has none: a count handed over from elsewhere. */
  parleyAddToWindow: `
    local count = redis.call('INCRBY', KEYS[1], ARGV[1])
    if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
    return count`,
  /** Makes ARGV[1] the lease's holder for ARGV[2] ms unless someone else holds it: 1 when it does, 0 when another owner does. */
  parleyRestoreLease: `
    local owner = redis.call('GET', KEYS[1])
    if owner == ARGV[1] or not owner then
      redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
      return 1
    end
    return 0`,
  /** PEXPIRE only while ARGV[1] still owns the lease. */
  parleyRenewLease: `
    if redis.call('GET', KEYS[1]) == ARGV[1] then
      return redis.call('PEXPIRE', KEYS[1], ARGV[2])
    end
    return 0`,
  /** DEL only while ARGV[1] still owns the lease. */
  parleyReleaseLease: `
    if redis.call('GET', KEYS[1]) == ARGV[1] then
      return redis.call('DEL', KEYS[1])
    end
    return 0`,
  /** XADD (trimmed to about ARGV[2] entries when given), then PEXPIRE ARGV[1] when given; returns the id. */
  parleyAppend: `
    local args = {'XADD', KEYS[1]}
    if ARGV[2] ~= '' then
      table.insert(args, 'MAXLEN')
      table.insert(args, '~')
      table.insert(args, ARGV[2])
    end
    table.insert(args, '*')
    for i = 3, #ARGV do table.insert(args, ARGV[i]) end
    local id = redis.call(unpack(args))
    if ARGV[1] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
    return id`,
};

/** The scripts as commands on a client (ioredis adds them at run time, so their types are declared here). */
export interface ScriptCommands {
  parleyHit(key: string, windowMs: number): Promise<[number, number]>;
  parleyAddToWindow(key: string, count: number, windowMs: number): Promise<number>;
  parleyRestoreLease(key: string, owner: string, ttlMs: number): Promise<number>;
  parleyRenewLease(key: string, owner: string, ttlMs: number): Promise<number>;
  parleyReleaseLease(key: string, owner: string): Promise<number>;
  parleyAppend(key: string, ttlMs: string, maxLength: string, ...fields: string[]): Promise<string>;
}

/** Registers the scripts on `client` and returns it typed with them. */
export function withScripts(client: Redis): Redis & ScriptCommands {
  for (const [name, lua] of Object.entries(scripts)) client.defineCommand(name, { numberOfKeys: 1, lua });
  return client as Redis & ScriptCommands;
}
