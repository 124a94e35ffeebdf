#!/usr/bin/env node
// `npm run demo`: starts the fake model server and Parley pointed at it, with its
// own data folder, so a newcomer can chat within a minute. Ctrl+C stops both.
import { spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const port = process.env.PORT ?? '8080';
const fakePort = process.env.FAKE_LLM_PORT ?? '11435';
const children = [];

function start(name, args, env) {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: 'inherit' });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${name} exited (${signal ?? code}); stopping the demo`);
      stop(1);
    }
  });
  children.push(child);
}

let stopping = false;
function stop(code = 0) {
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 500).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

start('fake-llm', ['packages/fake-llm/dist/cli.js', '--port', fakePort, '--ttft-ms', '300', '--token-ms', '40', '--tokens', '60']);
start('parley', ['packages/server/dist/main.js'], {
  PORT: port,
  DATA_DIR: process.env.DATA_DIR ?? path.join(root, 'data', 'demo'),
  OPENAI_API_BASE_URLS: `http://127.0.0.1:${fakePort}/v1`,
  OPENAI_API_KEYS: 'demo',
  LOG_FORMAT: process.env.LOG_FORMAT ?? 'pretty',
});
console.log(`\nParley demo: http://localhost:${port}  (model "fake-model"; sign up: the first account is the admin)\n`);
