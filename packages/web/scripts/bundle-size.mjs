#!/usr/bin/env node
// Prints the gzipped size of every built asset and of the first-load JavaScript
// (the entry script plus the chunks index.html preloads), and records them in
// dist/bundle-size.json. Runs after `vite build`.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const dist = path.resolve(import.meta.dirname, '..', 'dist');
const budgetKb = 250;
const gzip = (file) => zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;
const kb = (bytes) => (bytes / 1024).toFixed(1);

const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
const firstLoad = new Set([...html.matchAll(/(?:src|href)="\/?(assets\/[^"]+\.(?:js|css))"/g)].map((match) => match[1]));

const assets = fs
  .readdirSync(path.join(dist, 'assets'))
  .filter((name) => /\.(js|css)$/.test(name))
  .map((name) => {
    const file = path.join(dist, 'assets', name);
    return { name: `assets/${name}`, bytes: fs.statSync(file).size, gzip: gzip(file) };
  })
  .sort((a, b) => b.gzip - a.gzip);

const firstJs = assets.filter((asset) => firstLoad.has(asset.name) && asset.name.endsWith('.js'));
const firstCss = assets.filter((asset) => firstLoad.has(asset.name) && asset.name.endsWith('.css'));
const sum = (list, key) => list.reduce((total, asset) => total + asset[key], 0);
const lazyJs = assets.filter((asset) => !firstLoad.has(asset.name) && asset.name.endsWith('.js'));

const report = {
  firstLoadJsGzipKb: Number(kb(sum(firstJs, 'gzip'))),
  firstLoadCssGzipKb: Number(kb(sum(firstCss, 'gzip'))),
  lazyJsChunks: lazyJs.length,
  lazyJsGzipKb: Number(kb(sum(lazyJs, 'gzip'))),
  assets,
};
fs.writeFileSync(path.join(dist, 'bundle-size.json'), `${JSON.stringify(report, null, 2)}\n`);

const largest = assets.slice(0, 8).map((asset) => `  ${asset.name.padEnd(48)} ${kb(asset.gzip).padStart(7)} KB gz${firstLoad.has(asset.name) ? '  (first load)' : ''}`);
console.log(
  [
    `web bundle: first-load JS ${kb(sum(firstJs, 'gzip'))} KB gzipped (budget ${budgetKb} KB), CSS ${kb(sum(firstCss, 'gzip'))} KB; ${lazyJs.length} lazy chunks, ${kb(sum(lazyJs, 'gzip'))} KB`,
    ...largest,
  ].join('\n'),
);
if (sum(firstJs, 'gzip') > budgetKb * 1024) {
  console.error(`first-load JS is over the ${budgetKb} KB budget`);
  process.exit(1);
}
