// Builds the console into ../dist (or the directory given with --outdir): one
// JavaScript bundle, one stylesheet and the page. The build is deterministic: the
// same sources and package-lock.json give the same bytes (TestAssetsMatchSources).
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const i = process.argv.indexOf('--outdir');
const outdir = resolve(i > 0 ? process.argv[i + 1] : join(here, '..', 'dist'));
mkdirSync(outdir, { recursive: true });
for (const f of readdirSync(outdir)) rmSync(join(outdir, f), { recursive: true });

await esbuild.build({
  absWorkingDir: here,
  entryPoints: { app: 'src/main.jsx' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'eof',
  charset: 'utf8',
  outdir,
  logLevel: 'warning',
});
copyFileSync(join(here, 'src', 'index.html'), join(outdir, 'index.html'));
