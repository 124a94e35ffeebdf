import type { Options } from 'react-markdown';

type PluggableList = NonNullable<Options['remarkPlugins']>;

/** remark and rehype plugins for math. */
export interface MathPlugins {
  remark: PluggableList;
  rehype: PluggableList;
}

let loaded: MathPlugins | null = null;
let loading: Promise<MathPlugins> | undefined;

/** Whether text seems to contain TeX math, so KaTeX is worth loading. */
export function hasMath(text: string): boolean {
  // Pandoc's rule for inline math: no space inside either $, and no digit right after the closing one (so prices are not math).
  return /\$\$|\\\(|\\\[|(^|[^\\$\w])\$(?=\S)[^$\n]*?\S\$(?!\d)/.test(text);
}

/** The math plugins once loaded, else null. */
export const loadedMath = () => loaded;

/** Loads KaTeX and its plugins (and styles) on first use. */
export function loadMath(): Promise<MathPlugins> {
  loading ??= Promise.all([import('remark-math'), import('rehype-katex'), import('katex/dist/katex.min.css')]).then(([remarkMath, rehypeKatex]) => {
    loaded = { remark: [remarkMath.default], rehype: [[rehypeKatex.default, { throwOnError: false, strict: false }]] };
    return loaded;
  });
  return loading;
}

/** Rewrites \( \) and \[ \] (which models often write) to $ and $$ outside code. */
export function normaliseMathDelimiters(text: string): string {
  if (!text.includes('\\(') && !text.includes('\\[')) return text;
  return text
    .split(/(```[\s\S]*?(?:```|$)|`[^`\n]*`)/)
    .map((part, index) =>
      index % 2 === 1
        ? part
        : part.replace(/\\\[([\s\S]+?)\\\]/g, (_m, tex: string) => `$$${tex}$$`).replace(/\\\(([\s\S]+?)\\\)/g, (_m, tex: string) => `$${tex}$`),
    )
    .join('');
}
