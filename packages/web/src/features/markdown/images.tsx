import type { ReactNode } from 'react';
import { defaultUrlTransform, type UrlTransform } from 'react-markdown';
import { Icon } from '../../components/Icon';

/**
 * react-markdown's URL filter, letting `data:image/…` and `blob:` through for images only
 * (an <img> runs no script whatever it holds; links keep the default filter).
 */
export const urlTransform: UrlTransform = (url, key, node) =>
  key === 'src' && node.tagName === 'img' && /^(data:image\/|blob:)/i.test(url) ? url : defaultUrlTransform(url);

/** True for images the page may load without asking anyone: its own files, pasted `data:` and local `blob:` URLs. */
export function isLocalImage(src: string): boolean {
  try {
    const url = new URL(src, window.location.href);
    return url.protocol === 'data:' || url.protocol === 'blob:' || url.origin === window.location.origin;
  } catch {
    return false;
  }
}

/** True for an http(s) URL on another site. */
function isWebUrl(src: string): boolean {
  try {
    const { protocol } = new URL(src, window.location.href);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

/**
 * A Markdown image. A remote one is fetched only when the instance allows remote images:
 * otherwise its URL could carry what a prompt injection asked the model to leak, and loading
 * it would send that to another site without anyone clicking. It is then shown as a link
 * (alt text and URL) that the reader can open, seeing where it goes.
 */
export function MarkdownImage({ src, alt, title, allowRemote }: { src?: string | Blob; alt?: string; title?: string; allowRemote: boolean }): ReactNode {
  if (typeof src !== 'string' || src === '') return alt ? <span>{alt}</span> : null;
  if (isLocalImage(src) || (allowRemote && isWebUrl(src))) {
    return <img src={src} alt={alt ?? ''} title={title} loading="lazy" referrerPolicy="no-referrer" />;
  }
  return (
    <a className="remote-image" href={src} target="_blank" rel="noopener noreferrer" title="Image from another site, not loaded">
      <Icon name="image" size={14} />
      <span className="remote-image__alt">{alt || 'Image'}</span> <span className="remote-image__url">{src}</span>
    </a>
  );
}
