/*
 * Turning what an uploader claims about a file into values that are safe to
 * store and to send back in response headers.
 */

const MAX_FILENAME_LENGTH = 255;

/** Keeps the uploaded name for display: last path component, no control characters, at most 255 characters. */
export function cleanFilename(raw: string | undefined): string {
  const base = (raw ?? '').split(/[/\\]/).pop() ?? '';
  const printable = base
    // eslint-disable-next-line no-control-regex -- stripping control characters is the point
    .replace(/[\u0000-\u001f\u007f]/g, '')
    // A lone surrogate cannot be percent-encoded into a header later.
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .trim();
  // Array.from splits by code point, so a surrogate pair is never cut in half.
  const bounded = Array.from(printable).slice(0, MAX_FILENAME_LENGTH).join('');
  return bounded === '' || bounded === '.' || bounded === '..' ? 'file' : bounded;
}

/** The declared media type if it is well formed (`type/subtype`, lower-cased), else application/octet-stream. */
export function cleanContentType(raw: string | undefined): string {
  const essence = (raw ?? '').split(';')[0]!.trim().toLowerCase();
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/.test(essence)
    ? essence
    : 'application/octet-stream';
}

/** True for types a browser would run as a page or script when opened from our origin. */
export function isActiveContent(contentType: string): boolean {
  return (
    /html|javascript|ecmascript|\/xsl/.test(contentType) ||
    // XML documents (SVG included) can carry scripts; multipart/x-mixed-replace can carry HTML.
    /[/+]xml$/.test(contentType) ||
    contentType.startsWith('multipart/')
  );
}

/** A `Content-Disposition` value with an ASCII fallback and the exact name in RFC 5987 form. */
export function contentDisposition(kind: 'inline' | 'attachment', filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
