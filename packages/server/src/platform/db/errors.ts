// Error codes meaning "the database is not there right now", as opposed to a bad query.
const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000', // connection_exception
  '08001',
  '08003',
  '08006',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_IOERR',
]);

/** Thrown at once, without trying, while the database is known to be unreachable. */
export class DatabaseUnavailableError extends Error {
  constructor() {
    super('The database is unreachable; failing fast until it answers again');
    this.name = 'DatabaseUnavailableError';
  }
}

/** True for failures that a retry after the database comes back would fix. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof DatabaseUnavailableError) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && unavailableCodes.has(code)) return true;
  // pg-pool's wording when no connection could be had within DATABASE_POOL_TIMEOUT.
  return /timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error/i.test(error.message);
}
