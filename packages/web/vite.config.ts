import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The dev server proxies every server path to a running Parley (PARLEY_URL, default :8080).
const target = process.env.PARLEY_URL ?? 'http://127.0.0.1:8080';
const proxied = ['/api', '/ollama', '/health', '/ready'];

export default defineConfig({
  plugins: [react()],
  server: { proxy: Object.fromEntries(proxied.map((path) => [path, { target, changeOrigin: false }])) },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // KaTeX fonts and highlight.js languages are separate small files; nothing should be inlined into the entry.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 600,
  },
});
