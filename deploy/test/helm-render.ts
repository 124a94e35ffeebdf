/* eslint-disable @typescript-eslint/no-explicit-any -- parsed YAML and JSON documents of arbitrary shape, read field by field */
// A strict renderer for the subset of Helm's Go templates that deploy/helm/parley
// uses, so the tests can render the chart without a helm binary. It refuses
// (throws) any construct or function it does not implement instead of guessing:
// the chart must stay within this subset, and the error names what to add here
// when it grows. Known differences from Helm that do not change the parsed YAML:
// toYaml keeps the values' key order (Helm sorts keys) and may quote differently
// (both quote YAML 1.1 booleans such as `off`);
// `quote` escapes as JSON (Go's %q differs only for non-ASCII and control bytes).
//
// Implemented: text/action tokens with `{{-`/`-}}` trimming; comments;
// if / else if / else / end; range over lists and maps (`range $v := …`,
// `range $k, $v := …`, keys sorted as Go does); define / include; variables
// (`$x := …`, `$x = …`); pipelines, parentheses, string/number/bool literals;
// .Values/.Chart/.Release fields; the functions in `functions` below.
// Not implemented (throws): `with`, `template`, `block`, `tpl`, a bare `.`
// re-bound inside range, and every function not listed.
// Cluster-dependent or random values (`lookup`, `randAlphaNum`) are UNKNOWN: an
// `if` on an UNKNOWN counts as true or false as `unknownConditions` says (the
// tests render both, so the branches that depend on the cluster are all parsed),
// and printing one writes a placeholder scalar `tpl-<hash of the action>` (valid
// YAML, equal for equal actions).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

/** A value the renderer cannot know without a cluster (lookup) or that is random. */
export const UNKNOWN = Symbol('unknown');

/** The chart called `fail` or `required`: what `helm install` would stop with. */
export class ChartFailure extends Error {}

/** A parsed template node. */
export type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; expr: string }
  | { kind: 'if'; branches: { cond: string | null; body: Node[] }[] }
  | { kind: 'range'; keyVar?: string; valueVar?: string; expr: string; body: Node[] };

interface Scope {
  root: Record<string, unknown>;
  vars: Map<string, unknown>;
  defines: Map<string, Node[]>;
  unknownConditions: 'true' | 'false';
}

function tokenize(src: string): { text?: string; action?: string }[] {
  const tokens: { text?: string; action?: string }[] = [];
  const re = /\{\{(-\s)?([\s\S]*?)(\s-)?\}\}/g;
  let last = 0;
  let trimNext = false;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    let text = src.slice(last, m.index);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (m[1]) text = text.replace(/\s+$/, '');
    tokens.push({ text });
    const body = (m[2] ?? '').trim();
    if (!(body.startsWith('/*') && body.endsWith('*/'))) tokens.push({ action: body });
    trimNext = Boolean(m[3]);
    last = m.index + m[0].length;
  }
  tokens.push({ text: trimNext ? src.slice(last).replace(/^\s+/, '') : src.slice(last) });
  return tokens;
}

function parse(src: string, defines: Map<string, Node[]>): Node[] {
  const tokens = tokenize(src);
  let i = 0;
  const block = (terminators: RegExp): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (i < tokens.length) {
      const token = tokens[i++]!;
      if (token.text !== undefined) {
        if (token.text) nodes.push({ kind: 'text', text: token.text });
        continue;
      }
      const action = token.action!;
      if (terminators.test(action)) return { nodes, end: action };
      const keyword = /^(\w+)\b\s*([\s\S]*)$/.exec(action);
      const [word, rest] = [keyword?.[1], keyword?.[2] ?? ''];
      if (word === 'if') {
        const branches: { cond: string | null; body: Node[] }[] = [];
        let cond: string | null = rest;
        for (;;) {
          const part = block(/^(else|end)\b/);
          branches.push({ cond, body: part.nodes });
          if (part.end === 'end') break;
          if (part.end === 'else') cond = null;
          else if (/^else if\b/.test(part.end)) cond = part.end.replace(/^else if\s+/, '');
          else throw new Error(`unsupported: {{ ${part.end} }}`);
        }
        nodes.push({ kind: 'if', branches });
      } else if (word === 'range') {
        const head = /^(?:(\$\w+)\s*(?:,\s*(\$\w+)\s*)?:=\s*)?([\s\S]+)$/.exec(rest)!;
        const [keyVar, valueVar] = head[2] ? [head[1], head[2]] : [undefined, head[1]];
        if (!valueVar) throw new Error(`unsupported: range without a variable (re-binds .): {{ ${action} }}`);
        const part = block(/^end$/);
        nodes.push({ kind: 'range', keyVar, valueVar, expr: head[3]!, body: part.nodes });
      } else if (word === 'define') {
        const name = JSON.parse(rest) as string;
        defines.set(name, block(/^end$/).nodes);
      } else if (word && ['with', 'template', 'block', 'else', 'end'].includes(word)) {
        throw new Error(`unsupported: {{ ${action} }}`);
      } else nodes.push({ kind: 'action', expr: action });
    }
    if (terminators.source !== '(?!)') throw new Error('unterminated block: missing {{ end }}');
    return { nodes, end: '' };
  };
  return block(/(?!)/).nodes;
}

const isEmpty = (v: unknown): boolean =>
  v === undefined || v === null || v === false || v === '' || v === 0 || v === 0n ||
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);

/**
 * Numbers as Go prints them. Helm reads every number in values as float64, which
 * prints as %g (1e+06 for 1000000: the classic Helm pitfall, kept on purpose);
 * template literals and int/add results are Go ints (BigInt here).
 */
function goString(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v !== 'number') return String(v);
  if (v === 0 || !Number.isFinite(v)) return String(v);
  const [mantissa, exponent] = v.toExponential().split('e') as [string, string];
  const exp = Number(exponent);
  if (exp < -4 || exp >= 6) {
    return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(v);
}

/** Go refuses to order or compare a float with an int (incompatible types for comparison). */
function comparable(a: unknown, b: unknown): [number, number] {
  if ((typeof a === 'bigint' && typeof b === 'number') || (typeof a === 'number' && typeof b === 'bigint')) {
    throw new Error('incompatible types for comparison (a values number is float64: convert it with int)');
  }
  return [Number(a), Number(b)];
}

const indentLines = (n: number, s: string) => s.split('\n').map((line) => ' '.repeat(n) + line).join('\n');

/** Sprig/Go functions the chart may use; each gets evaluated arguments (a piped value comes last). */
const functions: Record<string, (scope: Scope, ...args: unknown[]) => unknown> = {
  include: (scope, name, ctx) => {
    const body = scope.defines.get(String(name));
    if (!body) throw new Error(`include: no template named ${String(name)}`);
    if (ctx !== scope.root) throw new Error('include: only . or $ is supported as the context');
    return renderNodes(body, { ...scope, vars: new Map() });
  },
  toYaml: (_s, v) => (isEmpty(v) && typeof v === 'object' ? (Array.isArray(v) ? '[]' : '{}') : YAML.stringify(v, { lineWidth: 0, version: '1.1' }).replace(/\n$/, '')),
  nindent: (_s, n, v) => '\n' + indentLines(Number(n), String(v)),
  indent: (_s, n, v) => indentLines(Number(n), String(v)),
  quote: (_s, v) => JSON.stringify(v === undefined || v === null ? '' : goString(v)),
  default: (_s, d, v) => (isEmpty(v) ? d : v),
  required: (_s, message, v) => {
    if (isEmpty(v)) throw new ChartFailure(String(message));
    return v;
  },
  fail: (_s, message) => {
    throw new ChartFailure(String(message));
  },
  trunc: (_s, n, v) => String(v).slice(0, Number(n)),
  trimSuffix: (_s, suffix, v) => (String(v).endsWith(String(suffix)) ? String(v).slice(0, -String(suffix).length) : String(v)),
  contains: (_s, needle, v) => String(v).includes(String(needle)),
  replace: (_s, from, to, v) => String(v).split(String(from)).join(String(to)),
  printf: (_s, format, ...args) =>
    String(format).replace(/%[sdv]/g, (verb) => {
      const arg = args.shift();
      if (verb === '%d' && typeof arg !== 'bigint') throw new Error('printf %d of a non-int');
      return goString(arg);
    }),
  toString: (_s: Scope, v: unknown) => goString(v),
  int: (_s, v) => BigInt(Math.trunc(Number(v))),
  add: (_s, ...args) => args.reduce((sum: bigint, v) => sum + BigInt(Math.trunc(Number(v))), 0n),
  b64enc: (_s, v) => Buffer.from(String(v)).toString('base64'),
  not: (_s, v) => isEmpty(v),
  and: () => undefined, // evaluated in evalCommand
  or: () => undefined,
  eq: (_s, a, b) => {
    const [x, y] = typeof a === 'string' || typeof b === 'string' ? [a, b] : comparable(a, b);
    return x === y;
  },
  ne: (_s, a, b) => !functions.eq!(_s, a, b),
  lt: (_s, a, b) => ((x, y) => x < y)(...comparable(a, b)),
  le: (_s, a, b) => ((x, y) => x <= y)(...comparable(a, b)),
  gt: (_s, a, b) => ((x, y) => x > y)(...comparable(a, b)),
  ge: (_s, a, b) => ((x, y) => x >= y)(...comparable(a, b)),
  index: (_s, collection, ...keys) => keys.reduce((v: unknown, k) => (v as Record<string, unknown> | undefined)?.[String(k)], collection),
  lookup: () => UNKNOWN,
  randAlphaNum: () => UNKNOWN,
};
/** Functions that decide from their arguments alone, so an UNKNOWN argument makes an UNKNOWN result. */
const lazy = new Set(['and', 'or']);

function lex(expr: string): string[] {
  const out = expr.match(/"(?:[^"\\]|\\.)*"|`[^`]*`|:=|[()|=]|[^\s()|]+/g);
  if (!out) throw new Error(`empty action`);
  return out;
}

function evalPipeline(words: string[], scope: Scope): unknown {
  const commands: string[][] = [[]];
  let depth = 0;
  for (const word of words) {
    if (word === '(') depth++;
    if (word === ')') depth--;
    if (word === '|' && depth === 0) commands.push([]);
    else commands[commands.length - 1]!.push(word);
  }
  let piped: unknown = undefined;
  commands.forEach((command, n) => {
    piped = evalCommand(command, scope, n === 0 ? [] : [piped]);
  });
  return piped;
}

function evalCommand(words: string[], scope: Scope, piped: unknown[]): unknown {
  const operands: unknown[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === '(') {
      let depth = 1;
      const start = i + 1;
      while (depth > 0) {
        i++;
        if (words[i] === '(') depth++;
        if (words[i] === ')') depth--;
        if (i >= words.length) throw new Error('unbalanced parentheses');
      }
      operands.push(evalPipeline(words.slice(start, i), scope));
    } else operands.push(evalOperand(word, scope, i === 0));
  }
  const [head, ...args] = operands;
  if (typeof head === 'function') {
    const all = [...args, ...piped];
    const name = words[0]!;
    if (lazy.has(name)) {
      // Go's and/or stop at the first argument that decides; an UNKNOWN before it leaves the result unknown.
      for (const v of all) {
        if (v === UNKNOWN) return UNKNOWN;
        if (name === 'and' ? isEmpty(v) : !isEmpty(v)) return v;
      }
      return all[all.length - 1];
    }
    if (all.includes(UNKNOWN)) return UNKNOWN;
    return (head as (scope: Scope, ...args: unknown[]) => unknown)(scope, ...all);
  }
  if (operands.length !== 1 || piped.length > 0) throw new Error(`cannot call a non-function: ${words.join(' ')}`);
  return head;
}

/** Field access as Go does it: a missing map key is nil (printed as ""), a field of nil is an error. */
function walk(value: unknown, fields: string[], word: string): unknown {
  let v = value;
  for (const field of fields) {
    if (v === UNKNOWN) return UNKNOWN;
    if (v === undefined || v === null) throw new Error(`nil pointer evaluating ${word}`);
    v = (v as Record<string, unknown>)[field];
  }
  return v;
}

function evalOperand(word: string, scope: Scope, isHead: boolean): unknown {
  if (word.startsWith('"')) return JSON.parse(word);
  if (word.startsWith('`')) return word.slice(1, -1);
  if (/^-?\d+$/.test(word)) return BigInt(word);
  if (/^-?\d+\.\d+$/.test(word)) return Number(word);
  if (word === 'true' || word === 'false') return word === 'true';
  if (word === 'nil') return null;
  if (word === '.' || word === '$') return scope.root;
  if (word.startsWith('.')) return walk(scope.root, word.slice(1).split('.'), word);
  if (word.startsWith('$.')) return walk(scope.root, word.slice(2).split('.'), word);
  if (word.startsWith('$')) {
    const [name, ...fields] = word.split('.');
    if (!scope.vars.has(name!)) throw new Error(`undefined variable ${name}`);
    return walk(scope.vars.get(name!), fields, word);
  }
  const fn = Object.hasOwn(functions, word) ? functions[word] : undefined;
  if (!fn || !isHead) throw new Error(`unsupported function or word: ${word}`);
  return fn;
}

function evalAction(expr: string, scope: Scope): unknown {
  const words = lex(expr);
  if (words[0]?.startsWith('$') && (words[1] === ':=' || words[1] === '=')) {
    scope.vars.set(words[0], evalPipeline(words.slice(2), scope));
    return undefined;
  }
  return evalPipeline(words, scope);
}

function print(value: unknown, expr: string): string {
  if (value === UNKNOWN) return `tpl-${createHash('sha1').update(expr).digest('hex').slice(0, 8)}`;
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') throw new Error(`printing a map or list needs toYaml: {{ ${expr} }}`);
  return goString(value);
}

function renderNodes(nodes: Node[], scope: Scope): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'action') {
      const isAssignment = /^\$\w+\s*:?=/.test(node.expr);
      const value = evalAction(node.expr, scope);
      if (!isAssignment) out += print(value, node.expr);
    } else if (node.kind === 'if') {
      // Branches are tried in order, as Go does; an UNKNOWN condition counts as true or false, as the caller chose.
      const chosen = node.branches.find((branch) => {
        if (branch.cond === null) return true;
        const value = evalAction(branch.cond, scope);
        return value === UNKNOWN ? scope.unknownConditions === 'true' : !isEmpty(value);
      });
      if (chosen) out += renderNodes(chosen.body, scope);
    } else {
      const collection = evalAction(node.expr, scope);
      if (collection === UNKNOWN) throw new Error(`range over an unknown value: ${node.expr}`);
      if (isEmpty(collection)) continue;
      const entries: [unknown, unknown][] = Array.isArray(collection)
        ? collection.map((v, i) => [i, v])
        : Object.keys(collection as object).sort().map((k) => [k, (collection as Record<string, unknown>)[k]]);
      for (const [key, value] of entries) {
        if (node.keyVar) scope.vars.set(node.keyVar, key);
        scope.vars.set(node.valueVar!, value);
        out += renderNodes(node.body, scope);
      }
    }
  }
  return out;
}

/** Deep-merges overrides into values as `helm --set`/`-f` do (maps merge, null deletes, the rest replaces). */
export function mergeValues(base: unknown, over: unknown): unknown {
  if (typeof base !== 'object' || base === null || Array.isArray(base)) return over;
  if (typeof over !== 'object' || over === null || Array.isArray(over)) return over;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(over)) {
    if (value === null) delete out[key];
    else out[key] = mergeValues(out[key], value);
  }
  return out;
}

/** Renders one template source with the given root context; defines are shared with the caller. */
export function renderTemplate(
  src: string,
  root: Record<string, unknown>,
  options: { defines?: Map<string, Node[]>; unknownConditions?: 'true' | 'false' } = {},
): string {
  const defines = options.defines ?? new Map<string, Node[]>();
  const nodes = parse(src, defines);
  return renderNodes(nodes, { root, vars: new Map(), defines, unknownConditions: options.unknownConditions ?? 'true' });
}

/** One rendered chart file. */
export interface RenderedFile {
  file: string;
  text: string;
}

/** Renders every template of a chart folder with values.yaml merged with `overrides`. */
export function renderChart(
  chartDir: string,
  overrides: unknown = {},
  options: { unknownConditions?: 'true' | 'false'; release?: string; namespace?: string } = {},
): RenderedFile[] {
  const chart = YAML.parse(fs.readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, string>;
  const values = mergeValues(YAML.parse(fs.readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')), overrides);
  const root: Record<string, unknown> = {
    Values: values,
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
    Release: { Name: options.release ?? 'parley', Namespace: options.namespace ?? 'default', Service: 'Helm', IsInstall: true, IsUpgrade: false },
  };
  const dir = path.join(chartDir, 'templates');
  const files = fs.readdirSync(dir).sort();
  const defines = new Map<string, Node[]>();
  for (const file of files.filter((f) => f.startsWith('_'))) parse(fs.readFileSync(path.join(dir, file), 'utf8'), defines);
  return files
    .filter((f) => !f.startsWith('_'))
    .map((file) => ({
      file,
      text: renderTemplate(fs.readFileSync(path.join(dir, file), 'utf8'), root, { defines, unknownConditions: options.unknownConditions }),
    }));
}

/** Parses rendered YAML files into Kubernetes objects (empty documents dropped); throws on any YAML error. */
export function toObjects(files: RenderedFile[]): { file: string; object: Record<string, any> }[] {
  const objects: { file: string; object: Record<string, any> }[] = [];
  for (const { file, text } of files.filter((f) => /\.ya?ml$/.test(f.file))) {
    // YAML 1.1, as Kubernetes reads manifests: an unquoted `off` or `yes` is a boolean there.
    for (const doc of YAML.parseAllDocuments(text, { uniqueKeys: true, version: '1.1' })) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}\n${text}`);
      const object = doc.toJS() as Record<string, any> | null;
      if (object !== null) objects.push({ file, object });
    }
  }
  return objects;
}
