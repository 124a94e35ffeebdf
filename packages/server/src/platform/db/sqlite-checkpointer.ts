import { Worker } from 'node:worker_threads';
import type SqliteDatabase from 'better-sqlite3';
import { sqliteDriverPath } from './sqlite-driver.js';

/**
 * SQLite copies its write-ahead log back into the database file (a checkpoint,
 * with fsyncs) inside whichever commit crosses the threshold: a synchronous
 * stall of several milliseconds on the event loop every few hundred writes,
 * which every stream relayed at that moment feels. Checkpoints run instead on
 * a worker thread with its own connection, in PASSIVE mode: they never block
 * the main connection's reads or writes.
 */
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
const checkpoint = () => {
  try {
    const [{ log }] = db.pragma('wal_checkpoint(PASSIVE)');
    if (log > workerData.restartFrames) parentPort.postMessage('restart');
  } catch {
    // Busy or briefly locked: the next round catches up.
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

/**
 * Moves the checkpoints of `sqlite` (a WAL database file) off the event loop; returns how to stop.
 * `restartFrames` bounds the log (4 KB pages: 4,000 frames is about 16 MB).
 */
export function checkpointInBackground(sqlite: SqliteDatabase.Database, file: string, intervalMs = 500, restartFrames = 4000): () => Promise<void> {
  sqlite.pragma('wal_autocheckpoint = 0');
  const worker = new Worker(workerSource, { eval: true, workerData: { driver: sqliteDriverPath, file, intervalMs, restartFrames } });
  worker.unref();
  let isClosing = false;
  let hasExited = false;
  const fallBack = () => {
    // Without its checkpointer the log would grow without bound: let SQLite checkpoint inline again.
    if (!isClosing && sqlite.open) sqlite.pragma('wal_autocheckpoint = 1000');
  };
  // Under a steady stream of writes a passive checkpoint never reaches the end of the log, which then
  // grows without bound; past the limit one checkpoint runs inline, where no write can overtake it.
  worker.on('message', () => {
    try {
      if (sqlite.open) sqlite.pragma('wal_checkpoint(RESTART)');
    } catch {
      // Busy past the timeout: the worker asks again next round.
    }
  });
  worker.on('error', fallBack);
  worker.on('exit', () => {
    hasExited = true;
    fallBack();
  });
  return async () => {
    isClosing = true;
    if (hasExited) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    // Unreferenced, the worker would let the process exit mid-shutdown, before later steps run.
    worker.ref();
    worker.postMessage('close');
    await exited;
  };
}
