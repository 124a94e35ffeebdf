import { memo, useEffect, useState } from 'react';
import { CopyButton } from '../../components/CopyButton';
import { highlight } from './highlight';

/** A fenced code block: language label, copy button, and highlighting once its language has loaded. */
export const CodeBlock = memo(function CodeBlock({ code, language }: { code: string; language: string }) {
  const [html, setHtml] = useState<string | null>(null);

  useEffect(() => {
    let isCurrent = true;
    if (!language) {
      setHtml(null);
      return;
    }
    highlight(code, language).then(
      (value) => isCurrent && setHtml(value),
      () => isCurrent && setHtml(null),
    );
    return () => {
      isCurrent = false;
    };
  }, [code, language]);

  return (
    <div className="code-block">
      <div className="code-block__bar">
        <span className="code-block__lang">{language || 'text'}</span>
        <CopyButton text={code} label="Copy code" showText />
      </div>
      <pre>
        {html === null ? (
          <code className="hljs">{code}</code>
        ) : (
          // highlight.js escapes the code it returns.
          <code className="hljs" dangerouslySetInnerHTML={{ __html: html }} />
        )}
      </pre>
    </div>
  );
});
