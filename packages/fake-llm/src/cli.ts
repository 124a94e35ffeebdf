#!/usr/bin/env node
/** Command-line entry: `parley-fake-llm --port 11434 --ttft-ms 50 --token-ms 10 --tokens 64`. */
import { parseArgs } from 'node:util';
import { startFakeLlm } from './server.js';
import type { FakeLlmOptions } from './types.js';

const USAGE = `usage: fake-llm [--port 11434] [--host 127.0.0.1] [--ttft-ms 0] [--token-ms 0]
                [--tokens 24] [--slow-headers-ms 3000] [--huge-line-bytes N] [--api-key KEY] [--h2c]
                [--openai-continuation continue|restart|vllm]`;

/** Flag name -> option name, for the numeric flags. */
const NUMERIC_FLAGS = {
  port: 'port',
  'ttft-ms': 'ttftMs',
  'token-ms': 'tokenMs',
  tokens: 'tokens',
  'slow-headers-ms': 'slowHeadersMs',
  'huge-line-bytes': 'hugeLineBytes',
} as const satisfies Record<string, keyof FakeLlmOptions>;

/** Turns argv into options; lists every bad flag at once and exits 2. */
function parseOptions(argv: string[]): Partial<FakeLlmOptions> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '11434' },
      host: { type: 'string' },
      'ttft-ms': { type: 'string' },
      'token-ms': { type: 'string' },
      tokens: { type: 'string' },
      'slow-headers-ms': { type: 'string' },
      'huge-line-bytes': { type: 'string' },
      'api-key': { type: 'string' },
      'openai-continuation': { type: 'string' },
      h2c: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const options: Partial<FakeLlmOptions> = {};
  const errors: string[] = [];
  for (const [flag, name] of Object.entries(NUMERIC_FLAGS)) {
    const text = values[flag as keyof typeof NUMERIC_FLAGS];
    if (text === undefined) continue;
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || value < 0) errors.push(`--${flag} must be a non-negative number, got '${text}'`);
    else options[name] = value;
  }
  const continuation = values['openai-continuation'];
  if (continuation !== undefined && continuation !== 'continue' && continuation !== 'restart' && continuation !== 'vllm') {
    errors.push(`--openai-continuation must be continue, restart or vllm, got '${continuation}'`);
  }
  if (errors.length > 0) {
    console.error(`${errors.join('\n')}\n${USAGE}`);
    process.exit(2);
  }
  if (values.host !== undefined) options.host = values.host;
  if (values['api-key'] !== undefined) options.apiKey = values['api-key'];
  if (values.h2c) options.h2c = true;
  if (continuation !== undefined) options.openaiContinuation = continuation as FakeLlmOptions['openaiContinuation'];
  return options;
}

/** Starts the server and stops it cleanly on SIGINT or SIGTERM. */
async function main(): Promise<void> {
  let options: Partial<FakeLlmOptions>;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    // parseArgs throws on unknown flags; show the reason and the usage rather than a stack.
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  const fake = await startFakeLlm(options);
  console.log(`fake-llm listening on ${fake.url}`);
  const stop = (): void => {
    fake.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`fake-llm failed to start: ${(error as Error).message ?? String(error)}`);
  process.exit(1);
});
