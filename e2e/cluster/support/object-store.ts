// The cluster's object store: s3rver on a fixed loopback port with its files in
// a fixed directory, so it can be stopped (as if its host went away) and come
// back with everything it had stored.
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, sleep } from './services.js';

/** s3rver's fixed credentials, as the instances' environment. */
export const S3RVER_CREDENTIALS = { S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER' } as const;

/** A restartable s3rver. */
export interface ObjectStore {
  endpoint: string;
  /** SIGKILL, down for `downMs`, then started again on the same port and files. */
  outage(downMs: number): Promise<void>;
  close(): Promise<void>;
}

const script = path.join(import.meta.dirname, 's3rver-process.mjs');

/** Starts s3rver on a free port with its files in `directory`. */
export async function startObjectStore(directory: string): Promise<ObjectStore> {
  fs.mkdirSync(directory, { recursive: true });
  const port = await freePort();
  let child: ChildProcess;
  let exited: Promise<void>;
  const launch = async () => {
    child = fork(script, [directory, String(port)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`s3rver exited with code ${code} before listening on ${port}`)));
    });
  };
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async outage(downMs) {
      await kill();
      await sleep(downMs);
      await launch();
    },
    close: kill,
  };
}
