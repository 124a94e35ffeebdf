import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SqliteDatabase, sqliteDriverPath } from './sqlite-driver.js';

/*
 * Statements dropped by the thousand get collected by garbage collections that V8 runs
 * outside JavaScript (background and idle tasks, a worker's teardown), where Node 24.19+
 * aborts the process for better-sqlite3 12: 20,000 statements in each of eight workers
 * aborted every time there. On Node 20 both versions pass; CI runs this suite on Node 24
 * too, where it fails with the wrong driver.
 */
const workers = `
const { Worker } = require('node:worker_threads');
const job = 'const Database = require(' + JSON.stringify(process.argv[1]) + ');' +
  'const db = new Database(":memory:");' +
  'for (let i = 0; i < 20000; i++) db.prepare("select " + i).get();' +
  'db.close();';
let running = 8;
for (let i = 0; i < 8; i++) new Worker(job, { eval: true }).on('exit', () => { if (--running === 0) console.log('all workers exited'); });
`;

describe('the SQLite driver for this Node', () => {
  it('survives the collection of thousands of statements in worker threads', () => {
    const child = spawnSync(process.execPath, ['-e', workers, sqliteDriverPath], { encoding: 'utf8', timeout: 60_000 });
    expect(child.stderr).not.toMatch(/Assertion failed/);
    expect({ status: child.status, signal: child.signal }).toEqual({ status: 0, signal: null });
    expect(child.stdout).toContain('all workers exited');
  });

  it('opens, writes and reads a database', () => {
    const db = new SqliteDatabase(':memory:');
    db.exec('create table notes (id integer primary key, body text not null)');
    db.prepare('insert into notes (body) values (?)').run('héllo');
    expect(db.prepare('select body from notes').all()).toEqual([{ body: 'héllo' }]);
    db.close();
  });
});
