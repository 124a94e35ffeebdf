// The lint project: the linter and the boundary checker pass on the checkout, and each rule is
// shown to fail on a violation planted for it (ESLint on text at a product path; the boundary
// rules on a temporary copy of the packages with planted files).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProblem, runBoundaries, runEslint, runEslintOnText } from '../checks.mjs';

const root = path.resolve(import.meta.dirname, '../../..');

interface Problem {
  rule: string;
  file: string;
  line?: number;
  message: string;
}

describe('the checkout', () => {
  it('eslint reports no problems', async () => {
    const problems: Problem[] = await runEslint(root);
    expect(problems.map(formatProblem)).toEqual([]);
  });

  it('boundary rules hold', async () => {
    const problems: Problem[] = await runBoundaries(root);
    expect(problems.map(formatProblem)).toEqual([]);
  });

  it('typescript-eslint runs on TypeScript 6 while the build keeps TypeScript 7', () => {
    const fromLint = createRequire(path.join(root, 'tools/lint/package.json'));
    const estree = fromLint.resolve('@typescript-eslint/typescript-estree');
    const lintTypescript = createRequire(estree)('typescript') as { version: string; createProgram: unknown };
    expect(lintTypescript.version).toMatch(/^6\./);
    expect(typeof lintTypescript.createProgram).toBe('function');
    const buildTypescript = JSON.parse(fs.readFileSync(path.join(root, 'node_modules/typescript/package.json'), 'utf8')) as { version: string };
    expect(buildTypescript.version).toMatch(/^7\./);
  });
});

describe('eslint fails on a planted violation', () => {
  const lint = async (file: string, text: string) => ((await runEslintOnText(root, file, text)) as Problem[]).map((p) => p.rule);
  const selectInService = "import type { Db } from '../../platform/db/connect.js';\nexport const find = (db: Db) => db.selectFrom('chats').selectAll().execute();\n";

  it('a query builder in a service', async () => {
    expect(await lint('packages/server/src/features/chats/planted.service.ts', selectInService)).toEqual(['no-restricted-syntax']);
    for (const name of ['insertInto', 'updateTable', 'deleteFrom']) {
      expect(await lint('packages/server/src/features/chats/planted.service.ts', selectInService.replace('selectFrom', name))).toEqual(['no-restricted-syntax']);
    }
  });

  it('but not in a repo nor under platform/db', async () => {
    expect(await lint('packages/server/src/features/chats/planted.repo.ts', selectInService)).toEqual([]);
    expect(await lint('packages/server/src/platform/db/planted.ts', selectInService.replace('../../platform/db/', './'))).toEqual([]);
  });

  it('raw sql outside a repo', async () => {
    expect(await lint('packages/server/src/http/planted.ts', "import { sql } from 'kysely';\nexport const now = sql`now()`;\n")).toEqual(['no-restricted-imports']);
  });

  it('an any without a reason', async () => {
    const file = 'packages/server/src/http/planted.ts';
    expect(await lint(file, 'export const parse = (text: string): any => JSON.parse(text);\n')).toEqual(['@typescript-eslint/no-explicit-any']);
    const disabled = '// eslint-disable-next-line @typescript-eslint/no-explicit-any\nexport const parse = (text: string): any => JSON.parse(text);\n';
    expect(await lint(file, disabled)).toEqual(['@eslint-community/eslint-comments/require-description']);
    const explained = disabled.replace('no-explicit-any', 'no-explicit-any -- the caller validates the shape');
    expect(await lint(file, explained)).toEqual([]);
  });
});

describe('the boundary checker fails on a planted violation', () => {
  let copy: string;
  let problems: Problem[];
  const plants: Record<string, string> = {
    'packages/server/src/platform/planted-platform.ts': "import { ChatsService } from '../features/chats/chats.service.js';\nexport const x = ChatsService;\n",
    'packages/server/src/http/planted-http.ts': "import { UsersService } from '../features/users/users.service.js';\nexport const x = UsersService;\n",
    'packages/server/src/features/chats/planted-reach.ts': "import * as repo from '../users/users.repo.js';\nexport const x = repo;\n",
    'packages/server/src/features/chats/planted-through-service.ts': "import * as users from '../users/users.service.js';\nexport const x = users;\n",
    'packages/server/src/platform/planted-cycle-a.ts': "import { b } from './planted-cycle-b.js';\nexport const a = () => b;\n",
    'packages/server/src/platform/planted-cycle-b.ts': "import { a } from './planted-cycle-a.js';\nexport const b = () => a;\n",
    // planta <-> plantb through their services only: no file cycle, no reach past a service, yet a feature cycle.
    'packages/server/src/features/planta/planta.service.ts': "import { b } from '../plantb/plantb.service.js';\nexport const a = () => b;\n",
    'packages/server/src/features/plantb/plantb.service.ts': 'export const b = 1;\n',
    'packages/server/src/features/plantb/plantb.routes.ts': "import { a } from '../planta/planta.service.js';\nexport const routes = a;\n",
    'packages/server/src/planted-fake.ts': "import * as fake from '../../fake-llm/src/index.js';\nexport const x = fake;\n",
    'packages/web/src/planted-server.ts': "import type { Config } from '../../server/src/config.js';\nexport type X = Config;\n",
    'packages/web/src/planted-fake.ts': "import * as fake from '@parley/fake-llm';\nexport const x = fake;\n",
    'packages/web/src/planted-wire-value.ts': "import * as wire from '@parley/wire';\nexport const x = wire;\n",
    'packages/web/src/planted-wire-type.ts': "import type { Planted } from '@parley/wire';\nexport type X = Planted;\n",
  };
  const rulesAt = (file: string) => problems.filter((p) => p.file === file).map((p) => p.rule).sort();

  beforeAll(async () => {
    copy = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-lint-'));
    for (const name of ['server', 'web', 'fake-llm', 'wire']) {
      const from = path.join(root, 'packages', name);
      if (!fs.existsSync(from)) continue;
      fs.cpSync(from, path.join(copy, 'packages', name), { recursive: true, filter: (file) => !/[/\\](node_modules|dist)$/.test(file) });
    }
    // A stand-in @parley/wire where that package is not (yet) in the checkout.
    const wire = path.join(copy, 'packages/wire');
    if (!fs.existsSync(wire)) {
      fs.mkdirSync(wire, { recursive: true });
      fs.writeFileSync(path.join(wire, 'package.json'), JSON.stringify({ name: '@parley/wire', type: 'module', exports: { '.': { types: './index.d.ts' } } }));
    }
    fs.appendFileSync(path.join(wire, 'index.d.ts'), '\nexport interface Planted { id: string }\n');
    // Workspace links, as npm makes them, so package imports resolve inside the copy.
    for (const name of ['fake-llm', 'wire', 'server']) {
      fs.mkdirSync(path.join(copy, 'node_modules/@parley'), { recursive: true });
      fs.symlinkSync(path.join(copy, 'packages', name), path.join(copy, 'node_modules/@parley', name));
    }
    for (const [file, text] of Object.entries(plants)) {
      fs.mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
      fs.writeFileSync(path.join(copy, file), text);
    }
    problems = await runBoundaries(copy);
  });
  afterAll(() => fs.rmSync(copy, { recursive: true, force: true }));

  it('a platform file importing a feature', () => {
    expect(rulesAt('packages/server/src/platform/planted-platform.ts')).toEqual(['platform-not-to-features-or-http']);
  });

  it('an http file importing a feature', () => {
    expect(rulesAt('packages/server/src/http/planted-http.ts')).toEqual(['http-not-to-features']);
  });

  it("a feature importing another feature's repo (but not its service)", () => {
    expect(rulesAt('packages/server/src/features/chats/planted-reach.ts')).toEqual(['feature-through-service-only']);
    expect(rulesAt('packages/server/src/features/chats/planted-through-service.ts')).toEqual([]);
  });

  it('a two-file cycle', () => {
    expect(rulesAt('packages/server/src/platform/planted-cycle-a.ts')).toEqual(['no-file-cycle']);
  });

  it('a cycle between features', () => {
    const cycle = problems.find((p) => p.rule === 'no-feature-cycle' && p.file.endsWith('{planta,plantb}'));
    expect(cycle?.message).toContain('plantb/plantb.routes.ts -> planta/planta.service.ts');
    expect(rulesAt('packages/server/src/features/planta/planta.service.ts')).toEqual([]);
  });

  it('the server importing the fake model server', () => {
    expect(rulesAt('packages/server/src/planted-fake.ts')).toEqual(['product-not-to-fake-llm']);
  });

  it('the web app importing the server or the fake model server', () => {
    expect(rulesAt('packages/web/src/planted-server.ts')).toEqual(['web-only-over-http']);
    expect(rulesAt('packages/web/src/planted-fake.ts')).toEqual(['product-not-to-fake-llm', 'web-only-over-http']);
  });

  it('the web app importing @parley/wire for more than types', () => {
    expect(rulesAt('packages/web/src/planted-wire-value.ts')).toEqual(['web-wire-types-only']);
    expect(rulesAt('packages/web/src/planted-wire-type.ts')).toEqual([]);
  });
});
