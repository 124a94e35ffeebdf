import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
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

/** The log's checkpoint sequence number and salts (WAL header bytes 12-23): they change each time the log starts again. */
function walGeneration(file: string): string {
  const header = Buffer.alloc(12);
  const fd = openSync(`${file}-wal`, 'r');
  try {
    readSync(fd, header, 0, 12, 12);
  } finally {
    closeSync(fd);
  }
  return header.toString('hex');
}

// Generous: on a busy machine the worker thread can take seconds to start.
async function until(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('checkpointInBackground', () => {
  it('copies the log into the database file on its own thread, never inside a commit', async () => {
    const { sqlite, file } = openWalDatabase();
    // No round falls due during the test: until stop() asks for the last one, only a commit could checkpoint.
    const stop = checkpointInBackground(sqlite, file, 3_600_000);
    expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const before = statSync(file).size;
    const insert = sqlite.prepare('insert into rows (body) values (?)');
    for (let i = 0; i < 2000; i++) insert.run('x'.repeat(500));
    // With inline checkpoints off, the commits above left the database file as it was.
    expect(statSync(file).size).toBe(before);
    await stop();
    expect(statSync(file).size).toBeGreaterThan(before + 500_000);
    expect(sqlite.prepare('select count(*) as n from rows').get()).toEqual({ n: 2000 });
    sqlite.close();
  });

  it('checkpoints every round while it runs', async () => {
    const { sqlite, file } = openWalDatabase();
    const stop = checkpointInBackground(sqlite, file, 50);
    const before = statSync(file).size;
    const insert = sqlite.prepare('insert into rows (body) values (?)');
    for (let i = 0; i < 2000; i++) insert.run('x'.repeat(500));
    await until(() => statSync(file).size > before + 500_000);
    await stop();
    sqlite.close();
  });

  it('restarts a log that passive checkpoints cannot catch up with', async () => {
    const { sqlite, file } = openWalDatabase();
    const insert = sqlite.prepare('insert into rows (body) values (?)');
    insert.run('first');
    // A reader holding an old snapshot keeps every passive checkpoint short of the end of the log, as a
    // steady stream of writes does under load, but without depending on how the two threads interleave.
    const reader = new SqliteDatabase(file);
    reader.exec('begin');
    reader.prepare('select count(*) as n from rows').get();
    const stop = checkpointInBackground(sqlite, file, 20, 200);
    for (let i = 0; i < 1000; i++) insert.run('y'.repeat(1000));
    const generation = walGeneration(file);
    // The checkpointer answers a log past its bound with a checkpoint on the main connection. When that
    // comes, the reader has gone (as the writes pause while the main thread checkpoints), and the next
    // write must start the log again from its beginning instead of growing it.
    const pragma = sqlite.pragma.bind(sqlite);
    let hasRestartedLog: boolean | undefined;
    sqlite.pragma = ((source, options) => {
      if (hasRestartedLog !== undefined || !source.includes('wal_checkpoint(')) return pragma(source, options);
      reader.exec('commit');
      const result = pragma(source, options);
      insert.run('after');
      hasRestartedLog = walGeneration(file) !== generation;
      return result;
    }) as typeof sqlite.pragma;
    await until(() => hasRestartedLog !== undefined);
    await stop();
    expect(hasRestartedLog).toBe(true);
    expect(sqlite.prepare('select count(*) as n from rows').get()).toEqual({ n: 1002 });
    reader.close();
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
