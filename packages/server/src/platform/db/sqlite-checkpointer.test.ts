import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkpointInBackground } from './sqlite-checkpointer.js';
import { SqliteDatabase } from './sqlite-driver.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function openWalDatabase() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-checkpoint-'));
  dirs.push(dir);
  const file = path.join(dir, 'test.db');
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.exec('create table rows (id integer primary key, body text not null)');
  return { sqlite, file };
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('checkpointInBackground', () => {
  it('copies the log into the database file on its own thread, never inside a commit', async () => {
    const { sqlite, file } = openWalDatabase();
    const stop = checkpointInBackground(sqlite, file, 50);
    expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const before = statSync(file).size;
    const insert = sqlite.prepare('insert into rows (body) values (?)');
    for (let i = 0; i < 2000; i++) insert.run('x'.repeat(500));
    // With inline checkpoints off, the commits above left the database file as it was.
    expect(statSync(file).size).toBe(before);
    await until(() => statSync(file).size > before + 500_000);
    await stop();
    expect(sqlite.prepare('select count(*) as n from rows').get()).toEqual({ n: 2000 });
    sqlite.close();
  });

  it('restarts a log that passive checkpoints cannot catch up with', async () => {
    const { sqlite, file } = openWalDatabase();
    const stop = checkpointInBackground(sqlite, file, 20, 200);
    const insert = sqlite.prepare('insert into rows (body) values (?)');
    const emptySize = statSync(file).size;
    insert.run('first');
    // Once the database file grows, the worker is running.
    await until(() => statSync(file).size > emptySize);
    let largestLog = 0;
    // Writing with hardly a pause, as under heavy load: passive checkpoints never reach the end of the log.
    for (const until = Date.now() + 1000; Date.now() < until; ) {
      for (let i = 0; i < 100; i++) insert.run('y'.repeat(1000));
      largestLog = Math.max(largestLog, statSync(`${file}-wal`).size);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await stop();
    // Unbounded, this loop leaves a log of hundreds of megabytes on this kind of machine.
    expect(largestLog).toBeLessThan(40_000_000);
    sqlite.close();
  });

  it('lets SQLite checkpoint inline again when its worker is gone', async () => {
    const { sqlite, file } = openWalDatabase();
    const stop = checkpointInBackground(sqlite, `${file}.missing`, 50);
    // The worker fails to open a database that does not exist and exits.
    await until(() => sqlite.pragma('wal_autocheckpoint', { simple: true }) === 1000);
    await stop();
    sqlite.close();
  });
});
