import { loadConfig } from './config.js';
import { connectDb } from './platform/db/connect.js';
import { migrateToLatest } from './platform/db/migrate.js';

/** `npm run migrate`: applies pending migrations, for a separate migration job. */
const config = loadConfig();
const db = connectDb(config);
try {
  const applied = await migrateToLatest(db);
  process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'schema is up to date\n');
} finally {
  await db.close();
}
