import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from './app-types.js';

/** Where the web app's build lands (packages/web/dist), the same depth from src/ and dist/. */
export const defaultWebDist = fileURLToPath(new URL('../../../web/dist', import.meta.url));

const apiPrefixes = ['/api/', '/ollama/', '/health', '/ready'];

/** True for the server's own paths (API, Ollama proxy, probes), as opposed to the web app's pages and files. */
export function isServerPath(url: string): boolean {
  const path = url.split('?')[0] ?? '';
  return apiPrefixes.some((prefix) => path.startsWith(prefix));
}

/**
 * CSP source expressions (`'sha256-…'`) of the inline scripts in the built index.html (the theme
 * applied before the first paint), so the policy allows exactly those and no other inline script,
 * without a blocking request for a separate file. Empty when the web app has not been built.
 */
export function inlineScriptHashes(root = defaultWebDist): string[] {
  let html: string;
  try {
    html = fs.readFileSync(`${root}/index.html`, 'utf8');
  } catch {
    return [];
  }
  return [...html.matchAll(/<script\b(?![^>]*\bsrc\s*=)[^>]*>([\s\S]*?)<\/script>/gi)].map(
    (match) => `'sha256-${createHash('sha256').update(match[1] ?? '', 'utf8').digest('base64')}'`,
  );
}

/**
 * Serves the built web app at `/`: hashed assets cached for a year, index.html
 * never cached. Returns the SPA fallback for unknown page paths, or undefined
 * when the web app has not been built.
 */
export async function serveWebApp(app: App, root = defaultWebDist) {
  if (!fs.existsSync(`${root}/index.html`)) return undefined;
  await app.register(fastifyStatic, {
    root,
    wildcard: true,
    index: 'index.html',
    // The build writes .br and .gz beside each asset; send those to clients that accept them.
    preCompressed: true,
    setHeaders: (reply, file) => {
      reply.header('cache-control', file.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  /** Client-side routes (/c/123, /admin) load index.html; API paths keep their JSON 404. */
  return (request: FastifyRequest, reply: FastifyReply): boolean => {
    if (request.method !== 'GET' || isServerPath(request.url)) return false;
    void reply.header('cache-control', 'no-cache').sendFile('index.html');
    return true;
  };
}
