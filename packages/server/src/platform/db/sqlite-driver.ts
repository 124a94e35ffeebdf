import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * better-sqlite3 12 wraps its objects in `node::ObjectWrap`. Node 24.19 and later abort the
 * process when such an object is collected outside JavaScript (an idle-time GC, a worker's
 * teardown): the embedded default would crash at random on Node 24. Version 13 is
 * built on Node-API 10 and is not affected, but needs Node 22.14 or later. So Node-API 10
 * gets 13 (installed under an alias) and Node 20 keeps 12, which is safe there.
 */
const hasNodeApi10 = Number(process.versions.napi) >= 10;

/** The file to `require` for the driver: the SQLite checkpoint worker loads the same one. */
export const sqliteDriverPath = require.resolve(hasNodeApi10 ? 'better-sqlite3-node-api' : 'better-sqlite3');

/** The better-sqlite3 constructor this Node can run safely (both versions share the API Parley uses). */
export const SqliteDatabase: typeof import('better-sqlite3') = require(sqliteDriverPath);
