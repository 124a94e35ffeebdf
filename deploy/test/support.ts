// Shared helpers for the deploy kit's tests: paths, the README's configuration
// names, a small nginx configuration parser and free ports.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** The repository root and the deploy folder. */
export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const deployDir = path.join(repoRoot, 'deploy');

/** Reads a file under the repository root. */
export const readRepoFile = (relative: string) => fs.readFileSync(path.join(repoRoot, relative), 'utf8');

/**
 * Names other engineers are adding to Parley's configuration in the same change
 * (Redis and S3, issue 4): allowed before they reach the README's table.
 */
export const pendingNames = new Set([
  'REDIS_URL',
  'REDIS_SENTINEL_HOSTS',
  'REDIS_SENTINEL_PORT',
  'REDIS_KEY_PREFIX',
  'STORAGE_PROVIDER',
  'S3_ENDPOINT_URL',
  'S3_BUCKET_NAME',
  'S3_REGION_NAME',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'S3_KEY_PREFIX',
  'S3_ADDRESSING_STYLE',
]);

/** The variable names in the README's configuration table (rows `| \`NAME\` | …`). */
export function readmeConfigNames(): Set<string> {
  const names = [...readRepoFile('README.md').matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]!);
  return new Set(names);
}

/**
 * Splits environment names into those the README documents, those still
 * pending (allowed, reported) and unknown ones (a test failure).
 */
export function classifyEnvNames(names: Iterable<string>): { known: string[]; pending: string[]; unknown: string[] } {
  const documented = readmeConfigNames();
  const result = { known: [] as string[], pending: [] as string[], unknown: [] as string[] };
  for (const name of new Set(names)) {
    if (documented.has(name)) result.known.push(name);
    else if (pendingNames.has(name)) result.pending.push(name);
    else result.unknown.push(name);
  }
  return result;
}

/** Prints which pending names are not in the README yet, once per caller. */
export function notePending(where: string, pending: string[]): void {
  if (pending.length > 0) {
    console.info(`note: ${where} uses ${pending.sort().join(', ')}, not yet in the README's configuration table (pending: Redis/S3 work)`);
  }
}

/** One nginx directive: its name, arguments and, for blocks, the directives inside. */
export interface NginxDirective {
  name: string;
  args: string[];
  block?: NginxDirective[];
}

/** Parses nginx configuration syntax (directives, blocks, quotes, comments) into a tree. */
export function parseNginx(src: string): NginxDirective[] {
  const tokens = src.match(/#[^\n]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[{};]|[^\s{};]+/g) ?? [];
  let i = 0;
  const block = (isNested: boolean): NginxDirective[] => {
    const out: NginxDirective[] = [];
    let words: string[] = [];
    while (i < tokens.length) {
      const token = tokens[i++]!;
      if (token.startsWith('#')) continue;
      if (token === ';') {
        out.push({ name: words[0]!, args: words.slice(1) });
        words = [];
      } else if (token === '{') {
        out.push({ name: words[0]!, args: words.slice(1), block: block(true) });
        words = [];
      } else if (token === '}') {
        if (!isNested || words.length > 0) throw new Error('unbalanced } in nginx configuration');
        return out;
      } else words.push(/^["']/.test(token) ? token.slice(1, -1) : token);
    }
    if (isNested || words.length > 0) throw new Error('unterminated nginx configuration');
    return out;
  };
  return block(false);
}

/** Directives named `name` directly inside `block`. */
export const directives = (block: NginxDirective[] | undefined, name: string) => (block ?? []).filter((d) => d.name === name);

/** A TCP port free at the time of asking. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Converts an nginx size (`100m`, `512k`, `1g`, bytes) to bytes. */
export function nginxSize(value: string): number {
  const m = /^(\d+)([kmg]?)$/i.exec(value);
  if (!m) throw new Error(`not an nginx size: ${value}`);
  return Number(m[1]) * ({ '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as Record<string, number>)[m[2]!.toLowerCase()]!;
}

/** Converts an nginx time (`3600s`, `1h`, `60`) to seconds. */
export function nginxSeconds(value: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(value);
  if (!m) throw new Error(`not an nginx time: ${value}`);
  return Number(m[1]) * ({ ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 } as Record<string, number>)[m[2] ?? 's']!;
}
