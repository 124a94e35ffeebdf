import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** s3rver's fixed credentials. */
export const S3RVER_CREDENTIALS = { S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER' } as const;

/** A real S3-compatible server on a random loopback port, with its own temporary directory. */
export interface S3TestServer {
  endpoint: string;
  port: number;
  /** Where s3rver keeps buckets: `<directory>/<bucket>/...`. */
  directory: string;
  close(): Promise<void>;
}

/** Starts s3rver in a child process (so its memory is not the test's) and waits until it listens. */
export async function startS3Server(): Promise<S3TestServer> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-s3rver-'));
  const script = fileURLToPath(new URL('./s3rver-process.mjs', import.meta.url));
  const child = fork(script, [directory], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { port: number }).port));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`s3rver exited with code ${code} before listening`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    directory,
    async close() {
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
