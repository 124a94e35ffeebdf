import type { HLJSApi, LanguageFn } from 'highlight.js';

type Loader = () => Promise<{ default: LanguageFn }>;

// Each language is its own small chunk, fetched the first time a code block uses it.
const loaders: Record<string, Loader> = {
  bash: () => import('highlight.js/lib/languages/bash'),
  c: () => import('highlight.js/lib/languages/c'),
  cpp: () => import('highlight.js/lib/languages/cpp'),
  csharp: () => import('highlight.js/lib/languages/csharp'),
  css: () => import('highlight.js/lib/languages/css'),
  diff: () => import('highlight.js/lib/languages/diff'),
  dockerfile: () => import('highlight.js/lib/languages/dockerfile'),
  go: () => import('highlight.js/lib/languages/go'),
  graphql: () => import('highlight.js/lib/languages/graphql'),
  ini: () => import('highlight.js/lib/languages/ini'),
  java: () => import('highlight.js/lib/languages/java'),
  javascript: () => import('highlight.js/lib/languages/javascript'),
  json: () => import('highlight.js/lib/languages/json'),
  kotlin: () => import('highlight.js/lib/languages/kotlin'),
  lua: () => import('highlight.js/lib/languages/lua'),
  makefile: () => import('highlight.js/lib/languages/makefile'),
  markdown: () => import('highlight.js/lib/languages/markdown'),
  php: () => import('highlight.js/lib/languages/php'),
  plaintext: () => import('highlight.js/lib/languages/plaintext'),
  python: () => import('highlight.js/lib/languages/python'),
  r: () => import('highlight.js/lib/languages/r'),
  ruby: () => import('highlight.js/lib/languages/ruby'),
  rust: () => import('highlight.js/lib/languages/rust'),
  scss: () => import('highlight.js/lib/languages/scss'),
  sql: () => import('highlight.js/lib/languages/sql'),
  swift: () => import('highlight.js/lib/languages/swift'),
  typescript: () => import('highlight.js/lib/languages/typescript'),
  xml: () => import('highlight.js/lib/languages/xml'),
  yaml: () => import('highlight.js/lib/languages/yaml'),
};

const aliases: Record<string, string> = {
  sh: 'bash', shell: 'bash', zsh: 'bash', console: 'bash', 'c++': 'cpp', cc: 'cpp', h: 'c', cs: 'csharp', 'c#': 'csharp',
  docker: 'dockerfile', golang: 'go', toml: 'ini', js: 'javascript', jsx: 'javascript', mjs: 'javascript', kt: 'kotlin',
  md: 'markdown', text: 'plaintext', txt: 'plaintext', py: 'python', rb: 'ruby', rs: 'rust', ts: 'typescript',
  tsx: 'typescript', html: 'xml', svg: 'xml', vue: 'xml', yml: 'yaml',
};

let core: Promise<HLJSApi> | undefined;
const registered = new Map<string, Promise<boolean>>();

/** The canonical name of a fence's language, or null when no highlighter is known for it. */
export function languageName(fence: string): string | null {
  const name = fence.toLowerCase();
  const canonical = aliases[name] ?? name;
  return canonical in loaders ? canonical : null;
}

async function ensure(language: string): Promise<HLJSApi | null> {
  const loader = loaders[language];
  if (!loader) return null;
  core ??= import('highlight.js/lib/core').then((module) => module.default);
  const hljs = await core;
  let ready = registered.get(language);
  if (!ready) {
    ready = loader().then((module) => (hljs.registerLanguage(language, module.default), true)).catch(() => false);
    registered.set(language, ready);
  }
  return (await ready) ? hljs : null;
}

/** Highlighted HTML of `code` (escaped by highlight.js), or null when the language is unknown. */
export async function highlight(code: string, fence: string): Promise<string | null> {
  const language = languageName(fence);
  if (!language) return null;
  const hljs = await ensure(language);
  return hljs ? hljs.highlight(code, { language, ignoreIllegals: true }).value : null;
}
