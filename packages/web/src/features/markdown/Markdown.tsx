import { isValidElement, memo, useEffect, useState, type ReactNode } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import remarkGfm from 'remark-gfm';
import { CodeBlock } from './CodeBlock';
import { MarkdownImage, urlTransform } from './images';
import { hasMath, loadedMath, loadMath, normaliseMathDelimiters, type MathPlugins } from './math';

function textOf(node: ReactNode): string {
  if (typeof node === 'string' || typeof node === 'number') return String(node);
  if (Array.isArray(node)) return node.map(textOf).join('');
  if (isValidElement<{ children?: ReactNode }>(node)) return textOf(node.props.children);
  return '';
}

const shared: Components = {
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

/** Remote images shown as links (the default), or loaded (an admin allowed them). */
const components: Components = { ...shared, img: ({ src, alt, title }) => <MarkdownImage src={src} alt={alt} title={title} allowRemote={false} /> };
const componentsWithRemoteImages: Components = { ...shared, img: ({ src, alt, title }) => <MarkdownImage src={src} alt={alt} title={title} allowRemote /> };

const gfmOnly = [remarkGfm];

function useMath(isNeeded: boolean): MathPlugins | null {
  const [plugins, setPlugins] = useState(loadedMath);
  useEffect(() => {
    if (isNeeded && !plugins) void loadMath().then(setPlugins);
  }, [isNeeded, plugins]);
  return isNeeded ? plugins : null;
}

/**
 * Renders a message's Markdown: GFM (tables, lists, task lists), highlighted code and, when present,
 * KaTeX math. Images from other sites are shown as links unless `allowRemoteImages`.
 */
export const Markdown = memo(function Markdown({ content, allowRemoteImages = false }: { content: string; allowRemoteImages?: boolean }) {
  const isMath = hasMath(content) || content.includes('\\(') || content.includes('\\[');
  const math = useMath(isMath);
  return (
    <div className="markdown">
      <ReactMarkdown
        remarkPlugins={math ? [remarkGfm, ...math.remark] : gfmOnly}
        rehypePlugins={math ? math.rehype : undefined}
        components={allowRemoteImages ? componentsWithRemoteImages : components}
        urlTransform={urlTransform}
      >
        {math ? normaliseMathDelimiters(content) : content}
      </ReactMarkdown>
    </div>
  );
});
