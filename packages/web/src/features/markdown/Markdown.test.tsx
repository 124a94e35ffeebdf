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
