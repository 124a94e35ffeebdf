import { isValidElement, memo, useEffect, useState, type ReactNode } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import remarkGfm from 'remark-gfm';
import { CodeBlock } from './CodeBlock';
import { hasMath, loadedMath, loadMath, normaliseMathDelimiters, type MathPlugins } from './math';

function textOf(node: ReactNode): string {
  if (typeof node === 'string' || typeof node === 'number') return String(node);
  if (Array.isArray(node)) return node.map(textOf).join('');
  if (isValidElement<{ children?: ReactNode }>(node)) return textOf(node.props.children);
  return '';
}

const components: Components = {
  pre({ children }) {
    const code = isValidElement<{ className?: string; children?: ReactNode }>(children) ? children : null;
    const language = /language-([\w+#.-]+)/.exec(code?.props.className ?? '')?.[1] ?? '';
    return <CodeBlock code={textOf(code?.props.children ?? children).replace(/\n$/, '')} language={language} />;
  },
  a({ children, href }) {
    return (
      <a href={href} target="_blank" rel="noopener noreferrer">
        {children}
      </a>
    );
  },
  table({ children }) {
    return (
      <div className="table-scroll">
        <table>{children}</table>
      </div>
    );
  },
};

const gfmOnly = [remarkGfm];

function useMath(isNeeded: boolean): MathPlugins | null {
  const [plugins, setPlugins] = useState(loadedMath);
  useEffect(() => {
    if (isNeeded && !plugins) void loadMath().then(setPlugins);
  }, [isNeeded, plugins]);
  return isNeeded ? plugins : null;
}

/** Renders a message's Markdown: GFM (tables, lists, task lists), highlighted code and, when present, KaTeX math. */
export const Markdown = memo(function Markdown({ content }: { content: string }) {
  const isMath = hasMath(content) || content.includes('\\(') || content.includes('\\[');
  const math = useMath(isMath);
  return (
    <div className="markdown">
      <ReactMarkdown
        remarkPlugins={math ? [remarkGfm, ...math.remark] : gfmOnly}
        rehypePlugins={math ? math.rehype : undefined}
        components={components}
      >
        {math ? normaliseMathDelimiters(content) : content}
      </ReactMarkdown>
    </div>
  );
});
